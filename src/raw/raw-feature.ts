import type { WriteOp } from '../engine/engine.js'
import { ArgumentError } from '../errors.js'
import type { Change } from '../model/change.js'
import type { Database, Feature } from '../model/database.js'
import type { StoredObject } from '../model/stored-object.js'
import { STATE } from '../model/object-state.js'
import { DATA_MEMBER, isForeign, META_MEMBER } from '../model/ownership.js'
import { deepEqual } from '../types/deep-equal.js'
import './raw-export.js'
import { claimed, declaredType, discardStaged } from './raw-staging.js'
import { checkRawRecord, copyMeta, existingRawState, noData, plainMeta, rawStateOf, storedRawOf, type RawRecord, type StagedData } from './raw-state.js'

/**
 * Raw data in the atomic write: commits the data each saved raw object staged before the write
 * (streaming never happens inside the write queue), stores its metadata in `record.raw`, and
 * deletes the data of removed objects in the same batch.
 */
export class RawFeature implements Feature {
  readonly #pending = new WeakMap<Change[], Array<[object, StagedData]>>()

  constructor(readonly db: Database) {}

  async prepare(changes: Change[], ops: WriteOp[]): Promise<void> {
    const seen = new Set<object>()
    const commits: Array<[object, StagedData]> = []
    // A transaction may list one object twice (read, then saved): its last change counts.
    for (let i = changes.length - 1; i >= 0; i--) {
      const c = changes[i]!
      if (c.meta.kind !== 'raw') continue
      const first = !seen.has(c.obj)
      seen.add(c.obj)
      if (c.removed) {
        if (first) ops.push({ type: 'delRaw', collection: c.meta.collection, id: c.oid })
        continue
      }
      const r = rawStateOf(c.obj)
      const state = c.obj[STATE]
      const name = `${c.meta.ctor.name} ${c.oid}`
      // Data or metadata a running transaction gave belongs to it: other writes keep what is stored.
      const ownData = !isForeign(state, DATA_MEMBER, c.writer)
      const previous = checkRawRecord(c.previous?.raw)
      const meta = isForeign(state, META_MEMBER, c.writer) ? copyMeta(previous?.meta) : r.meta
      const staged = ownData ? r.staged : undefined
      if (ownData && r.consumed !== undefined) throw new ArgumentError(r.consumed)
      if (ownData && r.source !== undefined) {
        throw new ArgumentError(`${name}: data given with setData() inside a transaction is stored by calling await obj.save() there (it is streamed before the transaction commits)`)
      }
      const data = staged ?? previous
      if (data === undefined) throw noData(state)
      const sniffed = staged !== undefined ? staged.sniffed : previous!.sniffed
      const raw: RawRecord = {
        meta: plainMeta(meta),
        size: staged?.staged.size ?? previous!.size,
        sha256: staged?.staged.sha256 ?? previous!.sha256,
      }
      const contentType = declaredType(meta) ?? sniffed
      if (contentType !== undefined) raw.contentType = contentType
      if (sniffed !== undefined) raw.sniffed = sniffed
      const record = c.record!
      record.raw = raw
      if (previous === undefined || !deepEqual(raw, previous)) {
        record.changed = Math.max(record.changed, Date.now())
        state.changedAt = record.changed
      }
      if (first && staged !== undefined) {
        ops.push({ type: 'putRaw', collection: c.meta.collection, id: c.oid, staged: staged.staged })
        commits.push([c.obj, staged])
      }
    }
    this.#pending.set(changes, commits)
  }

  reverted(obj: StoredObject, keep?: Set<string>): void {
    const r = existingRawState(obj)
    if (r === undefined) return
    if (!keep?.has(META_MEMBER)) r.meta = copyMeta(storedRawOf(obj[STATE])?.meta)
    if (keep?.has(DATA_MEMBER)) return
    r.source = undefined
    r.consumed = undefined
    void discardStaged(r)
  }

  hasChanges(obj: StoredObject): boolean {
    const r = existingRawState(obj)
    if (r === undefined) return false
    return r.source !== undefined || r.staged !== undefined || !deepEqual(plainMeta(r.meta), plainMeta(copyMeta(storedRawOf(obj[STATE])?.meta)))
  }

  committed(changes: Change[]): void {
    for (const [obj, data] of this.#pending.get(changes) ?? []) {
      const r = rawStateOf(obj)
      claimed(data)
      if (r.staged === data) r.staged = undefined
    }
    this.#pending.delete(changes)
    for (const c of changes) {
      if (c.meta.kind !== 'raw' || !c.removed) continue
      const r = rawStateOf(c.obj)
      r.source = undefined
      void discardStaged(r)
    }
  }
}
