import { ClosedError } from '../../errors.js'

/**
 * The read transactions and cursors that iterations hold open. LMDB frees them with the store, so
 * closing the engine ends each one first, and a read that goes on after that throws ClosedError
 * instead of touching freed memory.
 */
export class OpenReaders {
  readonly #open = new Set<() => void>()
  #closed = false

  constructor(private readonly describe: () => string) {}

  /** Registers what ends a reader; call the returned function when the read is over (idempotent). */
  add(end: () => void): () => void {
    this.assertOpen()
    let ended = false
    const once = () => {
      if (ended) return
      ended = true
      this.#open.delete(once)
      end()
    }
    this.#open.add(once)
    return once
  }

  /** Whether `endAll()` has run. */
  get closed(): boolean {
    return this.#closed
  }

  /** Throws ClosedError once `endAll()` has run. */
  assertOpen(): void {
    if (this.#closed) throw new ClosedError(`${this.describe()} was closed during the read`)
  }

  endAll(): void {
    this.#closed = true
    for (const end of [...this.#open]) end()
  }
}
