import type { Engine, ExternalChange, WriteOp } from '../engine/engine.js'
import type { Database } from '../model/database.js'
import type { IndexMeta, ModelMeta } from '../model/meta.js'
import { hasUnsavedChanges, newState, STATE } from '../model/object-state.js'
import { applyRecord } from '../model/records.js'
import type { StoredObject } from '../model/stored-object.js'
import { indexKeysOf } from './index-keys.js'
import { keysRecordOf, readKeysRecord, writeKeysRecord, type IndexUpdate } from './index-writes.js'
import { unescapeString } from './key-codec.js'
import { deletePrefix } from '../engine/pages.js'
import { claimPrefix, entryPrefix, externalPrefix, keysRecordKey, keysRecordPrefix, signatureKey, signaturePrefix, signatureOf, type KeysRecord } from './layout.js'
import { keepsClaims, pushIndexWrites } from './unique-claims.js'

/** Objects read and entries written per batch while rebuilding. */
const CHUNK = 256

/** The stored signature of every index that has entries for the collection. */
export async function storedSignatures(engine: Engine, collection: string): Promise<Map<string, string>> {
  const prefix = signaturePrefix(collection)
  const signatures = new Map<string, string>()
  for await (const [key, value] of engine.entries({ prefix })) signatures.set(unescapeString(key.slice(prefix.length)), String(value))
  return signatures
}

/**
 * Rebuilds the `changed` indexes of a model from its stored objects and deletes every trace of the
 * `removed` ones. Signatures are deleted first and written last, so a rebuild cut short (a crash,
 * a failing index function) is simply done again next time.
 */
export async function rebuildIndexes(db: Database, meta: ModelMeta, changed: IndexMeta[], removed: string[]): Promise<void> {
  const { engine } = db
  const { collection } = meta
  const names = [...changed.map((i) => i.name), ...removed]
  await engine.batch(names.map((name) => ({ type: 'del', key: signatureKey(collection, name) })))
  for (const name of names) {
    await deletePrefix(engine, entryPrefix(collection, name))
    await deletePrefix(engine, claimPrefix(collection, name))
  }

  const drop = (record: KeysRecord): KeysRecord => {
    const kept: KeysRecord = {}
    for (const [name, keys] of Object.entries(record)) if (!names.includes(name)) kept[name] = keys
    return kept
  }
  if (changed.length > 0) {
    const total = await engine.countRecords(collection)
    let done = 0
    for await (const chunk of pages(engine.records.bind(engine, collection), (entry) => entry[0])) {
      const stored = await engine.getMany(chunk.map(([oid]) => keysRecordKey(collection, oid)))
      const updates: IndexUpdate[] = chunk.map(([oid, record], i) => {
        const kept = drop(readKeysRecord(stored[i]))
        const obj = storedInstance(db, meta, oid, record)
        const next = { ...kept }
        for (const index of changed) {
          const keys = indexKeysOf(meta, index, oid, obj)
          if (keys.length > 0) next[index.name] = keys
        }
        return { meta, oid, old: kept, next }
      })
      // No unique check: keys that several stored objects already hold are indexed all the same
      // (IndexView.duplicates() lists them); only new duplicates are refused, when saved.
      const ops: WriteOp[] = []
      // The entries of the rebuilt indexes are gone: write all of them, and every keys record.
      await pushIndexWrites(engine, updates, ops, true)
      await engine.batch(ops)
      done += chunk.length
      for (const index of changed) db.options.onIndexProgress?.({ model: meta.ctor.name, index: index.name, done, total: Math.max(total, done) })
    }
    await forgetDamaged(engine, collection, drop)
  } else if (removed.length > 0) {
    for await (const chunk of pages(engine.entries.bind(engine), (entry) => entry[0], { prefix: keysRecordPrefix(collection) })) {
      const ops: WriteOp[] = []
      for (const [key, value] of chunk) {
        const record = readKeysRecord(value)
        const kept = drop(record)
        if (Object.keys(kept).length === Object.keys(record).length) continue
        ops.push(Object.keys(kept).length === 0 ? { type: 'del', key } : { type: 'put', key, value: writeKeysRecord(kept) })
      }
      await engine.batch(ops)
    }
  }
  await engine.batch(changed.map((index) => ({ type: 'put', key: signatureKey(collection, index.name), value: signatureOf(index, keepsClaims(engine)) })))
  db.changedOutside(collection)
}

/**
 * Builds the claims of a unique index from its entries, for a store written before claims existed
 * (its entries are exact: no object is read), then stores the index's signature with the claims
 * mark. Claims a build cut short left are deleted first; until the signature is written, the next
 * open builds them again.
 */
export async function buildClaims(engine: Engine, meta: ModelMeta, index: IndexMeta): Promise<void> {
  const { collection } = meta
  const claims = claimPrefix(collection, index.name)
  await deletePrefix(engine, claims)
  const entries = entryPrefix(collection, index.name)
  let ops: WriteOp[] = []
  let key: string | undefined
  let holders: string[] = []
  const claim = () => {
    if (key !== undefined) ops.push({ type: 'put', key: claims + key, value: holders.join('\x00') })
  }
  // Entries come in key order, so a key's holders are together (possibly across two pages).
  for await (const page of pages(engine.keys.bind(engine), (k) => k, { prefix: entries })) {
    for (const entry of page) {
      const nul = entry.lastIndexOf('\x00')
      const k = entry.slice(entries.length, nul)
      if (k !== key) {
        claim()
        key = k
        holders = []
      }
      holders.push(entry.slice(nul + 1))
    }
    if (ops.length >= CHUNK) {
      await engine.batch(ops)
      ops = []
    }
  }
  claim()
  ops.push({ type: 'put', key: signatureKey(collection, index.name), value: signatureOf(index, true) })
  await engine.batch(ops)
}

/**
 * Remembers the objects the engine found added, changed or removed behind its back (files edited
 * by hand on the Directory engine) as pending entries. The engine reports them once, at open; the
 * entries keep them until each model's indexes are brought in line, even across restarts.
 */
export async function recordExternalChanges(engine: Engine, changes: ExternalChange[]): Promise<void> {
  for (let i = 0; i < changes.length; i += 10 * CHUNK) {
    await engine.batch(changes.slice(i, i + 10 * CHUNK).map((c) => ({ type: 'put', key: externalPrefix(c.collection) + c.id, value: null })))
  }
}

/**
 * Re-indexes the model's objects recorded by `recordExternalChanges`, clearing each record in the
 * same batch. A hand edit that gives an object a key another holds in a unique index is indexed
 * anyway (it is listed by `IndexView.duplicates()`). An object the engine reports as damaged keeps
 * the entries it had when it was last read: it cannot be read to say otherwise, and its unique keys
 * stay held for when its file is mended (which the engine then reports as changed).
 */
export async function applyExternalChanges(db: Database, meta: ModelMeta): Promise<void> {
  const { engine } = db
  const prefix = externalPrefix(meta.collection)
  for (;;) {
    const chunk = (await collect(engine.keys({ prefix, limit: CHUNK }))).map((key) => key.slice(prefix.length))
    if (chunk.length === 0) return
    db.changedOutside(meta.collection)
    const [stored, records] = await Promise.all([
      engine.getMany(chunk.map((oid) => keysRecordKey(meta.collection, oid))),
      engine.getRecords(meta.collection, chunk),
    ])
    const damaged = damagedIds(engine, meta.collection)
    const updates: IndexUpdate[] = []
    chunk.forEach((oid, n) => {
      if (records[n] === undefined && damaged.has(oid)) return
      const next = records[n] === undefined ? {} : keysRecordOf(meta, oid, storedInstance(db, meta, oid, records[n]))
      updates.push({ meta, oid, old: readKeysRecord(stored[n]), next })
    })
    const ops: WriteOp[] = chunk.map((oid) => ({ type: 'del', key: prefix + oid }))
    await pushIndexWrites(engine, updates, ops)
    await engine.batch(ops)
  }
}

/**
 * The records the engine could not read during a rebuild (it skips them) got no entries in the
 * rebuilt indexes: their keys records must say so, so that once mended they are indexed in full.
 */
async function forgetDamaged(engine: Engine, collection: string, drop: (record: KeysRecord) => KeysRecord): Promise<void> {
  const oids = [...damagedIds(engine, collection)]
  for (let i = 0; i < oids.length; i += CHUNK) {
    const chunk = oids.slice(i, i + CHUNK)
    const keys = chunk.map((oid) => keysRecordKey(collection, oid))
    const stored = await engine.getMany(keys)
    const ops: WriteOp[] = []
    chunk.forEach((_, n) => {
      if (stored[n] === undefined) return
      const kept = drop(readKeysRecord(stored[n]))
      ops.push(Object.keys(kept).length === 0 ? { type: 'del', key: keys[n]! } : { type: 'put', key: keys[n]!, value: writeKeysRecord(kept) })
    })
    await engine.batch(ops)
  }
}

function damagedIds(engine: Engine, collection: string): Set<string> {
  const ids = new Set<string>()
  for (const d of engine.damaged()) if (d.collection === collection) ids.add(d.id)
  return ids
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = []
  for await (const item of items) out.push(item)
  return out
}

/**
 * An instance holding the stored values: the live one unless it has unsaved changes (which the
 * index must not see), else a detached copy outside the identity map.
 */
function storedInstance(db: Database, meta: ModelMeta, oid: string, record: unknown): StoredObject {
  const live = db.identity.get(meta.collection, oid)
  if (live !== undefined && !hasUnsavedChanges(live[STATE])) return live
  const obj = Object.create(meta.ctor.prototype) as StoredObject
  const state = newState(meta, oid)
  applyRecord(state, record)
  obj[STATE] = state
  return obj
}


/**
 * Reads a range in pages of CHUNK, reopening after the last item of each page, so that writes
 * made between pages never race an open iterator.
 */
async function* pages<T>(
  read: (range: { gt?: string; prefix?: string; limit: number }) => AsyncIterable<T>,
  keyOf: (item: T) => string,
  range: { prefix?: string } = {},
): AsyncGenerator<T[]> {
  let after: string | undefined
  for (;;) {
    const page: T[] = []
    for await (const item of read(Object.assign({}, range, after === undefined ? { limit: CHUNK } : { gt: after, limit: CHUNK }))) page.push(item)
    if (page.length === 0) return
    yield page
    if (page.length < CHUNK) return
    after = keyOf(page[page.length - 1]!)
  }
}
