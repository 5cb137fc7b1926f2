import type { Database } from '../model/database.js'

/** Counts kept per database at most; past it the cache starts afresh. */
const MAX_COUNTS = 4096

/**
 * Exact counts of the index entries a condition selects (and of a collection's records), kept until
 * the next write commits: a query repeated with the same conditions plans without counting again.
 * Counts only steer the choice of plan; results never come from them.
 */
export class CountCache {
  readonly #db: Database
  #writes = -1
  readonly #counts = new Map<string, number>()

  constructor(db: Database) {
    this.#db = db
  }

  /** The point counts are read at: pass it back to `set`, which keeps nothing if a write committed since. */
  begin(): number {
    const writes = this.#db.committedWrites
    if (writes !== this.#writes) {
      this.#counts.clear()
      this.#writes = writes
    }
    return writes
  }

  get(key: string): number | undefined {
    return this.#counts.get(key)
  }

  set(key: string, n: number, since: number): void {
    if (since !== this.#db.committedWrites || since !== this.#writes) return
    if (this.#counts.size >= MAX_COUNTS) this.#counts.clear()
    this.#counts.set(key, n)
  }
}

const caches = new WeakMap<Database, CountCache>()

export function countCacheOf(db: Database): CountCache {
  let cache = caches.get(db)
  if (cache === undefined) caches.set(db, (cache = new CountCache(db)))
  return cache
}
