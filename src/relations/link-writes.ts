import type { Engine, WriteOp } from '../engine/engine.js'
import type { ObjectRecord } from '../model/object-state.js'
import { clearedDiff, type ManyDiff, type OneDiff } from './link-diff.js'
import type { ManyResult } from './many-links.js'
import { linkKey, linkPrefix, reverseKey } from './layout.js'
import { INLINE_MAX, isManyInfo, isRef, linksOfRecord, sameRef, type ManyInfo, type Ref } from './stored-links.js'

/** An owner whose links a write changes. */
export interface OwnerRef {
  collection: string
  oid: string
}

/** A link to an object removed by the write, with its position when the reverse entry gave it. */
export interface GoneLink {
  ref: Ref
  position?: number
}

/** Why a link to an object is not written: it is removed in this write, or not stored at all. */
export type Unlinkable = (collection: string, oid: string, obj: unknown) => 'removed' | 'missing' | undefined

/**
 * Adds the entry ops that take a Many relation from `before` through `diff` and the removal of
 * `gone` (objects removed in this write), and returns the new summary. O(changes): only a clear
 * reads every link; small relations keep their oids in the summary.
 */
export async function writeMany(
  engine: Engine,
  owner: OwnerRef,
  relation: string,
  targetCollection: string,
  before: ManyInfo,
  diff: ManyDiff | undefined,
  gone: GoneLink[],
  unlinkable: Unlinkable,
  ops: WriteOp[],
): Promise<{ info: ManyInfo; result: ManyResult; missing: number }> {
  const result: ManyResult = { cleared: false, added: [], removed: [] }
  let { n, next } = before
  let order = before.o !== undefined ? [...before.o] : undefined
  const prefix = linkPrefix(owner.collection, owner.oid, relation)
  if (diff?.cleared) {
    for await (const [key, value] of engine.entries({ prefix })) {
      ops.push({ type: 'del', key })
      if (!isRef(value)) continue
      ops.push({ type: 'del', key: reverseKey(value[0], value[1], owner.collection, owner.oid, relation) })
    }
    result.cleared = true
    n = 0
    order = []
  } else {
    const candidates = new Map<string, GoneLink>()
    for (const oid of diff?.removes ?? []) candidates.set(targetCollection + '\x00' + oid, { ref: [targetCollection, oid] })
    for (const g of gone) candidates.set(g.ref[0] + '\x00' + g.ref[1], g)
    const links = [...candidates.values()]
    const keys = links.map(({ ref }) => reverseKey(ref[0], ref[1], owner.collection, owner.oid, relation))
    const unknown = links.flatMap((l, i) => (l.position === undefined ? [i] : []))
    const read = unknown.length > 0 ? await engine.getMany(unknown.map((i) => keys[i]!)) : []
    unknown.forEach((i, n) => (links[i] = { ref: links[i]!.ref, position: read[n] as number | undefined }))
    links.forEach(({ ref, position }, i) => {
      if (typeof position !== 'number') return
      ops.push({ type: 'del', key: linkKey(owner.collection, owner.oid, relation, position) })
      ops.push({ type: 'del', key: keys[i]! })
      n--
      result.removed.push(ref[1])
    })
  }
  const removed = new Set(result.removed)
  let missing = 0
  const adds = [...(diff?.adds ?? [])].filter(([oid, obj]) => {
    const why = unlinkable(targetCollection, oid, obj)
    if (why === 'missing') missing++
    return why === undefined
  })
  if (adds.length > 0) {
    let present: (oid: string) => boolean
    if (result.cleared) present = () => false
    else if (order !== undefined) {
      const set = new Set(order)
      present = (oid) => set.has(oid) && !removed.has(oid)
    } else {
      // Only adds whose absence was not known when they were made need a look (one read each).
      const unsure = adds.filter(([oid]) => diff!.unsure.has(oid))
      const stored = unsure.length > 0 ? await engine.getMany(unsure.map(([oid]) => reverseKey(targetCollection, oid, owner.collection, owner.oid, relation))) : []
      const set = new Set(unsure.filter((_, i) => typeof stored[i] === 'number').map(([oid]) => oid))
      present = (oid) => set.has(oid) && !removed.has(oid)
    }
    for (const [oid] of adds) {
      if (present(oid)) continue
      const position = next++
      ops.push({ type: 'put', key: linkKey(owner.collection, owner.oid, relation, position), value: [targetCollection, oid] })
      ops.push({ type: 'put', key: reverseKey(targetCollection, oid, owner.collection, owner.oid, relation), value: position, target: [targetCollection, oid] })
      n++
      result.added.push(oid)
    }
  }
  n = Math.max(0, n)
  if (order !== undefined) {
    if (removed.size > 0) order = order.filter((oid) => !removed.has(oid))
    order.push(...result.added)
  } else if (n <= INLINE_MAX) {
    // The relation shrank back to a size whose oids the record keeps: read them (at most a few more than INLINE_MAX).
    order = []
    for await (const [, value] of engine.entries({ prefix })) if (isRef(value) && !removed.has(value[1])) order.push(value[1])
    order.push(...result.added)
  }
  const info: ManyInfo = order !== undefined && n <= INLINE_MAX ? { n, next, o: order } : { n, next }
  return { info, result, missing }
}

/**
 * Adds the reverse-entry ops of a One relation going from `before` to its new link, and returns
 * it; `missing` when the link asked for was to an object not stored (kept as it was).
 */
export function writeOne(
  owner: OwnerRef,
  relation: string,
  before: Ref | undefined,
  diff: OneDiff | undefined,
  gone: GoneLink[],
  unlinkable: Unlinkable,
  ops: WriteOp[],
): { ref: Ref | undefined; missing: boolean } {
  let next = diff !== undefined ? diff.ref : before
  let missing = false
  if (next !== undefined) {
    const why = unlinkable(next[0], next[1], diff?.obj)
    if (why === 'removed') next = undefined
    else if (why === 'missing') {
      next = before
      missing = true
    }
  }
  if (next !== undefined && gone.some((g) => sameRef(g.ref, next))) next = undefined
  if (sameRef(before, next)) return { ref: before, missing }
  if (before !== undefined) ops.push({ type: 'del', key: reverseKey(before[0], before[1], owner.collection, owner.oid, relation) })
  if (next !== undefined) ops.push({ type: 'put', key: reverseKey(next[0], next[1], owner.collection, owner.oid, relation), value: null, target: next })
  return { ref: next, missing }
}

/** Adds the ops deleting every link of a removed owner (its reverse entries included). */
export async function dropOwnLinks(engine: Engine, owner: OwnerRef, record: ObjectRecord, ops: WriteOp[]): Promise<void> {
  const links = linksOfRecord(record)
  if (links === undefined) return
  for (const [relation, value] of Object.entries(links)) {
    if (isRef(value)) {
      ops.push({ type: 'del', key: reverseKey(value[0], value[1], owner.collection, owner.oid, relation) })
    } else if (isManyInfo(value) && value.n > 0) {
      await writeMany(engine, owner, relation, '', value, clearedDiff(), [], () => undefined, ops)
    }
  }
}
