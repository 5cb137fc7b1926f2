import { AsyncLocalStorage } from 'node:async_hooks'
import { hasUnsavedChanges, STATE } from './object-state.js'
import type { StoredObject } from './stored-object.js'

/** Puts one member of a live instance back as it was before a transaction first changed it. */
export type MemberUndo = () => void

/**
 * The saves and removes collected by `db.transaction(fn)`, written in one atomic batch when fn
 * resolves. Objects created, assigned to, or read inside are saved too if they changed. The
 * members of stored objects changed inside belong to the transaction until it ends (see
 * `ownership.ts`): its commit writes them, its failure undoes exactly them.
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
  /** Objects created inside, by collection and oid, so reads inside see them before the commit. */
  readonly created = new Map<string, Map<string, StoredObject>>()
  /** How to undo each member this transaction owns, per object. */
  readonly undo = new Map<StoredObject, Map<string, MemberUndo>>()
  /** True once fn has finished: code still running in its async context no longer joins it. */
  done = false

  constructor(db: object) {
    this.db = db
  }

  save(obj: StoredObject, times?: Record<string, number>): void {
    if (times !== undefined) this.times.set(obj, { ...this.times.get(obj), ...times })
    if (this.saves.has(obj)) return
    this.removes.delete(obj)
    this.seen.delete(obj)
    this.saves.add(obj)
    const state = obj[STATE]
    if (state.record !== undefined) return
    let byOid = this.created.get(state.meta.collection)
    if (byOid === undefined) this.created.set(state.meta.collection, (byOid = new Map()))
    byOid.set(state.oid, obj)
  }

  remove(obj: StoredObject): void {
    this.saves.delete(obj)
    this.seen.delete(obj)
    this.#uncreate(obj)
    this.removes.add(obj)
  }

  /** An object enlisted when constructed whose creation failed (create, ensure, import): not written. */
  forget(obj: StoredObject): void {
    this.saves.delete(obj)
    this.times.delete(obj)
    this.#uncreate(obj)
  }

  #uncreate(obj: StoredObject): void {
    this.created.get(obj[STATE].meta.collection)?.delete(obj[STATE].oid)
  }

  see(obj: StoredObject): void {
    if (this.saves.has(obj) || this.removes.has(obj) || this.seen.has(obj)) return
    this.seen.add(obj)
    if (!hasUnsavedChanges(obj[STATE])) this.seenClean.add(obj)
  }

  /** The object created inside with that oid, unless removed again. */
  findCreated(collection: string, oid: string): StoredObject | undefined {
    return this.created.get(collection)?.get(oid)
  }
}

/** The transaction of the current async context, if any (for any database). */
export const currentTransaction = new AsyncLocalStorage<Transaction>()

/**
 * Transactions running in this process, of any database (AsyncLocalStorage is off while none runs),
 * and the one that owns changes made by synchronous code running now without AsyncLocalStorage
 * (`obj.update()` assigning its properties).
 */
export const running: { count: number; claimant: Transaction | undefined } = { count: 0, claimant: undefined }

/** The running transaction of `db` in the current async context, if any. */
export function transactionOf(db: unknown): Transaction | undefined {
  if (running.count === 0 || db === undefined) return undefined
  if (running.claimant !== undefined && running.claimant.db === db) return running.claimant
  const tx = currentTransaction.getStore()
  return tx !== undefined && tx.db === db && !tx.done ? tx : undefined
}
