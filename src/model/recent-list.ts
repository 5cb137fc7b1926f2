import { STATE } from './object-state.js'
import type { StoredObject } from './stored-object.js'

/**
 * The `max` most recently used instances, in a list linked through their states (`newer`, `older`):
 * a use moves an instance to the front without hashing it (a Set in use order cost about 0.25 µs
 * per read more); past `max`, the least recently used one is let go.
 */
export class RecentList {
  readonly #max: number
  readonly #evicted: (obj: StoredObject) => void
  #newest: StoredObject | undefined
  #oldest: StoredObject | undefined
  #size = 0

  constructor(max: number, evicted: (obj: StoredObject) => void) {
    this.#max = max
    this.#evicted = evicted
  }

  /** Marks obj most recently used. */
  use(obj: StoredObject): void {
    const newest = this.#newest
    if (obj === newest) return
    const state = obj[STATE]
    if (state.older !== undefined || state.newer !== undefined) this.#unlink(obj)
    else this.#size++
    state.older = newest
    if (newest !== undefined) newest[STATE].newer = obj
    else this.#oldest = obj
    this.#newest = obj
    if (this.#size > this.#max) {
      const oldest = this.#oldest!
      this.#unlink(oldest)
      this.#size--
      this.#evicted(oldest)
    }
  }

  delete(obj: StoredObject): void {
    const state = obj[STATE]
    if (state.older === undefined && state.newer === undefined && this.#newest !== obj) return
    this.#unlink(obj)
    this.#size--
  }

  clear(): void {
    for (let obj = this.#newest; obj !== undefined; ) {
      const state = obj[STATE]
      obj = state.older
      state.older = state.newer = undefined
    }
    this.#newest = this.#oldest = undefined
    this.#size = 0
  }

  #unlink(obj: StoredObject): void {
    const state = obj[STATE]
    const { newer, older } = state
    if (newer !== undefined) newer[STATE].older = older
    else this.#newest = older
    if (older !== undefined) older[STATE].newer = newer
    else this.#oldest = newer
    state.newer = state.older = undefined
  }
}
