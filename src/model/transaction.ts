import { AsyncLocalStorage } from 'node:async_hooks'
import { STATE } from './object-state.js'
import type { StoredObject } from './stored-object.js'

/**
 * The saves and removes collected by `db.transaction(fn)`, written in one atomic batch when fn
 * resolves. Objects created, assigned to, or read inside are saved too if they changed.
 */
export class Transaction {
  readonly db: object
  /** Saved explicitly, created, or assigned to inside the transaction. */
  readonly saves = new Set<StoredObject>()
  /** Read inside the transaction: written at commit only if they differ from their stored record. */
  readonly seen = new Set<StoredObject>()
  /** Objects without unsaved changes when first read inside: a failed transaction reverts their changes. */
  readonly seenClean = new Set<StoredObject>()
  readonly removes = new Set<StoredObject>()
  /** Update times an import gives instead of the commit's time, per object. */
  readonly times = new Map<StoredObject, Record<string, number>>()
  /** Objects created inside, by collection/oid, so reads inside see them before the commit. */
  readonly created = new Map<string, StoredObject>()

  constructor(db: object) {
    this.db = db
  }

  save(obj: StoredObject, times?: Record<string, number>): void {
    if (times !== undefined) this.times.set(obj, { ...this.times.get(obj), ...times })
    if (this.saves.has(obj)) return
    this.removes.delete(obj)
    this.seen.delete(obj)
    this.saves.add(obj)
    if (obj[STATE].record === undefined) this.created.set(obj[STATE].meta.collection + '/' + obj.oid, obj)
  }

  remove(obj: StoredObject): void {
    this.saves.delete(obj)
    this.seen.delete(obj)
    this.created.delete(obj[STATE].meta.collection + '/' + obj.oid)
    this.removes.add(obj)
  }

  see(obj: StoredObject): void {
    if (this.saves.has(obj) || this.removes.has(obj) || this.seen.has(obj)) return
    this.seen.add(obj)
    const state = obj[STATE]
    if (state.version === state.savedVersion) this.seenClean.add(obj)
  }

  /** The object created inside with that oid, unless removed again. */
  findCreated(collection: string, oid: string): StoredObject | undefined {
    return this.created.get(collection + '/' + oid)
  }
}

/** The transaction of the current async context, if any (for any database). */
export const currentTransaction = new AsyncLocalStorage<Transaction>()
