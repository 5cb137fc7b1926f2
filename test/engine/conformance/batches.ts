import { describe, expect, it } from 'vitest'
import { ArgumentError, EncodingError, InvalidKeyError, StowageError } from '../../../src/errors.js'
import type { Engine, WriteOp } from '../../../src/engine/engine.js'
import type { EngineFactory } from '../factory.js'
import { bytes, collect, engines, readAll } from './helpers.js'

const BAD_NAMES: unknown[] = ['', 1, null, undefined, {}, '..', '.', '.hidden', '/abs', '/etc/passwd', 'a/b', 'a\\b', 'C:\\x', 'a\0b', 'tab\there', 'dot.', 'space ', 'x'.repeat(201), 'lone\uD800', 'CON', 'aux', 'nul.json', 'Com1', 'lpt9.txt']
const BAD_KEYS: unknown[] = ['', 1, null, undefined, {}, ['k'], 'lone\uDC00']

async function nothingWritten(e: Engine): Promise<void> {
  expect(await collect(e.keys())).toEqual([])
  expect(await collect(e.recordIds('C'))).toEqual([])
  expect(await e.hasRaw('C', 'r')).toBe(false)
}

export function batchTests(factory: EngineFactory): void {
  const make = engines(factory)

  describe('batches', () => {
    it('apply ops in order: a later op on the same key wins', async () => {
      const e = await make.create()
      await e.batch([
        { type: 'put', key: 'a', value: 1 },
        { type: 'del', key: 'a' },
        { type: 'del', key: 'b' },
        { type: 'put', key: 'b', value: 2 },
        { type: 'putRecord', collection: 'C', id: 'x', value: 1 },
        { type: 'putRecord', collection: 'C', id: 'x', value: 2 },
        { type: 'putRecord', collection: 'C', id: 'y', value: 1 },
        { type: 'delRecord', collection: 'C', id: 'y' },
      ])
      expect(await e.get('a')).toBeUndefined()
      expect(await e.get('b')).toBe(2)
      expect(await e.getRecord('C', 'x')).toBe(2)
      expect(await e.hasRecord('C', 'y')).toBe(false)
      await e.batch([])
    })

    it('write nothing when one value cannot be encoded (entries, records and raw mixed)', async () => {
      const e = await make.create()
      const staged = await e.stageRaw('C', 'r', [bytes(1000)])
      const ops: WriteOp[] = [
        { type: 'put', key: 'ok', value: 1 },
        { type: 'putRecord', collection: 'C', id: 'ok', value: { a: 1 } },
        { type: 'putRaw', collection: 'C', id: 'r', staged },
        { type: 'putRecord', collection: 'C', id: 'bad', value: { f: () => 1 } },
      ]
      await expect(e.batch(ops)).rejects.toThrow(EncodingError)
      await expect(e.batch(ops)).rejects.toThrow(/C\/bad/)
      await nothingWritten(e)
      // The staged data survives a failed batch and can still be committed.
      await e.batch([{ type: 'putRaw', collection: 'C', id: 'r', staged }])
      expect(Buffer.compare(await readAll(e.readRaw('C', 'r')), bytes(1000))).toBe(0)
    })

    it('write nothing when one key or name is bad', async () => {
      const e = await make.create()
      const good: WriteOp[] = [
        { type: 'put', key: 'ok', value: 1 },
        { type: 'putRecord', collection: 'C', id: 'ok', value: 1 },
      ]
      for (const key of BAD_KEYS) {
        await expect(e.batch([...good, { type: 'put', key: key as string, value: 1 }])).rejects.toThrow(InvalidKeyError)
        await expect(e.batch([...good, { type: 'del', key: key as string }])).rejects.toThrow(InvalidKeyError)
      }
      for (const name of BAD_NAMES) {
        await expect(e.batch([...good, { type: 'putRecord', collection: 'C', id: name as string, value: 1 }])).rejects.toThrow(InvalidKeyError)
        await expect(e.batch([...good, { type: 'delRecord', collection: name as string, id: 'x' }])).rejects.toThrow(InvalidKeyError)
      }
      await expect(e.batch([...good, { type: 'nope' } as any])).rejects.toThrow(ArgumentError)
      await expect(e.batch([...good, null as any])).rejects.toThrow(ArgumentError)
      await expect(e.batch('ops' as any)).rejects.toThrow(ArgumentError)
      await nothingWritten(e)
    })

    it('refuse bad keys and names in every method with InvalidKeyError', async () => {
      const e = await make.create()
      for (const key of BAD_KEYS) {
        await expect(e.get(key as string)).rejects.toThrow(InvalidKeyError)
        await expect(e.getMany(['ok', key as string])).rejects.toThrow(InvalidKeyError)
        await expect(e.put(key as string, 1)).rejects.toThrow(InvalidKeyError)
        await expect(e.del(key as string)).rejects.toThrow(InvalidKeyError)
      }
      for (const name of BAD_NAMES) {
        const n = name as string
        await expect(e.getRecord(n, 'x')).rejects.toThrow(InvalidKeyError)
        await expect(e.getRecord('C', n)).rejects.toThrow(InvalidKeyError)
        await expect(e.getRecords('C', ['x', n])).rejects.toThrow(InvalidKeyError)
        await expect(e.hasRecord('C', n)).rejects.toThrow(InvalidKeyError)
        await expect(e.putRecord(n, 'x', 1)).rejects.toThrow(InvalidKeyError)
        await expect(e.putRecord('C', n, 1)).rejects.toThrow(InvalidKeyError)
        await expect(e.delRecord('C', n)).rejects.toThrow(InvalidKeyError)
        await expect(e.countRecords(n)).rejects.toThrow(InvalidKeyError)
        expect(() => e.records(n)).toThrow(InvalidKeyError)
        expect(() => e.recordIds(n)).toThrow(InvalidKeyError)
        await expect(e.stageRaw('C', n, [])).rejects.toThrow(InvalidKeyError)
        expect(() => e.readRaw(n, 'x')).toThrow(InvalidKeyError)
        await expect(e.hasRaw('C', n)).rejects.toThrow(InvalidKeyError)
      }
      expect(() => e.keys({ gt: 5 as any })).toThrow(InvalidKeyError)
      expect(() => e.entries({ limit: -1 })).toThrow(ArgumentError)
      await nothingWritten(e)
    })

    it('land every one of many concurrent batches', async () => {
      const e = await make.create()
      await Promise.all(
        Array.from({ length: 50 }, (_, b) =>
          e.batch([
            ...Array.from({ length: 20 }, (_, i) => ({ type: 'put' as const, key: `c/${b}/${i}`, value: b * 100 + i })),
            { type: 'putRecord', collection: 'Conc', id: `r${b}`, value: { b } },
          ]),
        ),
      )
      expect((await collect(e.keys({ prefix: 'c/' }))).length).toBe(1000)
      expect(await e.countRecords('Conc')).toBe(50)
      expect(await e.get('c/49/19')).toBe(4919)
    })

    it('errors on purpose are StowageErrors with a code', async () => {
      const e = await make.create()
      const err = (await e.get('').catch((x) => x)) as StowageError
      expect(err).toBeInstanceOf(StowageError)
      expect(err.code).toBe('INVALID_KEY')
      const enc = (await e.put('k', () => 1).catch((x) => x)) as StowageError
      expect(enc.code).toBe('ENCODING')
    })
  })
}
