import type { Engine } from '../engine/engine.js'
import { toJsonValue } from '../engine/directory/json-codec.js'
import { unescapeString } from '../indexes/key-codec.js'
import { collectionClaimsPrefix, collectionEntriesPrefix, keysRecordPrefix } from '../indexes/layout.js'
import type { Database } from '../model/database.js'
import { checkRawRecord } from '../raw/raw-state.js'
import { RELATIONS_ROOT } from '../relations/layout.js'

export interface IndexStats {
  name: string
  entries: number
  /** Distinct keys. */
  keys: number
}

/**
 * Sizes are approximate: the bytes of each record's JSON encoding and of each entry's key as they
 * are streamed (engines do not say what one collection takes on disk), and raw data's recorded sizes.
 */
export interface CollectionStats {
  collection: string
  /** The registered model's class name, when the stats come from a database that has one. */
  model?: string
  objects: number
  rawObjects: number
  /** Many link entries owned by the collection's objects, and reverse entries pointing at them. */
  links: number
  reverseLinks: number
  indexes: IndexStats[]
  bytes: { records: number; indexes: number; links: number; raw: number; total: number }
}

export interface StoreStats {
  engine: string
  collections: CollectionStats[]
  totals: { objects: number; bytes: number }
  /** The database's live instances (absent for stats of an engine alone). */
  identity?: {
    /** Instances tracked by the identity map (alive, or collected and not swept yet). */
    tracked: number
    /** Instances held for unsaved changes. */
    pinned: number
    /** How many recently used instances the LRU keeps (`cache.max`). */
    lruMax: number
    /**
     * Objects asked for by oid since the database opened (`get()`, index views, queries): answered by
     * the LRU, by a live instance only a weak reference reached, or read from the store; `hitRate`
     * is the share answered from memory (0 when nothing was read).
     */
    reads: { lru: number; weak: number; store: number; hitRate: number }
  }
}

/** Stats of every collection holding records (and `also`), read from the engine alone. */
export async function engineStats(engine: Engine, also: Iterable<string> = [], models: Map<string, string> = new Map()): Promise<StoreStats> {
  const names = new Set<string>(also)
  for await (const c of engine.collections()) names.add(c)
  const collections: CollectionStats[] = []
  for (const collection of [...names].sort()) collections.push(await collectionStats(engine, collection, models.get(collection)))
  return {
    engine: engine.describe(),
    collections,
    totals: { objects: collections.reduce((n, c) => n + c.objects, 0), bytes: collections.reduce((n, c) => n + c.bytes.total, 0) },
  }
}

/** `db.stats()`: the engine's stats for every collection and registered model, and the identity map's sizes. */
export async function databaseStats(db: Database): Promise<StoreStats> {
  const models = new Map(db.models().map((m) => [m.collection, m.ctor.name]))
  const stats = await engineStats(db.engine, models.keys(), models)
  const { lru, weak, store } = db.identity.reads
  const all = lru + weak + store
  stats.identity = {
    tracked: db.identity.size,
    pinned: db.identity.pinnedCount,
    lruMax: db.options.cache?.max ?? 1000,
    reads: { lru, weak, store, hitRate: all === 0 ? 0 : (lru + weak) / all },
  }
  return stats
}

async function collectionStats(engine: Engine, collection: string, model: string | undefined): Promise<CollectionStats> {
  const bytes = { records: 0, indexes: 0, links: 0, raw: 0, total: 0 }
  let objects = 0
  let rawObjects = 0
  for await (const [id, record] of engine.records(collection)) {
    objects++
    bytes.records += Buffer.byteLength(id) + Buffer.byteLength(JSON.stringify(toJsonValue(record, id)))
    const raw = checkRawRecord((record as { raw?: unknown } | null)?.raw)
    if (raw !== undefined) {
      rawObjects++
      bytes.raw += raw.size
    }
  }
  // Damaged records are skipped by records() but still stored.
  objects = Math.max(objects, await engine.countRecords(collection))

  const indexes = new Map<string, IndexStats & { last?: string }>()
  const prefix = collectionEntriesPrefix(collection)
  for await (const key of engine.keys({ prefix })) {
    bytes.indexes += Buffer.byteLength(key)
    const rest = key.slice(prefix.length)
    const sep = rest.indexOf('\x00')
    const name = unescapeString(rest.slice(0, sep))
    const encoded = rest.slice(sep + 1, rest.lastIndexOf('\x00'))
    let s = indexes.get(name)
    if (s === undefined) indexes.set(name, (s = { name, entries: 0, keys: 0 }))
    s.entries++
    if (s.last !== encoded) s.keys++
    s.last = encoded
  }
  for (const derived of [keysRecordPrefix(collection), collectionClaimsPrefix(collection)]) {
    for await (const [key, value] of engine.entries({ prefix: derived })) bytes.indexes += Buffer.byteLength(key) + Buffer.byteLength(String(value))
  }

  let links = 0
  let reverseLinks = 0
  for await (const [key, value] of engine.entries({ prefix: `${RELATIONS_ROOT}m\x00${collection}\x00` })) {
    links++
    bytes.links += Buffer.byteLength(key) + Buffer.byteLength(JSON.stringify(value))
  }
  for await (const [key, value] of engine.entries({ prefix: `${RELATIONS_ROOT}r\x00${collection}\x00` })) {
    reverseLinks++
    bytes.links += Buffer.byteLength(key) + String(value).length
  }
  bytes.total = bytes.records + bytes.indexes + bytes.links + bytes.raw
  return {
    collection,
    ...(model === undefined ? {} : { model }),
    objects,
    rawObjects,
    links,
    reverseLinks,
    indexes: [...indexes.values()].map(({ name, entries, keys }) => ({ name, entries, keys })),
    bytes,
  }
}
