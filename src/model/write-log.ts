import type { WriteOp } from '../engine/engine.js'
import { entryCollection } from '../indexes/layout.js'

/** Past this many keys the log keeps only a floor: reads begun before it re-read what they found. */
const MAX_KEYS = 10_000

/**
 * Which objects were written while reads were in flight, so that a record a read brought back (an
 * iterator's snapshot, a `get` answered after a write) never becomes the live instance of an object
 * removed or changed since the read began. Costs nothing while no read is in flight.
 */
export class WriteLog {
  #seq = 0
  /** Per collection, the last change of its records or index entries (a number from `#changes`). */
  readonly #lastChanged = new Map<string, number>()
  #changes = 0
  #reads = 0
  /** Reads begun at or before this sequence number treat every record as possibly stale. */
  #floor = 0
  readonly #writtenAt = new Map<string, number>()
  /**
   * The batch being written, if any (writes are serialized): its ops, their record keys once a read
   * asks, and the reads waiting for it to finish.
   */
  #inflight: { ops: WriteOp[]; keys?: Set<string>; waiting?: Array<() => void> } | undefined

  /** A number that changes whenever the collection's records or index entries change (0: not since the database opened). */
  lastChanged(collection: string): number {
    return this.#lastChanged.get(collection) ?? 0
  }

  /** The collection's records or index entries changed outside a committed write (see `Database.changedOutside`). */
  rewritten(collection: string): void {
    this.#lastChanged.set(collection, ++this.#changes)
  }

  /** A read starts: returns the point it reads at. Pair with `endRead()`. */
  beginRead(): number {
    this.#reads++
    return this.#seq
  }

  endRead(): void {
    if (--this.#reads > 0) return
    this.#writtenAt.clear()
    this.#floor = 0
  }

  /**
   * A batch of these ops is about to be handed to the engine: until `finished()`, a read that brings
   * back one of their records may have it from before or after the batch.
   */
  writing(ops: WriteOp[]): void {
    this.#inflight = { ops }
  }

  /** The batch handed to the engine committed (`ok`) or failed. */
  finished(ok: boolean): void {
    const inflight = this.#inflight
    this.#inflight = undefined
    if (inflight === undefined) return
    if (ok) this.#committed(inflight)
    for (const wake of inflight.waiting ?? []) wake()
  }

  /** Resolves once no batch is being written. */
  async idle(): Promise<void> {
    const inflight = this.#inflight
    if (inflight !== undefined) await new Promise<void>((wake) => (inflight.waiting ??= []).push(wake))
  }

  #committed(batch: { ops: WriteOp[]; keys?: Set<string> }): void {
    const seq = ++this.#seq
    let last: string | undefined
    let change: number | undefined
    for (const op of batch.ops) {
      const collection = op.type === 'put' || op.type === 'del' ? entryCollection(op.key) : op.type === 'putRecord' || op.type === 'delRecord' ? op.collection : undefined
      if (collection === undefined || collection === last) continue
      this.#lastChanged.set(collection, (change ??= ++this.#changes))
      last = collection
    }
    if (this.#reads === 0) return
    for (const key of batch.keys ?? recordKeys(batch.ops)) this.#writtenAt.set(key, seq)
    if (this.#writtenAt.size > MAX_KEYS) {
      this.#writtenAt.clear()
      this.#floor = seq
    }
  }

  /**
   * Whether the batch being written writes (collection, id): until it finishes, a read may find the
   * record from before or after it. A synchronous read of any other record cannot race a write.
   */
  inflight(collection: string, id: string): boolean {
    const inflight = this.#inflight
    if (inflight === undefined) return false
    inflight.keys ??= recordKeys(inflight.ops)
    return inflight.keys.has(keyOf(collection, id))
  }

  /** Whether (collection, id) may have been written after a read begun at `since`. */
  stale(collection: string, id: string, since: number): boolean {
    if (this.inflight(collection, id)) return true
    if (since === this.#seq) return false
    if (since < this.#floor) return true
    return (this.#writtenAt.get(keyOf(collection, id)) ?? 0) > since
  }
}

const keyOf = (collection: string, id: string): string => collection + '\0' + id

/** The keys of the records these ops write or delete. */
function recordKeys(ops: WriteOp[]): Set<string> {
  const keys = new Set<string>()
  for (const op of ops) if (op.type === 'putRecord' || op.type === 'delRecord') keys.add(keyOf(op.collection, op.id))
  return keys
}
