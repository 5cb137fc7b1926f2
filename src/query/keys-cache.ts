import type { Database } from '../model/database.js'

/** Keys records kept per database at most; past it the cache starts afresh. */
const MAX_KEYS_RECORDS = 16_384

/**
 * Keys records (an object's stored index keys) that queries read to check candidates, kept until a
 * write changes their collection's records or index entries: a query repeated over the same
 * candidates checks them without reading the store again (on LMDB a read costs about 2-3 µs with
 * its checksum; a hit, about a tenth of that). About 200 bytes per record kept.
 */
export class KeysCache {
  readonly #db: Database
  /** collection -> (the point its records were kept at, oid -> keys record). */
  readonly #kept = new Map<string, { at: number; records: Map<string, string> }>()
  #size = 0

  constructor(db: Database) {
    this.#db = db
  }

  /** The kept records of a collection, as of now (emptied if a write changed it since they were kept). */
  of(collection: string): Map<string, string> {
    const at = this.#db.lastChanged(collection)
    let kept = this.#kept.get(collection)
    if (kept === undefined || kept.at !== at) {
      if (kept !== undefined) this.#size -= kept.records.size
      this.#kept.set(collection, (kept = { at, records: new Map() }))
    }
    return kept.records
  }

  /** Drops a collection's records (its index entries were rewritten without a committed write of the database: an index rebuilt). */
  forget(collection: string): void {
    const kept = this.#kept.get(collection)
    if (kept === undefined) return
    this.#size -= kept.records.size
    this.#kept.delete(collection)
  }

  /** Keeps records read from the store while `records` (from `of`) was current. */
  keep(collection: string, records: Map<string, string>, read: Array<[string, string]>): void {
    if (this.of(collection) !== records) return // a write committed during the read
    if (this.#size + read.length > MAX_KEYS_RECORDS) {
      for (const kept of this.#kept.values()) kept.records.clear()
      this.#size = 0
    }
    for (const [oid, keys] of read) records.set(oid, keys)
    this.#size += read.length
  }
}

const caches = new WeakMap<Database, KeysCache>()

export function keysCacheOf(db: Database): KeysCache {
  let cache = caches.get(db)
  if (cache === undefined) caches.set(db, (cache = new KeysCache(db)))
  return cache
}
