import { existsSync, readFileSync, rmSync, unlinkSync } from 'node:fs'
import { join } from 'node:path'
import { ClassicLevel } from 'classic-level'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { DirectoryEngine } from '../../src/engine/directory/directory-engine.js'
import { LevelEngine } from '../../src/engine/level/level-engine.js'
import { CorruptionError } from '../../src/errors.js'
import { tempDir } from '../helpers/stores.js'
import { compactStore, garbleAround, manifestFile, noise, openUnlessRefused, tableFiles, truncateHalf } from '../helpers/level-damage.js'
import { collect } from '../../src/testing/helpers.js'

/** The DirectoryEngine's own LevelDB store (ordered lookups, entries, the record manifest) inside its root. */
const indexOf = (root: string) => join(root, '.stowage', 'index')

let base: string
let n = 0
const opened: DirectoryEngine[] = []
beforeAll(async () => {
  base = await tempDir('stowage-dir-level-damage-')
})
afterEach(async () => {
  await Promise.all(opened.splice(0).map((e) => e.close().catch(() => {})))
})
afterAll(() => rmSync(base, { recursive: true, force: true }))

async function open(root: string): Promise<DirectoryEngine> {
  const engine = new DirectoryEngine(root)
  await engine.open()
  opened.push(engine)
  return engine
}

const COUNT = 3000
const RECORDS = 50

/**
 * A closed Directory store with RECORDS records `Account/a<i>` and COUNT entries `idx/<i>` (noise
 * of `length` characters), its index store compacted into .ldb tables.
 */
async function filledStore(length = 40): Promise<{ root: string; index: string; entries: string[] }> {
  const root = join(base, `r${n++}`)
  const engine = await open(root)
  const entries = Array.from({ length: COUNT }, () => noise(length))
  for (let at = 0; at < COUNT; at += 500) {
    await engine.batch(entries.slice(at, at + 500).map((value, i) => ({ type: 'put' as const, key: `idx/${at + i}`, value })))
  }
  await engine.batch(Array.from({ length: RECORDS }, (_, i) => ({ type: 'putRecord' as const, collection: 'Account', id: `a${i}`, value: { i } })))
  await engine.close()
  const index = indexOf(root)
  await compactStore(index)
  // LevelDB writes a new MANIFEST at each open, as one record: a test that cuts it cuts that record.
  const db = new ClassicLevel(index)
  await db.open()
  await db.close()
  expect(tableFiles(index).length).toBeGreaterThan(0)
  return { root, index, entries }
}

async function rejection(p: Promise<unknown>): Promise<any> {
  return p.then(
    (v) => {
      throw new Error(`expected a rejection, got ${JSON.stringify(v)}`)
    },
    (err) => err,
  )
}

describe('DirectoryEngine: damage to its LevelDB store gives CorruptionError naming it', () => {
  it('a truncated MANIFEST', async () => {
    const { root, index } = await filledStore()
    truncateHalf(manifestFile(index))
    const engine = new DirectoryEngine(root)
    const err = await rejection(engine.open())
    expect(err).toBeInstanceOf(CorruptionError)
    expect(err.message).toContain(index)
    expect(err.message).toContain('LevelEngine.repair(')
    expect(err.cause).toBeDefined()
    expect(engine.status).toBe('closed')
  })

  it('a garbled block', async () => {
    const { root, index, entries } = await filledStore()
    garbleAround(index, entries[1500]!)
    const engine = await open(root)
    const err = await rejection(collect(engine.entries()))
    expect(err).toBeInstanceOf(CorruptionError)
    expect(err.message).toContain(index)
    await expect(collect(engine.keys({ prefix: 'idx/' }))).rejects.toThrow(CorruptionError)
    // The records are elsewhere in the store, and read on.
    expect(await engine.getRecord('Account', 'a1')).toEqual({ i: 1 })
  })

  it('a truncated table file', async () => {
    // Entries of 2,000 characters fill several tables (LevelDB cuts them at a few MB). Those that
    // hold entries only are cut; the manifest read at open lies after them.
    const { root, index, entries } = await filledStore(2000)
    const cut = tableFiles(index).filter((f) => !readFileSync(f).includes('mAccount'))
    const contents = cut.map((f) => readFileSync(f))
    const e = entries.findIndex((v) => contents.some((c) => c.includes(v)))
    expect(e).toBeGreaterThanOrEqual(0)
    for (const file of cut) truncateHalf(file)
    const engine = await openUnlessRefused(() => open(root), index)
    if (engine === undefined) return
    const err = await rejection(engine.get(`idx/${e}`))
    expect(err).toBeInstanceOf(CorruptionError)
    expect(err.message).toContain(index)
    expect(err.message).toContain(`idx/${e}`)
    expect(err.cause?.code).toBe('LEVEL_IO_ERROR')
    for (const read of [() => engine.getMany([`idx/${e}`]), () => collect(engine.entries()), () => collect(engine.keys())]) {
      const failure = await rejection(read())
      expect(failure).toBeInstanceOf(CorruptionError)
      expect(failure.message).toContain(index)
    }
  })

  it('a missing CURRENT file: refused, the tables stay, and repair brings the entries back', async () => {
    const { root, index, entries } = await filledStore()
    const tables = tableFiles(index)
    unlinkSync(join(index, 'CURRENT'))
    const err = await rejection(new DirectoryEngine(root).open())
    expect(err).toBeInstanceOf(CorruptionError)
    expect(err.message).toContain(index)
    expect(err.message).toContain('LevelEngine.repair(')
    expect(tableFiles(index)).toEqual(tables)
    expect(existsSync(join(index, 'CURRENT'))).toBe(false)

    await LevelEngine.repair(index)
    const engine = await open(root)
    expect(await engine.get('idx/2999')).toBe(entries[2999])
    expect(await engine.countRecords('Account')).toBe(RECORDS)
  })
})
