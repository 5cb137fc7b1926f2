import type { Database } from '../model/database.js'

/** Counts kept per database at most; past it the cache starts afresh. */
const MAX_COUNTS = 4096

/**
 * Counts of the index entries a condition selects (exact) and of a collection's records (exact, or
 * "at least n" for a count stopped at a cap), kept until a write changes the collection's records
 * or index entries: a query repeated with the same conditions plans without counting again. Counts only steer the choice of plan; results never
 * come from them. An index rebuild, or another process's commit once heard, counts as such a write
 * (`db.changedOutside`).
 */
export class CountCache {
  readonly #db: Database
  readonly #counts = new Map<string, { n: number; exact: boolean; at: number }>()

  constructor(db: Database) {
    this.#db = db
  }

  /** The point counts of `collection` are read at: pass it to `get` and `set`. */
  begin(collection: string): number {
    return this.#db.lastChanged(collection)
  }

  /** The count kept under `key`, if no write changed the collection since it was made. */
  get(key: string, at: number): { n: number; exact: boolean } | undefined {
    const kept = this.#counts.get(key)
    return kept !== undefined && kept.at === at ? kept : undefined
  }

  /** Keeps a count made at `at` (from `begin`), unless a write changed the collection since. */
  set(collection: string, key: string, n: number, exact: boolean, at: number): void {
    if (this.#db.lastChanged(collection) !== at) return
    if (this.#counts.size >= MAX_COUNTS) this.#counts.clear()
    this.#counts.set(key, { n, exact, at })
  }
}

const caches = new WeakMap<Database, CountCache>()

export function countCacheOf(db: Database): CountCache {
  let cache = caches.get(db)
  if (cache === undefined) caches.set(db, (cache = new CountCache(db)))
  return cache
}
