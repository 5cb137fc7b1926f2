import type { Database } from '../model/database.js'

/** Keys records kept per database and generation; two generations are kept. */
const GENERATION = 32_768

/**
 * Keys records (an object's stored index keys) that queries read to check candidates, kept until a
 * write changes their collection's records or index entries: a query repeated over the same
 * candidates checks them without reading the store again (on LMDB a read costs 1.5-3 µs with its
 * checksum; a hit, about a tenth of that). Records are kept in two generations: when the newer one
 * is full, the older one is dropped, so the records used most recently stay (at most 65,536, about
 * 150 bytes each: 10 MB).
 */
export class KeysCache {
  readonly #db: Database
  /** Per collection, index rebuilds seen: part of the point records are kept at, as the last write is. */
  readonly #rebuilds = new Map<string, number>()
  /** Per point (collection, last write, rebuilds), oid -> keys record; in two generations. */
  #newer = new Map<string, Map<string, string>>()
  #older = new Map<string, Map<string, string>>()
  #newerSize = 0

  constructor(db: Database) {
    this.#db = db
  }

  /**
   * The point reads of the collection's keys records start at: records are kept under it, so a
   * write (or an index rebuild) since makes them unreachable, and the generations drop them.
   */
  begin(collection: string): string {
    return `${collection}\x00${this.#db.lastChanged(collection)}.${this.#rebuilds.get(collection) ?? 0}`
  }

  /** A kept keys record of an object, under `at` from `begin`. */
  get(at: string, oid: string): string | undefined {
    const keys = this.#newer.get(at)?.get(oid)
    if (keys !== undefined) return keys
    const older = this.#older.get(at)?.get(oid)
    if (older !== undefined) this.#add(at, oid, older)
    return older
  }

  /** Keeps keys records read from the store since `begin` returned `at`, unless a write committed since. */
  keep(collection: string, at: string, read: Array<[string, string]>): void {
    if (this.begin(collection) !== at) return
    for (const [oid, keys] of read) this.#add(at, oid, keys)
  }

  /** Makes a collection's kept records unreachable: its index entries were written without a committed write of the database (an index rebuilt). */
  forget(collection: string): void {
    this.#rebuilds.set(collection, (this.#rebuilds.get(collection) ?? 0) + 1)
  }

  #add(at: string, oid: string, keys: string): void {
    if (this.#newerSize >= GENERATION) {
      this.#older = this.#newer
      this.#newer = new Map()
      this.#newerSize = 0
    }
    let records = this.#newer.get(at)
    if (records === undefined) this.#newer.set(at, (records = new Map()))
    const size = records.size
    records.set(oid, keys)
    this.#newerSize += records.size - size
  }
}

const caches = new WeakMap<Database, KeysCache>()

export function keysCacheOf(db: Database): KeysCache {
  let cache = caches.get(db)
  if (cache === undefined) caches.set(db, (cache = new KeysCache(db)))
  return cache
}
