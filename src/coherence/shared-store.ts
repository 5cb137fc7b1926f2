import type { Engine } from '../engine/engine.js'

/** Records another process committed: by collection and id, or `all` when some may have gone unheard. */
export type RemoteCommit = { records: Array<[collection: string, id: string]> } | { records: 'all' }

/**
 * What an engine shared by several processes at once offers the database above it, so that no
 * write is lost between them and each process hears of the others' commits. The PostgresEngine is
 * one; another shared engine (several processes on one LMDB file, an Electron main and utility
 * process on one store) implements the same four methods and gets the same guarantees from
 * `Coherence` (coherence.ts).
 */
export interface SharedStore {
  /**
   * Waits for, then holds, the store's write lock, across processes, until `unlockWrites()` (or
   * the process's death). While it is held no other process writes through Stowage, so what this
   * process reads of the store before its batch is what the batch replaces. `getRecords` reads
   * through the lock's own connection meanwhile.
   */
  lockWrites(): Promise<void>
  /** Lets the write lock go (after the write's batch committed, or failed). */
  unlockWrites(): Promise<void>
  /**
   * Calls `listener` with the records of each batch another process committed, in commit order,
   * soon after the commit; with `all` after a lost connection, since commits may have gone unheard.
   * Returns what unsubscribes.
   */
  onRemoteCommit(listener: (commit: RemoteCommit) => void): () => void
  /** Resolves once every commit of another process that resolved before the call has been handed to the listeners. */
  catchUp(): Promise<void>
}

/** The shared store under `engine` (seen through wrappers such as EncryptedEngine), if it is one. */
export function sharedStoreOf(engine: Engine): SharedStore | undefined {
  let e: Engine | undefined = engine
  while (e !== undefined) {
    if (isShared(e)) return e
    e = (e as { inner?: Engine }).inner
  }
  return undefined
}

function isShared(e: object): e is SharedStore {
  const s = e as Partial<SharedStore>
  return typeof s.lockWrites === 'function' && typeof s.onRemoteCommit === 'function' && typeof s.catchUp === 'function'
}
