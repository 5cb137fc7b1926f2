import { ClosedError, ConflictError, NotFoundError, NotRegisteredError } from '../errors.js'
import type { WriteOp } from '../engine/engine.js'
import { sharedStoreOf } from '../coherence/shared-store.js'
import type { Change } from './change.js'
import type { Database } from './database.js'
import { hasChosenOid, hasUnsavedChanges, STATE, type ObjectState } from './object-state.js'
import { foreignMembers, releaseAll, undoAll } from './ownership.js'
import { buildRecord, recordInstance, revertProperties, validateState, writeValues } from './records.js'
import type { StoredObject } from './stored-object.js'
import type { Transaction } from './transaction.js'
import { endJob, jobIsFull } from './weak-refs.js'
import type { WriteLog } from './write-log.js'

/** One object a write saves or removes. */
export interface WriteItem {
  obj: StoredObject
  remove: boolean
  /** Only written if it differs from its stored record (objects merely read in a transaction). */
  ifChanged?: boolean
  /** Update times to record instead of now (import). */
  times?: Record<string, number>
  /** The transaction writing it, if any. */
  tx?: Transaction
  /** Written, then let go: not registered as a live instance (a migration pass's objects, which nobody holds). */
  transient?: boolean
}

/**
 * The unit of work of a database: turns saves and removes into one atomic engine batch (with every
 * feature's ops), records the outcome on the live instances, and settles the instances a
 * transaction leaves behind (released after a commit, undone after a failure). The database runs
 * each call in its write queue.
 */
export class UnitOfWork {
  readonly #shared: boolean

  constructor(
    readonly db: Database,
    readonly log: WriteLog,
  ) {
    this.#shared = sharedStoreOf(db.engine) !== undefined
  }

  async write(items: WriteItem[]): Promise<void> {
    if (this.db.closed && items.length > 0) throw new ClosedError('The database is closed')
    const now = Date.now()
    const changes: Change[] = []
    const versions: number[] = []
    let transient: Set<StoredObject> | undefined
    const included = new Set<StoredObject>()
    const include = (item: WriteItem): void => {
      if (included.has(item.obj)) return // one change per object and write
      included.add(item.obj)
      if (item.transient) (transient ??= new Set()).add(item.obj)
      const state = item.obj[STATE]
      assertOwn(this.db, state)
      if (item.remove) {
        if (state.record === undefined) {
          state.removed = true
          return
        }
        changes.push({ meta: state.meta, oid: state.oid, obj: item.obj, removed: true, created: false, previous: state.record, writer: item.tx })
        versions.push(state.version)
        return
      }
      if (state.removed) {
        if (item.ifChanged) return // only read by the transaction
        throw new NotFoundError(`${state.meta.ctor.name} ${state.oid} was removed: it cannot be saved again (make a new object, or import its export)`)
      }
      // Members another running transaction changed are its to write: this write stores them as stored.
      const foreign = foreignMembers(state, item.tx)
      const values = writeValues(state, foreign)
      validateState(state, values)
      const built = buildRecord(state, now, item.times, values)
      if (item.ifChanged && !built.changed) return
      if (state.meta.versioning.version > 1) built.record.version = state.meta.versioning.version
      const created = state.record === undefined
      if (created) this.#assertNoOther(item.obj)
      const change: Change = { meta: state.meta, oid: state.oid, obj: item.obj, removed: false, created, record: built.record, previous: state.record, writer: item.tx }
      if (foreign !== undefined && state.meta.indexes.size > 0) change.indexSource = recordInstance(state.meta, state.oid, built.record)
      changes.push(change)
      versions.push(state.version)
    }
    for (const item of items) include(item)
    for (let grew = true; grew; ) {
      grew = false
      for (const feature of this.db.features) {
        for (const obj of feature.cascade?.(changes) ?? []) {
          if (included.has(obj)) continue
          include({ obj, remove: false, tx: items[0]?.tx })
          grew = true
        }
      }
    }
    if (changes.length === 0) return
    // On a store shared by several processes, the coherence feature checks this under the records' locks.
    const chosen = this.#shared ? [] : changes.filter((c) => c.created && hasChosenOid(c.obj[STATE]))
    const taken = await Promise.all(chosen.map((c) => this.db.engine.hasRecord(c.meta.collection, c.oid)))
    const clash = chosen.find((_, i) => taken[i])
    if (clash !== undefined) throw createdElsewhere(clash.obj)

    // Index functions may read update times: show them the ones being written, undo on failure.
    const undo = changes.map((c) => {
      const state = c.obj[STATE]
      const before = { updates: state.updates, changedAt: state.changedAt }
      if (c.record !== undefined) {
        state.updates = c.record.updates // built fresh for this write; never mutated in place
        state.changedAt = c.record.changed
      }
      return before
    })
    let ops: WriteOp[]
    let prepared = false
    try {
      ops = changes.map((c) =>
        c.removed
          ? { type: 'delRecord', collection: c.meta.collection, id: c.oid }
          : { type: 'putRecord', collection: c.meta.collection, id: c.oid, value: c.record, fresh: c.created },
      )
      for (const feature of this.db.features) await feature.prepare(changes, ops)
      prepared = true
      this.log.writing(ops)
      await this.db.engine.batch(ops)
    } catch (err) {
      this.log.finished(false)
      for (const feature of this.db.features) await feature.aborted?.()
      changes.forEach((c, i) => Object.assign(c.obj[STATE], undo[i]))
      let error = err
      if (prepared) for (const feature of this.db.features) if (feature.explain) error = await feature.explain(changes, error)
      throw error
    }
    this.log.finished(true)
    changes.forEach((c, i) => {
      const state = c.obj[STATE]
      if (c.writer !== undefined) releaseAll(state, c.writer)
      if (c.removed) {
        state.removed = true
        state.record = undefined
        this.db.identity.delete(c.meta.collection, c.oid)
      } else {
        state.record = c.record
        state.removed = false
        state.savedVersion = versions[i]!
        state.db = this.db
        if (transient?.has(c.obj)) return
        this.db.identity.add(c.meta.collection, c.oid, c.obj)
        if (!hasUnsavedChanges(state)) this.db.identity.unpin(c.obj)
      }
    })
    for (const feature of this.db.features) feature.committed?.(changes)
    if (jobIsFull()) await endJob()
  }

  /** A new object's oid must not be another live instance's (chosen oids: ensure, import). */
  #assertNoOther(obj: StoredObject): void {
    const state = obj[STATE]
    const live = this.db.identity.get(state.meta.collection, state.oid)
    if (live !== undefined && live !== obj) throw createdElsewhere(obj)
  }

  /** After a commit: members the transaction still owns (an object it reverted, so not written) are free again. */
  release(tx: Transaction): void {
    for (const obj of tx.undo.keys()) {
      if (obj[STATE].owners === undefined) continue
      releaseAll(obj[STATE], tx)
      this.settle(obj)
    }
    tx.undo.clear()
  }

  /**
   * After a failed transaction: every member it still owns goes back as it was before it, and
   * objects read inside that were clean then lose what was changed in place since. Objects created
   * inside stay as they are, unsaved. Call it from the write queue, so no write of them is in flight.
   */
  undo(tx: Transaction): void {
    const touched = new Set(undoAll(tx))
    for (const obj of tx.seenClean) {
      if (!tx.seen.has(obj)) continue
      revertProperties(obj[STATE], foreignMembers(obj[STATE], undefined)) // every member a transaction still owns stays
      touched.add(obj)
    }
    for (const obj of touched) this.settle(obj)
  }

  /** After changes were undone: pinned while the object still differs from its record, else clean. */
  settle(obj: StoredObject): void {
    const state = obj[STATE]
    if (state.record === undefined || state.removed) return
    if (state.owners !== undefined || buildRecord(state, 0).changed || this.db.features.some((f) => f.hasChanges?.(obj))) {
      if (state.version === state.savedVersion) state.version++
      this.db.identity.pin(obj)
    } else {
      state.savedVersion = state.version
      this.db.identity.unpin(obj)
    }
  }
}

/** Refuses an object of a model this database has not registered, or an instance of a closed database. */
export function assertOwn(db: Database, state: ObjectState): void {
  if (state.meta.db !== db) throw new NotRegisteredError(`${state.meta.ctor.name} ${state.oid} belongs to a model not registered in this database`)
  if (state.db !== undefined && state.db !== db) {
    throw new ClosedError(
      `${state.meta.ctor.name} ${state.oid} is an instance of a database that was closed: it may hold old values; get it again (await ${state.meta.ctor.name}.get('${state.oid}')) and change that one`,
    )
  }
}

/** A new object whose oid another write took first (chosen oids: ensure, import). */
export function createdElsewhere(obj: StoredObject): ConflictError {
  const state = obj[STATE]
  return new ConflictError(
    `${state.meta.ctor.name} ${state.oid} was created by another write (e.g. a concurrent transaction) after this instance was made; nothing of this write was stored: get the stored one (await ${state.meta.ctor.name}.get('${state.oid}')) and run the change again`,
  )
}
