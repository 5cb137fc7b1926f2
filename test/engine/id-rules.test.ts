import { readdirSync } from 'node:fs'
import { dirname } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { checkName, MAX_NAME_BYTES, type Engine } from '../../src/engine/engine.js'
import { InvalidKeyError, StowageError } from '../../src/errors.js'
import { storeKinds, type Store } from '../helpers/stores.js'

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = []
  for await (const x of it) out.push(x)
  return out
}

async function readAll(it: AsyncIterable<Uint8Array>): Promise<number[]> {
  const out: number[] = []
  for await (const chunk of it) out.push(...chunk)
  return out
}

/** Names of exactly 200 UTF-8 bytes (the longest allowed), of 1-, 2-, 3- and 4-byte characters. */
const LONGEST = ['a'.repeat(200), 'é'.repeat(100), '€'.repeat(66) + 'ab', '😀'.repeat(50)]
/** One byte too many, and the names of the issue: 130 x é (260 bytes), 200 x é, 300 bytes. */
const TOO_LONG = ['a'.repeat(201), 'é'.repeat(100) + 'a', '€'.repeat(67), '😀'.repeat(50) + 'x', 'é'.repeat(130), 'é'.repeat(200), 'é'.repeat(150)]

async function refused(p: Promise<unknown> | (() => unknown), what: 'An id' | 'A collection'): Promise<void> {
  const err = await (typeof p === 'function' ? (async () => p())() : p).then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(err).toBeInstanceOf(InvalidKeyError)
  expect(err).toBeInstanceOf(StowageError)
  expect((err as Error).message).toMatch(new RegExp(`^${what} must be at most 200 bytes in UTF-8, got \\d+`))
}

describe('checkName', () => {
  it('measures names in UTF-8 bytes, and says "An id" / "A collection"', () => {
    expect(MAX_NAME_BYTES).toBe(200)
    for (const name of LONGEST) {
      expect(Buffer.byteLength(name)).toBe(200)
      expect(() => checkName('id', name)).not.toThrow()
      expect(() => checkName('collection', name)).not.toThrow()
    }
    for (const name of TOO_LONG) {
      expect(() => checkName('id', name)).toThrow(/^An id must be at most 200 bytes in UTF-8/)
      expect(() => checkName('collection', name)).toThrow(/^A collection must be at most 200 bytes in UTF-8/)
    }
    expect(() => checkName('id', '')).toThrow(/^An id must not be empty/)
    expect(() => checkName('id', 3)).toThrow(/^An id must be a string/)
    expect(() => checkName('collection', '')).toThrow(/^A collection must not be empty/)
    expect(() => checkName('id', 'a/b')).toThrow(/^Unsafe id/)
  })
})

for (const kind of storeKinds) {
  describe(`the same id rules on ${kind.name}`, () => {
    let store: Store
    let e: Engine
    beforeEach(async () => {
      store = await kind.make()
      e = store.engine()
      await e.open()
    })
    afterEach(async () => {
      await e.close()
      await store.cleanup()
    })

    it('refuses ids and collections over 200 UTF-8 bytes in every method, before writing anything', async () => {
      for (const name of TOO_LONG) {
        await refused(e.putRecord('C', name, 1), 'An id')
        await refused(e.putRecord(name, 'x', 1), 'A collection')
        await refused(e.batch([{ type: 'put', key: 'k', value: 1 }, { type: 'putRecord', collection: 'C', id: name, value: 1 }]), 'An id')
        await refused(e.getRecord('C', name), 'An id')
        await refused(e.getRecord(name, 'x'), 'A collection')
        await refused(e.getRecords('C', ['x', name]), 'An id')
        await refused(e.hasRecord('C', name), 'An id')
        await refused(e.countRecords(name), 'A collection')
        await refused(() => e.records(name), 'A collection')
        await refused(() => e.recordIds(name), 'A collection')
        await refused(e.delRecord('C', name), 'An id')
        await refused(e.stageRaw('C', name, [new Uint8Array([1])]), 'An id')
        await refused(e.stageRaw(name, 'x', [new Uint8Array([1])]), 'A collection')
        await refused(() => e.readRaw('C', name), 'An id')
        await refused(e.hasRaw('C', name), 'An id')
        await refused(e.batch([{ type: 'delRaw', collection: name, id: 'x' }]), 'A collection')
      }
      expect(await collect(e.keys())).toEqual([])
      expect(await collect(e.recordIds('C'))).toEqual([])
      if (e.supports.rawPaths) {
        // Where raw data are files, in <root>/<collection>/: refused names made no directory there.
        await e.batch([{ type: 'putRaw', collection: 'Probe', id: 'p', staged: await e.stageRaw('Probe', 'p', [new Uint8Array([1])]) }])
        const root = dirname(dirname(e.rawPath('Probe', 'p')!))
        expect(readdirSync(root).filter((name) => !name.startsWith('.'))).toEqual(['Probe'])
      }
    })

    it('stores and reads back records and raw data under the longest names', async () => {
      for (const [i, name] of LONGEST.entries()) {
        await e.putRecord(name, name, { i })
        // The longest extension the Directory engine keeps (16 characters).
        const staged = await e.stageRaw(name, name, [new Uint8Array([i, 1, 2])], { extension: 'abcdefghijklmnopqrstuvwxyz' })
        await e.batch([{ type: 'putRaw', collection: name, id: name, staged }])
        expect(await e.getRecord(name, name)).toEqual({ i })
        expect(await collect(e.recordIds(name))).toEqual([name])
        expect(await readAll(e.readRaw(name, name))).toEqual([i, 1, 2])
      }
      if (e.supports.rawPaths) {
        // Every file name the engine made fits in 255 bytes.
        for (const name of LONGEST) {
          const files = readdirSync(dirname(e.rawPath(name, name)!))
          expect(files.sort()).toEqual([`${name}.abcdefghijklmnop`, `${name}.json`].sort())
          for (const f of files) expect(Buffer.byteLength(f)).toBeLessThanOrEqual(255)
        }
      }
      if (store.persistent) {
        await e.close()
        e = store.engine()
        await e.open()
        for (const [i, name] of LONGEST.entries()) {
          expect(await e.getRecord(name, name)).toEqual({ i })
          expect(await readAll(e.readRaw(name, name))).toEqual([i, 1, 2])
        }
      }
      for (const name of LONGEST) await e.batch([{ type: 'delRecord', collection: name, id: name }, { type: 'delRaw', collection: name, id: name }])
      for (const name of LONGEST) expect(await e.hasRecord(name, name)).toBe(false)
    })
  })
}
