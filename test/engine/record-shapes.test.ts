import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ClassicLevel } from 'classic-level'
import { MemoryLevel } from 'memory-level'
import { open } from 'lmdb'
import { afterAll, describe, expect, it } from 'vitest'
import { CorruptionError, InvalidKeyError } from '../../src/errors.js'
import type { Engine } from '../../src/engine/engine.js'
import { LevelEngine } from '../../src/engine/level/level-engine.js'
import { FORMAT_KEY, recordKey, SHAPES_KEY } from '../../src/engine/level/level-keys.js'
import { decodeValue, encodeValue } from '../../src/engine/level/msgpack-codec.js'
import { MAX_SHAPES } from '../../src/engine/level/record-shapes.js'
import { encodeSealed } from '../../src/engine/level/sealed-values.js'
import { LmdbEngine } from '../../src/engine/lmdb/lmdb-engine.js'
import { utf8Keys } from '../../src/engine/lmdb/lmdb-keys.js'
import { collect } from '../../src/testing/helpers.js'

const root = mkdtempSync(join(tmpdir(), 'stowage-shapes-'))
afterAll(() => rmSync(root, { recursive: true, force: true }))
let n = 0

/** A store's own bytes, read and written without the engine (closed meanwhile). */
interface RawStore {
  get(key: string): Promise<Uint8Array | undefined>
  put(key: string, value: Uint8Array): Promise<void>
  close(): Promise<void>
}

const kinds = [
  {
    name: 'LmdbEngine',
    /** The format of new stores, and the one older stores keep (records as plain maps). */
    format: 2,
    plainFormat: 1,
    freshPath: () => join(root, `db${n++}.lmdb`),
    engine: (path: string): Engine => new LmdbEngine(path),
    raw(path: string): RawStore {
      const db = open<Buffer, string | Uint8Array>(path, { noSubdir: true, encoding: 'binary', keyEncoder: utf8Keys } as object)
      return { get: async (key) => db.getBinary(key), put: async (key, value) => void db.putSync(key, Buffer.from(value)), close: () => db.close() }
    },
  },
  {
    name: 'LevelEngine',
    format: 4,
    plainFormat: 3,
    freshPath: () => join(root, `level${n++}`),
    engine: (path: string): Engine => new LevelEngine(path),
    raw(path: string): RawStore {
      const db = new ClassicLevel<string, Uint8Array>(path, { valueEncoding: 'view' })
      return { get: (key) => db.get(key), put: (key, value) => db.put(key, Buffer.from(value)), close: () => db.close() }
    },
  },
]

describe.each(kinds)('$name record shapes', ({ format, plainFormat, freshPath, engine: make, raw: rawStore }) => {
  async function openAt(path: string): Promise<Engine> {
    const engine = make(path)
    await engine.open()
    return engine
  }

/** Records of every kind of value a record can hold: numbers that share msgpack's record ids (64-127), nested maps, lists of objects. */
const records: Record<string, unknown> = {
  a1: { properties: { name: 'Ann', age: 64, score: 127, tags: ['x', 'y'] }, updates: { name: 1, age: 2, score: 3, tags: 4 }, changed: 1_700_000_000_000 },
  a2: { properties: { name: 'Bob', age: 100 }, updates: { name: 5, age: 6 }, changed: 1_700_000_000_001 },
  a3: { properties: { name: 'Cy', prefs: { theme: 'dark', size: 96, nested: { deep: [{ k: 65 }, { k: -1 }] } } }, updates: { name: 7, prefs: 8 }, changed: 9 },
  a4: { properties: { big: 2n ** 70n, neg: -0, bytes: new Uint8Array([64, 65, 127]), empty: {}, list: [{ a: 1 }, { b: 2 }] }, updates: {}, changed: 10 },
  a5: { properties: { name: 'Di' }, updates: { name: 11 }, changed: 12, extra: { kept: true } },
  plain: 'a string record',
  numbers: [64, 65, 127, 0x40, -32],
}

/** What plain msgpack gives back for each record (bytes come back as Buffers): what shapes must give too. */
const expected = Object.fromEntries(Object.entries(records).map(([id, value]) => [id, decodeValue(encodeValue(value, id), id)]))

  it('reads back every record exactly, before and after reopening, with the shapes table stored once', async () => {
    const path = freshPath()
    const engine = await openAt(path)
    await engine.batch(Object.entries(records).map(([id, value]) => ({ type: 'putRecord' as const, collection: 'A', id, value })))
    for (const id of Object.keys(records)) expect(engine.getRecordSync('A', id)).toStrictEqual(expected[id])
    await engine.close()
    const again = await openAt(path)
    expect(Object.fromEntries(await collect(again.records('A')))).toStrictEqual(expected)
    await again.close()
    const raw = rawStore(path)
    expect(decodeValue((await raw.get(FORMAT_KEY))!, 'format')).toBe(format)
    expect(await raw.get(SHAPES_KEY)).toBeDefined()
    // The article-like record is smaller than its plain msgpack: its keys are in the table, not in it.
    expect((await raw.get(recordKey('A', 'a1')))!.length).toBeLessThan(encodeSealed(recordKey('A', 'a1'), records.a1, 'a1').length - 30)
    await raw.close()
  })

  it(`keeps records of more than ${MAX_SHAPES} shapes exact across reopenings`, async () => {
    const path = freshPath()
    const many = Object.fromEntries(
      Array.from({ length: MAX_SHAPES + 20 }, (_, i) => [`s${i}`, { properties: { [`p${i}`]: i, common: 70 + (i % 50) }, updates: { [`p${i}`]: i }, changed: i }]),
    )
    let engine = await openAt(path)
    // Half in one batch, the rest one per batch with a reopening between.
    const ids = Object.keys(many)
    await engine.batch(ids.slice(0, 20).map((id) => ({ type: 'putRecord' as const, collection: 'S', id, value: many[id] })))
    for (const id of ids.slice(20)) {
      await engine.putRecord('S', id, many[id])
      if (id.endsWith('5')) {
        await engine.close()
        engine = await openAt(path)
      }
    }
    await engine.close()
    engine = await openAt(path)
    expect(Object.fromEntries(await collect(engine.records('S')))).toEqual(many)
    await engine.close()
  })

  it('reads and writes a store whose records are plain maps as it is', async () => {
    const path = freshPath()
    const raw = rawStore(path)
    // A store as the previous version wrote it: its records plain msgpack.
    await raw.put(FORMAT_KEY, encodeValue(plainFormat, 'format'))
    await raw.put(recordKey('A', 'old'), encodeSealed(recordKey('A', 'old'), records.a1, 'old'))
    await raw.close()
    const engine = await openAt(path)
    expect(await engine.getRecord('A', 'old')).toStrictEqual(expected.a1)
    await engine.putRecord('A', 'new', records.a3)
    await engine.close()
    const after = rawStore(path)
    expect(decodeValue((await after.get(FORMAT_KEY))!, 'format')).toBe(plainFormat)
    expect(await after.get(SHAPES_KEY)).toBeUndefined()
    // The new record is plain msgpack, as an older version expects.
    expect(Buffer.from((await after.get(recordKey('A', 'new')))!)).toEqual(Buffer.from(encodeSealed(recordKey('A', 'new'), records.a3, 'new')))
    await after.close()
    const again = await openAt(path)
    expect(Object.fromEntries(await collect(again.records('A')))).toStrictEqual({ old: expected.a1, new: expected.a3 })
    await again.close()
  })

  it('refuses to open a store whose shapes table is damaged, with CorruptionError naming it', async () => {
    const path = freshPath()
    const engine = await openAt(path)
    await engine.putRecord('A', 'a1', records.a1)
    await engine.close()
    const raw = rawStore(path)
    const bytes = Buffer.from((await raw.get(SHAPES_KEY))!)
    bytes[bytes.length - 1] ^= 0x20
    await raw.put(SHAPES_KEY, bytes)
    await raw.close()
    const err = await openAt(path).catch((e) => e)
    expect(err).toBeInstanceOf(CorruptionError)
    expect(err.message).toMatch(/table of record shapes.*checksum/)
  })
})

// A batch fails after encoding its records on LMDB (a key over its limit); on LevelDB only at commit (see lmdb-engine.test.ts for a commit that fails).
describe('LmdbEngine record shapes', () => {
  it('stores a new shape with the next batch when the batch that made it fails', async () => {
    const path = kinds[0]!.freshPath()
    const engine = new LmdbEngine(path)
    await engine.open()
    await engine.putRecord('A', 'first', { properties: { name: 'Ann' }, updates: { name: 1 }, changed: 1 })
    // The record's new shape is made while encoding; the over-long key then fails the whole batch.
    const shaped = { properties: { title: 'T', pages: 90 }, updates: { title: 2, pages: 3 }, changed: 4 }
    const err = await engine.batch([{ type: 'putRecord', collection: 'B', id: 'b1', value: shaped }, { type: 'put', key: 'k'.repeat(3000), value: 1 }]).catch((e) => e)
    expect(err).toBeInstanceOf(InvalidKeyError)
    expect(await engine.hasRecord('B', 'b1')).toBe(false)
    await engine.putRecord('B', 'b2', shaped)
    await engine.close()
    const again = new LmdbEngine(path)
    await again.open()
    expect(await again.getRecord('B', 'b2')).toEqual(shaped)
    expect(await again.getRecord('A', 'first')).toEqual({ properties: { name: 'Ann' }, updates: { name: 1 }, changed: 1 })
    await again.close()
  })
})

describe('LevelEngine record shapes', () => {
  it('keeps every shape of batches written at once when a later one commits first', async () => {
    // memory-level whose first batch holding the shapes table takes a while to commit, as a large
    // batch on LevelDB's thread pool may while a smaller one overtakes it.
    let held = false
    // Keys reach _batch in the store encoding (bytes).
    const batch = (MemoryLevel.prototype as unknown as { _batch(ops: { key: string }[], options: unknown): Promise<void> })._batch
    class SlowFirstTable extends MemoryLevel<string, Uint8Array> {
      async _batch(operations: { key: string }[], options: unknown): Promise<void> {
        if (!held && operations.some((op) => String(op.key) === SHAPES_KEY)) {
          held = true
          await new Promise((resolve) => setTimeout(resolve, 50))
        }
        return batch.call(this, operations, options)
      }
    }
    const store = new SlowFirstTable({ storeEncoding: 'buffer', keyEncoding: 'utf8', valueEncoding: 'buffer' } as never)
    let engine: Engine = new LevelEngine(store)
    await engine.open()
    const value = (i: number) => ({ properties: { [`p${i}`]: i, name: `n${i}` }, updates: { [`p${i}`]: i }, changed: i })
    // Each batch makes a shape of its own, so each carries a larger table than the one before it.
    await Promise.all([0, 1, 2].map((i) => engine.batch([{ type: 'putRecord', collection: 'C', id: `c${i}`, value: value(i) }])))
    await engine.close()
    engine = new LevelEngine(store)
    await engine.open()
    expect(Object.fromEntries(await collect(engine.records('C')))).toEqual({ c0: value(0), c1: value(1), c2: value(2) })
    await engine.close()
  })
})
