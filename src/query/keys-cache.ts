import type { Database } from '../model/database.js'

/** Keys records kept per database at most. */
const MAX_KEYS_RECORDS = 65_536

/**
 * Keys records (an object's stored index keys) that queries read to check candidates not in memory,
 * kept until a write changes their collection's records or index entries: a query repeated over
 * the same candidates checks them without reading the store again (on LMDB a read costs 1.5-3 µs
 * with its checksum; a hit, about a tenth of that). At most 65,536 are kept (about 150 bytes each:
 * 10 MB); once full, records read are not kept until a write empties the collection's, so a working
 * set larger than that costs a lookup per read, not a churn of insertions and evictions.
 */
export class KeysCache {
  readonly #db: Database
  /** Per collection, the point its records were kept at and the records (oid -> keys record). */
  readonly #kept = new Map<string, { at: number; records: Map<string, string> }>()
  #size = 0

  constructor(db: Database) {
    this.#db = db
  }

  /** The collection's kept keys records as of now (emptied first if a write or an index rebuild made them stale), and the point they are at. */
  current(collection: string): { at: number; records: Map<string, string> } {
    const at = this.#db.lastChanged(collection)
    let kept = this.#kept.get(collection)
    if (kept === undefined || kept.at !== at) {
      if (kept !== undefined) this.#size -= kept.records.size
      this.#kept.set(collection, (kept = { at, records: new Map() }))
    }
    return kept
  }

  /** Keeps keys records read from the store since `current` gave `kept`, unless a write committed since or the cache is full. */
  keep(collection: string, kept: { at: number; records: Map<string, string> }, read: Array<[string, string]>): void {
    if (this.current(collection) !== kept) return
    for (const [oid, keys] of read) {
      if (this.#size >= MAX_KEYS_RECORDS) return
      const size = kept.records.size
      kept.records.set(oid, keys)
      this.#size += kept.records.size - size
    }
  }
}

const caches = new WeakMap<Database, KeysCache>()

export function keysCacheOf(db: Database): KeysCache {
  let cache = caches.get(db)
  if (cache === undefined) caches.set(db, (cache = new KeysCache(db)))
  return cache
}
