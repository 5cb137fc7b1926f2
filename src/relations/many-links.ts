import type { RelationMeta } from '../model/meta.js'
import { STATE } from '../model/object-state.js'
import type { StoredObject } from '../model/stored-object.js'
import { clearedDiff, composeDiffs, copyDiff, emptyDiff, isEmptyDiff, type ManyDiff } from './link-diff.js'
import { syncPending, trackPending, untrackPending } from './pending-registry.js'
import { resolveRelation } from './relation-target.js'
import { manyInfo, type ManyInfo } from './stored-links.js'

/** What a committed write did to a Many relation. */
export interface ManyResult {
  cleared: boolean
  added: string[]
  removed: string[]
}

/**
 * The state of one Many relation of one instance. The stored links are entries, read lazily; the
 * owner's record gives their number and, for small relations, their oids (`members`). Unsaved
 * changes are two diffs: the one being written (`inflight`) and the one made since (`pending`).
 */
export class ManyLinks {
  readonly kind = 'many'
  readonly owner: StoredObject
  readonly relation: RelationMeta
  inflight: ManyDiff | undefined
  pending: ManyDiff = emptyDiff()
  /** Changes whenever the links as seen by the app may have changed (page cursors check it). */
  generation = 0
  /** The stored summary `#members` describes. */
  #info: ManyInfo | undefined
  /** Oids of the stored links in link order, when known. */
  #members: Set<string> | undefined

  constructor(owner: StoredObject, relation: RelationMeta) {
    this.owner = owner
    this.relation = relation
  }

  info(): ManyInfo {
    return manyInfo(this.owner[STATE].record, this.relation.name)
  }

  /** The oids of the stored links in order, or undefined while not read (large relations). */
  members(): Set<string> | undefined {
    const info = this.info()
    if (this.#info !== info) {
      this.#info = info
      this.#members = info.o !== undefined ? new Set(info.o) : undefined
    }
    return this.#members
  }

  /** Records the stored oids read from the entries (`load()`), if the store did not change meanwhile. */
  setMembers(info: ManyInfo, oids: string[]): void {
    if (this.info() !== info) return
    this.#info = info
    this.#members = new Set(oids)
  }

  layers(): ManyDiff[] {
    return this.inflight === undefined ? [this.pending] : [this.inflight, this.pending]
  }

  /** Whether the link to oid is there as the app sees it; undefined when unknown without reading. */
  has(oid: string, layers = this.layers()): boolean | undefined {
    for (let i = layers.length - 1; i >= 0; i--) {
      const layer = layers[i]!
      if (layer.adds.has(oid)) return true
      if (layer.cleared || layer.removes.has(oid)) return false
    }
    return this.members()?.has(oid)
  }

  /** The number of links as the app sees it (exact unless `exact()` is false). */
  size(): number {
    let n = this.info().n
    for (const layer of this.layers()) {
      if (layer.cleared) n = 0
      n += layer.adds.size - layer.removes.size
    }
    return n
  }

  /** Whether has() and size() are exact: the stored oids are known, or unsaved changes do not depend on them. */
  exact(): boolean {
    if (this.members() !== undefined) return true
    return this.layers().every((l) => l.cleared || (l.adds.size === 0 && l.removes.size === 0))
  }

  /** Returns whether the links changed. */
  add(oid: string, obj: StoredObject | undefined): boolean {
    const top = this.pending
    if (top.adds.has(oid)) {
      if (obj !== undefined) top.adds.set(oid, obj)
      return false
    }
    if (top.removes.has(oid)) {
      // Removed, then added again: it leaves its place and goes to the end, as in a list.
      top.adds.set(oid, obj)
      return this.#changed()
    }
    const below = top.cleared ? false : this.has(oid, this.inflight ? [this.inflight] : [])
    if (below === true) return false
    if (below === undefined) top.unsure.add(oid)
    top.adds.set(oid, obj)
    return this.#changed()
  }

  remove(oid: string): boolean {
    const top = this.pending
    if (top.adds.delete(oid)) return this.#changed()
    if (top.cleared || top.removes.has(oid)) return false
    if (this.has(oid, this.inflight ? [this.inflight] : []) === false) return false
    top.removes.add(oid)
    return this.#changed()
  }

  clear(): boolean {
    if (this.exact() && this.size() === 0) return false
    this.pending = clearedDiff()
    return this.#changed()
  }

  /** Replaces the unsaved changes with a whole new list (import). */
  replaceAll(oids: Array<[string, StoredObject | undefined]>, time?: number): void {
    this.pending = clearedDiff(new Map(oids), time)
    this.#changed()
  }

  #changed(): boolean {
    this.generation++
    trackPending(this)
    return true
  }

  /** Moves the pending diff into the write starting now; a diff left in flight failed: it is pending again. */
  snapshot(): ManyDiff | undefined {
    if (this.inflight !== undefined) {
      this.pending = composeDiffs(this.inflight, this.pending)
      this.inflight = undefined
    }
    if (isEmptyDiff(this.pending)) return undefined
    this.inflight = this.pending
    this.pending = emptyDiff()
    return this.inflight
  }

  /**
   * A write changed the stored links (the owner's record is already the new one): keep the known
   * oids current, and forget the diff it carried.
   */
  committed(previous: ManyInfo, result: ManyResult, carried: boolean): void {
    const known = this.#info === previous ? this.#members : undefined
    const info = this.info()
    this.#info = info
    if (info.o !== undefined) this.#members = new Set(info.o)
    else if (known !== undefined) {
      if (result.cleared) known.clear()
      for (const oid of result.removed) known.delete(oid)
      for (const oid of result.added) known.add(oid)
      this.#members = known
    } else this.#members = undefined
    if (carried) this.inflight = undefined
    this.generation++
    if (!this.hasChanges()) untrackPending(this)
  }

  dropTarget(collection: string, oid: string): void {
    if (collection !== resolveRelation(this.owner[STATE].meta, this.relation).target.collection) return
    for (const layer of this.layers()) {
      if (layer.adds.delete(oid)) this.generation++
      layer.removes.delete(oid)
    }
  }

  /** How to put the unsaved changes back as they are now (a transaction that fails undoes its own changes). */
  undoPoint(): () => void {
    const inflight = this.inflight
    const pending = copyDiff(this.pending)
    return () => {
      // A diff left in flight by a failed write of the transaction is part of what it undoes.
      if (this.inflight !== inflight) this.inflight = undefined
      this.pending = copyDiff(pending)
      this.generation++
      syncPending(this)
    }
  }

  reset(): void {
    this.inflight = undefined
    this.pending = emptyDiff()
    this.generation++
    untrackPending(this)
  }

  hasChanges(): boolean {
    return this.inflight !== undefined || !isEmptyDiff(this.pending)
  }
}
