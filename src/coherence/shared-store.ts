import type { Engine } from '../engine/engine.js'

/** Records another process committed: by collection and id, or `all` when some may have gone unheard. */
export type RemoteCommit = { records: Array<[collection: string, id: string]> } | { records: 'all' }

/** What one write must hold, across processes, from before it reads the store until its batch commits. */
export interface WriteScope {
  /**
   * The stored records the write replaces or removes (by collection and id): no other process
   * writes them meanwhile, so what the write reads of them is what its batch replaces.
   */
  records: Array<[collection: string, id: string]>
  /**
   * The write may rewrite records it cannot name beforehand (a removal drops the links other
   * objects hold to it): no other process writes records meanwhile.
   */
  exclusive: boolean
}

/**
 * What an engine shared by several processes at once offers the database above it, so that no
 * write is lost between them and each process hears of the others' commits. The PostgresEngine is
 * one; another shared engine (several processes on one LMDB file, an Electron main and utility
 * process on one store) implements the same methods, and the `unique` and `target` of entry puts
 * (engine.ts, EntryOp), and gets the same guarantees from `Coherence` (coherence.ts):
 *
 * - `lockWrites(scope)` before the write reads anything, `unlockWrites()` after its batch (committed
 *   or failed). Writes whose scopes share no record (creates with generated ids, updates of
 *   different objects) may run at once in different processes; one holding `exclusive` runs while
 *   no other holds records (a create with a generated id holds none, and cannot be affected).
 * - `batch(ops)` is atomic, and refuses with `ConstraintError`, writing nothing, a batch holding a
 *   put marked `unique` (an entry of a unique index the write claims) if, once written, its key up to
 *   the last NUL would have another entry than those the batch writes: the check and the write are
 *   one step across processes (two processes claiming one key: one of them is refused). Likewise
 *   it refuses with `RelationError` a batch holding a put with a `target` (the reverse entry of a
 *   link it makes) whose target is no longer stored and not written by the batch, checked while no
 *   `exclusive` write can commit.
 */
export interface SharedStore {
  /**
   * Waits for, then holds, what `scope` names, across processes, until the write's batch commits or
   * `unlockWrites()` (or the process dies). Meanwhile `getRecords` of the scope's records reads
   * them as they are under the lock, and the write's batch (the one writing every record the
   * scope names) commits under it; other batches made meanwhile (an index built on the way) commit
   * on their own. A scope of no record and not `exclusive` holds nothing.
   */
  lockWrites(scope: WriteScope): Promise<void>
  /** Lets the write's locks go (after its batch committed, or failed). */
  unlockWrites(): Promise<void>
  /**
   * Runs `fn` (an index rebuild: it reads every object of a collection and rewrites its index
   * entries) while no other process commits a batch; this process's batches go on.
   */
  exclusively<T>(fn: () => Promise<T>): Promise<T>
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
  return typeof s.lockWrites === 'function' && typeof s.unlockWrites === 'function' && typeof s.onRemoteCommit === 'function' && typeof s.catchUp === 'function'
}
