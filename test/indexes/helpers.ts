import { expect } from 'vitest'
import type { Engine } from '../../src/engine/engine.js'
import type { Database } from '../../src/model/database.js'
import { metaOf, type IndexKey, type ModelMeta } from '../../src/model/meta.js'
import { IndexView } from '../../src/indexes/index-view.js'
import { encodeKey } from '../../src/indexes/key-codec.js'
import { claimPrefix, entryPrefix, keysRecordPrefix } from '../../src/indexes/layout.js'
import { keepsClaims } from '../../src/indexes/unique-claims.js'
import type { StoredObject } from '../../src/model/stored-object.js'

/** `Model.index(name)`. */
export function view<T extends StoredObject>(model: abstract new (...a: any[]) => T, name: string): IndexView<T> {
  const m = model as any
  if (typeof m.index === 'function') return m.index(name)
  const meta = metaOf(model)!
  return new IndexView<T>(meta.db as Database, meta, name)
}

export async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = []
  for await (const x of it) out.push(x)
  return out
}

export const oids = (objs: StoredObject[]) => objs.map((o) => o.oid)

/** The entries the engine holds for one index, as `<encoded key>\0<oid>` strings. */
export async function storedEntries(db: Database, meta: ModelMeta, index: string): Promise<string[]> {
  const prefix = entryPrefix(meta.collection, index)
  const out: string[] = []
  for await (const key of db.engine.keys({ prefix })) out.push(key.slice(prefix.length))
  return out.sort()
}

/** The claims the engine holds for one unique index, as `<encoded key>` -> holder oids in order (keys as the engine lists them). */
export async function storedClaims(engine: Engine, collection: string, index: string): Promise<Record<string, string[]>> {
  const prefix = claimPrefix(collection, index)
  const out: Record<string, string[]> = {}
  for await (const [key, value] of engine.entries({ prefix })) out[key.slice(prefix.length)] = String(value).split('\x00').sort()
  return out
}

/** The claims a unique index's entries (`<encoded key>\0<oid>`) call for. */
export function claimsCalledFor(entries: string[]): Record<string, string[]> {
  const out: Record<string, string[]> = {}
  for (const entry of entries) {
    const nul = entry.lastIndexOf('\x00')
    ;(out[entry.slice(0, nul)] ??= []).push(entry.slice(nul + 1))
  }
  for (const key in out) out[key]!.sort()
  return out
}

/**
 * Asserts that every index of the model holds exactly the entries its function gives for the
 * stored objects (computed here independently of the maintainer), and no others; and that each
 * unique index's claims list exactly the holders of each key it has entries for.
 */
export async function expectExact(db: Database, model: Function): Promise<void> {
  const meta = metaOf(model)!
  // Wait until the model's indexes are ready (a query does that).
  for (const name of meta.indexes.keys()) await view(model as any, name).has('')
  const expected = new Map<string, string[]>([...meta.indexes.keys()].map((n) => [n, []]))
  const live = new Set<string>()
  for await (const [oid] of db.engine.records(meta.collection)) live.add(oid)
  const objects = await db.loadMany(meta, [...live])
  for (const obj of objects) {
    // The stored state, not unsaved edits of a live instance.
    const fresh = obj!
    for (const index of meta.indexes.values()) {
      let value = index.property === undefined ? fresh : (fresh as any)[index.property]
      if (index.property !== undefined && meta.relations.has(index.property)) value = value?.oid // a to-one relation indexes its oid
      const r = index.fn(value, fresh)
      const keys: IndexKey[] = r === undefined || r === null ? [] : Array.isArray(r) ? r.filter((k) => k !== undefined && k !== null) : [r as IndexKey]
      for (const k of new Set(keys.map(encodeKey))) expected.get(index.name)!.push(k + '\x00' + fresh.oid)
    }
  }
  for (const [name, entries] of expected) {
    expect(await storedEntries(db, meta, name), `entries of ${meta.ctor.name}.${name}`).toEqual(entries.sort())
    if (meta.indexes.get(name)!.unique && keepsClaims(db.engine)) expect(await storedClaims(db.engine, meta.collection, name), `claims of ${meta.ctor.name}.${name}`).toEqual(claimsCalledFor(entries))
  }
  // Every keys record belongs to a stored object.
  const prefix = keysRecordPrefix(meta.collection)
  for await (const key of db.engine.keys({ prefix })) expect(live.has(key.slice(prefix.length)), `keys record ${key}`).toBe(true)
}
