import { existsSync, readdirSync, readFileSync, rmSync, unlinkSync } from 'node:fs'
import { join } from 'node:path'
import { ClassicLevel } from 'classic-level'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { LevelEngine } from '../../src/engine/level/level-engine.js'
import { FORMAT_KEY, recordKey } from '../../src/engine/level/level-keys.js'
import { decodeValue, encodeValue } from '../../src/engine/level/msgpack-codec.js'
import { CorruptionError, InvalidPathError, LockedError } from '../../src/errors.js'
import { tempDir } from '../helpers/stores.js'
import { compactStore, flipByteOf, garbleAround, manifestFile, noise, occurrences, openUnlessRefused, tableFiles, truncateHalf } from '../helpers/level-damage.js'
import { collect } from '../../src/testing/helpers.js'

let root: string
let n = 0
const opened: LevelEngine[] = []
beforeAll(async () => {
  root = await tempDir('stowage-level-damage-')
})
afterEach(async () => {
  await Promise.all(opened.splice(0).map((e) => e.close().catch(() => {})))
})
afterAll(() => rmSync(root, { recursive: true, force: true }))

const freshPath = () => join(root, `db${n++}`)

async function open(path: string): Promise<LevelEngine> {
  const engine = new LevelEngine(path)
  await engine.open()
  opened.push(engine)
  return engine
}

const COUNT = 3000
const id = (i: number) => `a${String(i).padStart(5, '0')}`

/**
 * A closed store holding COUNT records `Account/a00000...` ({ name: noise }) and COUNT entries
 * `idx/name/<i>` (noise of `length` characters), all in .ldb tables. Returns the names and entry
 * values by index.
 */
async function filledStore(length = 40): Promise<{ path: string; names: string[]; entries: string[] }> {
  const path = freshPath()
  const engine = await open(path)
  const names = Array.from({ length: COUNT }, () => noise(length))
  const entries = Array.from({ length: COUNT }, () => noise(length))
  for (let at = 0; at < COUNT; at += 500) {
    const ops = []
    for (let i = at; i < at + 500; i++) {
      ops.push({ type: 'putRecord' as const, collection: 'Account', id: id(i), value: { name: names[i] } })
      ops.push({ type: 'put' as const, key: `idx/name/${i}`, value: entries[i] })
    }
    await engine.batch(ops)
  }
  await engine.close()
  await compactStore(path)
  // LevelDB writes a new MANIFEST at each open, as one record: a test that cuts it cuts that record.
  const db = new ClassicLevel(path)
  await db.open()
  await db.close()
  return { path, names, entries }
}

async function rejection(p: Promise<unknown>): Promise<any> {
  return p.then(
    (v) => {
      throw new Error(`expected a rejection, got ${JSON.stringify(v)}`)
    },
    (err) => err,
  )
}

/** The table file that holds `needle`. */
function tableHolding(path: string, needle: string): string {
  const file = tableFiles(path).find((f) => readFileSync(f).includes(needle))
  if (!file) throw new Error(`${needle} is in no table of ${path}`)
  return file
}

let store: Awaited<ReturnType<typeof filledStore>>

describe('LevelEngine: a flipped byte in a stored value', () => {
  beforeAll(async () => {
    store = await filledStore()
  })

  it('is a CorruptionError naming the record and the store, not another value', async () => {
    const { path, names } = await filledStore()
    flipByteOf(path, names[1500]!)
    const engine = await open(path)
    const err = await rejection(engine.getRecord('Account', id(1500)))
    expect(err).toBeInstanceOf(CorruptionError)
    expect(err.message).toContain(`Account/${id(1500)}`)
    expect(err.message).toContain(path)
    // Bulk reads skip it (reported by damaged()), so one damaged record never stops the others.
    expect(await engine.getRecords('Account', [id(1499), id(1500)])).toEqual([{ name: names[1499] }, undefined])
    const all = await collect(engine.records('Account'))
    expect(all.length).toBe(COUNT - 1)
    expect(all.some(([i]) => i === id(1500))).toBe(false)
    expect(engine.damaged()).toEqual([{ collection: 'Account', id: id(1500), reason: err.message }])
    expect(await engine.countRecords('Account')).toBe(COUNT) // still stored
    // Writing it again mends it.
    await engine.putRecord('Account', id(1500), { name: 'mended' })
    expect(engine.damaged()).toEqual([])
    expect(await engine.getRecord('Account', id(1500))).toEqual({ name: 'mended' })
    // The neighbours are intact.
    expect(await engine.getRecord('Account', id(1499))).toEqual({ name: names[1499] })
    expect(await engine.getRecord('Account', id(1501))).toEqual({ name: names[1501] })
  })

  it('read synchronously, is the same CorruptionError, reported the same way', async () => {
    const { path, names, entries } = await filledStore()
    flipByteOf(path, names[1500]!)
    flipByteOf(path, entries[700]!)
    const engine = await open(path)
    let err: any
    try {
      engine.getRecordSync('Account', id(1500))
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(CorruptionError)
    expect(err.message).toContain(`Account/${id(1500)}`)
    expect(err.message).toContain(path)
    expect(engine.damaged()).toEqual([{ collection: 'Account', id: id(1500), reason: err.message }])
    expect((await rejection(engine.getRecord('Account', id(1500)))).message).toBe(err.message)
    expect(() => engine.getSync('idx/name/700')).toThrow(CorruptionError)
    expect(() => engine.getSync('idx/name/700')).toThrow('idx/name/700')
    expect(engine.getRecordSync('Account', id(1499))).toEqual({ name: names[1499] })
    expect(engine.getSync('idx/name/701')).toBe(entries[701])
    await engine.putRecord('Account', id(1500), { name: 'mended' })
    expect(engine.damaged()).toEqual([])
    expect(engine.getRecordSync('Account', id(1500))).toEqual({ name: 'mended' })
  })

  it('is a CorruptionError for an index entry too', async () => {
    const { path, entries } = await filledStore()
    flipByteOf(path, entries[700]!)
    const engine = await open(path)
    const err = await rejection(engine.get('idx/name/700'))
    expect(err).toBeInstanceOf(CorruptionError)
    expect(err.message).toContain('idx/name/700')
    expect(err.message).toContain(path)
    await expect(engine.getMany(['idx/name/699', 'idx/name/700'])).rejects.toThrow(CorruptionError)
    await expect(collect(engine.entries({ prefix: 'idx/name/' }))).rejects.toThrow('idx/name/700')
    expect(await engine.get('idx/name/701')).toBe(entries[701])
  })

  it('in a record id does not show the record under another id', async () => {
    const path = freshPath()
    const engine = await open(path)
    // Random ids share no long prefix with their neighbours, so each lies whole in the table.
    const ids = Array.from({ length: COUNT }, () => `x${noise(20).replace(/[^a-zA-Z0-9]/g, 'q')}`)
    await engine.batch(ids.map((i) => ({ type: 'putRecord' as const, collection: 'Account', id: i, value: { n: 1 } })))
    await engine.close()
    await compactStore(path)
    // An id whose tail lies once in the tables: one that ends a table block may also be kept whole in
    // the table's index, and a flip there would damage the index instead of the record.
    const victim = ids.slice(1000).find((i) => occurrences(path, i.slice(4)) === 1)!
    // The last character: the key keeps its place in the table's order.
    // The tail only: the head may be shared with the key before it, which the table stores once.
    flipByteOf(path, victim.slice(4), victim.length - 5)
    const again = await open(path)
    // The record under the changed id fails its checksum: skipped and reported, never read as valid.
    const all = await collect(again.records('Account'))
    expect(all.length).toBe(COUNT - 1)
    expect(all.some(([i]) => i === victim)).toBe(false)
    const [damage] = again.damaged()
    expect(damage?.collection).toBe('Account')
    expect(damage?.id).not.toBe(victim)
    expect(damage?.reason).toContain('checksum')
  })

  it('a store written before checksums (format 1) still reads, and new writes carry checksums', async () => {
    const path = freshPath()
    const db = new ClassicLevel<string, Uint8Array>(path, { valueEncoding: 'view' })
    await db.put(FORMAT_KEY, encodeValue(1, FORMAT_KEY))
    await db.put(recordKey('Account', 'old'), encodeValue({ name: 'Ann' }, 'old'))
    await db.put('eidx/name/ann', encodeValue('old', 'entry'))
    await db.close()
    const engine = await open(path)
    expect(await engine.getRecord('Account', 'old')).toEqual({ name: 'Ann' })
    expect(await engine.get('idx/name/ann')).toBe('old')
    await engine.putRecord('Account', 'new', { name: 'Bob' })
    await engine.close()
    // Older versions refuse it from now on (they read format 1 only), and its new values are not bare msgpack.
    const raw = new ClassicLevel<string, Uint8Array>(path, { valueEncoding: 'view' })
    expect(decodeValue((await raw.get(FORMAT_KEY))!, FORMAT_KEY)).toBe(3)
    const sealed = (await raw.get(recordKey('Account', 'new')))!
    expect(() => decodeValue(sealed, 'new')).toThrow(CorruptionError)
    await raw.close()
    const again = await open(path)
    expect(await again.getRecord('Account', 'old')).toEqual({ name: 'Ann' })
    expect(await again.getRecord('Account', 'new')).toEqual({ name: 'Bob' })
  })

  it('refuses a store of a later format, naming it', async () => {
    const path = freshPath()
    const db = new ClassicLevel<string, Uint8Array>(path, { valueEncoding: 'view' })
    await db.put(FORMAT_KEY, encodeValue(99, FORMAT_KEY))
    await db.close()
    const err = await rejection(new LevelEngine(path).open())
    expect(err).toBeInstanceOf(CorruptionError)
    expect(err.message).toMatch(/format 99/)
  })

  it('leaves an intact store readable', async () => {
    const engine = await open(store.path)
    expect(await engine.countRecords('Account')).toBe(COUNT)
    expect(await engine.getRecord('Account', id(42))).toEqual({ name: store.names[42] })
    expect(await engine.get('idx/name/42')).toBe(store.entries[42])
  })
})

describe('LevelEngine: a missing CURRENT file', () => {
  it('is refused, not opened as a new empty store; the tables stay; repair brings the objects back', async () => {
    const { path, names } = await filledStore()
    const tables = tableFiles(path)
    unlinkSync(join(path, 'CURRENT'))
    // Constructed, then opened later: nothing may open the store in between.
    const engine0 = new LevelEngine(path)
    await new Promise((resolve) => setTimeout(resolve, 50))
    const err = await rejection(engine0.open())
    expect(err).toBeInstanceOf(CorruptionError)
    expect(err.message).toContain(path)
    expect(err.message).toContain('CURRENT')
    expect(err.message).toContain('LevelEngine.repair(')
    expect(tableFiles(path)).toEqual(tables)
    expect(existsSync(join(path, 'CURRENT'))).toBe(false)

    await LevelEngine.repair(path)
    const engine = await open(path)
    expect(await engine.countRecords('Account')).toBe(COUNT)
    expect(await engine.getRecord('Account', id(1234))).toEqual({ name: names[1234] })
  })

  it('is refused when the data is only in the write-ahead log, and repair brings it back', async () => {
    const path = freshPath()
    const engine = await open(path)
    await engine.putRecord('Account', 'a', { name: 'Ann' })
    await engine.close()
    expect(readdirSync(path).some((f) => f.endsWith('.log'))).toBe(true)
    unlinkSync(join(path, 'CURRENT'))
    await expect(new LevelEngine(path).open()).rejects.toThrow(CorruptionError)
    const user = new LevelEngine(new ClassicLevel(path))
    await new Promise((resolve) => setTimeout(resolve, 50))
    await expect(user.open()).rejects.toThrow(CorruptionError)
    expect(existsSync(join(path, 'CURRENT'))).toBe(false)
    await LevelEngine.repair(path)
    expect(await (await open(path)).getRecord('Account', 'a')).toEqual({ name: 'Ann' })
  })

  it('repair refuses a store open elsewhere, and a path that holds no store', async () => {
    const path = freshPath()
    const engine = await open(path)
    await expect(LevelEngine.repair(path)).rejects.toThrow(LockedError)
    await engine.close()
    await LevelEngine.repair(path)
    const empty = freshPath()
    await expect(LevelEngine.repair(empty)).rejects.toThrow(InvalidPathError)
    expect(existsSync(empty)).toBe(false)
  })
})

describe('LevelEngine: damaged files give CorruptionError naming the store and what was read', () => {
  it('a truncated MANIFEST', async () => {
    const { path } = await filledStore()
    truncateHalf(manifestFile(path))
    const err = await rejection(new LevelEngine(path).open())
    expect(err).toBeInstanceOf(CorruptionError)
    expect(err.message).toContain(path)
    expect(err.message).toContain('LevelEngine.repair(')
    expect(err.cause).toBeDefined()
  })

  it('a truncated table file', async () => {
    // Values of 2,000 characters fill several tables (LevelDB cuts them at a few MB). All but the
    // one holding the format (read at open) are cut; an entry and a record in them are read.
    const { path, names, entries } = await filledStore(2000)
    const whole = tableHolding(path, FORMAT_KEY)
    const cut = tableFiles(path).filter((f) => f !== whole)
    const contents = cut.map((f) => readFileSync(f))
    const e = entries.findIndex((v) => contents.some((c) => c.includes(v)))
    const r = names.findIndex((v) => contents.some((c) => c.includes(v)))
    expect(e).toBeGreaterThanOrEqual(0)
    expect(r).toBeGreaterThanOrEqual(0)
    for (const file of cut) truncateHalf(file)
    const engine = await openUnlessRefused(() => open(path), path)
    if (engine === undefined) return
    const err = await rejection(engine.getRecord('Account', id(r)))
    expect(err).toBeInstanceOf(CorruptionError)
    expect(err.message).toContain(path)
    expect(err.message).toContain(`Account/${id(r)}`)
    expect(err.cause?.code).toBe('LEVEL_IO_ERROR')
    for (const read of [
      () => engine.getRecords('Account', [id(r)]),
      () => engine.get(`idx/name/${e}`),
      () => engine.getMany(['idx/name/99', `idx/name/${e}`]),
      () => engine.hasRecord('Account', id(r)),
      () => collect(engine.records('Account')),
      () => collect(engine.recordIds('Account')),
      () => collect(engine.entries()),
      () => collect(engine.keys()),
      () => engine.countRecords('Account'),
      async () => engine.getRecordSync('Account', id(r)),
      async () => engine.getSync(`idx/name/${e}`),
    ]) {
      const failure = await rejection(read())
      expect(failure).toBeInstanceOf(CorruptionError)
      expect(failure.message).toContain(path)
    }
  })

  it('a garbled block', async () => {
    const { path, names } = await filledStore()
    garbleAround(path, names[1500]!)
    const engine = await open(path)
    const err = await rejection(collect(engine.records('Account')))
    expect(err).toBeInstanceOf(CorruptionError)
    expect(err.message).toContain(path)
    expect(err.message).toContain('Account')
    await expect(collect(engine.recordIds('Account'))).rejects.toThrow(CorruptionError)
    await expect(engine.countRecords('Account')).rejects.toThrow(CorruptionError)
  })
})
