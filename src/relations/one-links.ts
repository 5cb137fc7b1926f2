import type { RelationMeta } from '../model/meta.js'
import { STATE } from '../model/object-state.js'
import type { StoredObject } from '../model/stored-object.js'
import type { OneDiff } from './link-diff.js'
import { syncPending, trackPending, untrackPending } from './pending-registry.js'
import { oneRef, sameRef, type Ref } from './stored-links.js'

/**
 * The state of one One relation of one instance: the stored link (from the owner's record), the
 * change being written (`inflight`) and the change made since (`pending`).
 */
export class OneLinks {
  readonly kind = 'one'
  readonly owner: StoredObject
  readonly relation: RelationMeta
  inflight: OneDiff | undefined
  pending: OneDiff | undefined

  constructor(owner: StoredObject, relation: RelationMeta) {
    this.owner = owner
    this.relation = relation
  }

  stored(): Ref | undefined {
    return oneRef(this.owner[STATE].record, this.relation.name)
  }

  /** The link as the app sees it, with the object when the change holds one. */
  view(): OneDiff {
    return this.pending ?? this.inflight ?? { ref: this.stored() }
  }

  /** Returns whether the link changed. */
  set(ref: Ref | undefined, obj: StoredObject | undefined, time?: number): boolean {
    const current = this.view()
    if (sameRef(current.ref, ref) && time === undefined) {
      // The same link: keep it, but hold the object (an unsaved target is saved with the owner).
      if (obj !== undefined && this.pending !== undefined) this.pending.obj = obj
      return false
    }
    this.pending = { ref, obj, time }
    trackPending(this)
    return true
  }

  /** Moves the pending change into the write starting now; a change left in flight failed: it is pending again. */
  snapshot(): OneDiff | undefined {
    if (this.inflight !== undefined) {
      this.pending ??= this.inflight
      this.inflight = undefined
    }
    if (this.pending === undefined) return undefined
    this.inflight = this.pending
    this.pending = undefined
    return this.inflight
  }

  /** The write carrying the snapshot committed: the owner's record now holds the link. */
  committed(): void {
    this.inflight = undefined
    if (this.pending === undefined) untrackPending(this)
  }

  /** The object `oid` of `collection` was removed: no link to it remains. */
  dropTarget(collection: string, oid: string): void {
    for (const layer of ['inflight', 'pending'] as const) {
      const d = this[layer]
      if (d?.ref !== undefined && d.ref[0] === collection && d.ref[1] === oid) this[layer] = { ref: undefined, time: d.time }
    }
  }

  /** How to put the unsaved change back as it is now (a transaction that fails undoes its own changes). */
  undoPoint(): () => void {
    const inflight = this.inflight
    const pending = this.pending === undefined ? undefined : { ...this.pending }
    return () => {
      // A change left in flight by a failed write of the transaction is part of what it undoes.
      if (this.inflight !== inflight) this.inflight = undefined
      this.pending = pending === undefined ? undefined : { ...pending }
      syncPending(this)
    }
  }

  /** The owner was removed. */
  reset(): void {
    this.inflight = this.pending = undefined
    untrackPending(this)
  }

  hasChanges(): boolean {
    return this.inflight !== undefined || this.pending !== undefined
  }
}
