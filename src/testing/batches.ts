import assert from 'node:assert/strict'
import { ArgumentError, EncodingError, InvalidKeyError, StowageError } from '../errors.js'
import type { Engine, WriteOp } from '../engine/engine.js'
import type { EngineFactory, TestFunctions } from './factory.js'
import { bytes, collect, engines, readAll } from './helpers.js'

const BAD_NAMES: unknown[] = ['', 1, null, undefined, {}, '..', '.', '.hidden', '/abs', '/etc/passwd', 'a/b', 'a\\b', 'C:\\x', 'a\0b', 'tab\there', 'dot.', 'space ', 'x'.repeat(201), 'lone\uD800', 'CON', 'aux', 'nul.json', 'Com1', 'lpt9.txt']
const BAD_KEYS: unknown[] = ['', 1, null, undefined, {}, ['k'], 'lone\uDC00']

async function nothingWritten(e: Engine): Promise<void> {
  assert.deepEqual(await collect(e.keys()), [])
  assert.deepEqual(await collect(e.recordIds('C')), [])
  assert.equal(await e.hasRaw('C', 'r'), false)
}

export function batchTests(factory: EngineFactory, { describe, it, afterEach }: TestFunctions): void {
  const make = engines(factory, afterEach)

  describe('batches', () => {
    it('collections() lists the collections holding records, in order, once each', async () => {
      const e = await make.create()
      assert.deepEqual(await collect(e.collections()), [])
      const ops: WriteOp[] = []
      for (const c of ['b', 'a', 'ab', 'é', 'a-b']) for (let i = 0; i < 3; i++) ops.push({ type: 'putRecord', collection: c, id: `id${i}`, value: { i } })
      ops.push({ type: 'put', key: 'not-a-record', value: 1 })
      await e.batch(ops)
      assert.deepEqual(await collect(e.collections()), ['a', 'a-b', 'ab', 'b', 'é'])
      await e.batch([0, 1, 2].map((i) => ({ type: 'delRecord', collection: 'ab', id: `id${i}` })))
      assert.deepEqual(await collect(e.collections()), ['a', 'a-b', 'b', 'é'])
    })

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
      assert.equal(await e.get('a'), undefined)
      assert.equal(await e.get('b'), 2)
      assert.equal(await e.getRecord('C', 'x'), 2)
      assert.equal(await e.hasRecord('C', 'y'), false)
      await e.batch([])
    })

    it('write puts marked fresh over stored keys and records as any put, and the rest of their batch with them', async () => {
      const e = await make.create()
      await e.batch([
        { type: 'put', key: 'k1', value: 'old' },
        { type: 'putRecord', collection: 'C', id: 'x', value: { v: 'old' } },
      ])
      // The mark is the writer's belief that nothing is stored there: when it is wrong, the outcome is still a put's.
      await e.batch([
        { type: 'put', key: 'k0', value: 'new', fresh: true },
        { type: 'put', key: 'k1', value: 'replaced', fresh: true },
        { type: 'put', key: 'k2', value: 'plain' },
        { type: 'putRecord', collection: 'C', id: 'x', value: { v: 'replaced' }, fresh: true },
        { type: 'putRecord', collection: 'C', id: 'y', value: { v: 'new' }, fresh: true },
      ])
      assert.deepEqual(await collect(e.entries()), [
        ['k0', 'new'],
        ['k1', 'replaced'],
        ['k2', 'plain'],
      ])
      assert.deepEqual(await e.getRecord('C', 'x'), { v: 'replaced' })
      assert.deepEqual(await e.getRecord('C', 'y'), { v: 'new' })
      await e.batch([{ type: 'putRecord', collection: 'C', id: 'x', value: { v: 'again' }, fresh: true }])
      assert.deepEqual(await e.getRecord('C', 'x'), { v: 'again' })
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
      await assert.rejects(e.batch(ops), EncodingError)
      await assert.rejects(e.batch(ops), /C\/bad/)
      await nothingWritten(e)
      // The staged data survives a failed batch and can still be committed.
      await e.batch([{ type: 'putRaw', collection: 'C', id: 'r', staged }])
      assert.equal(Buffer.compare(await readAll(e.readRaw('C', 'r')), bytes(1000)), 0)
    })

    it('write nothing when one key or name is bad', async () => {
      const e = await make.create()
      const good: WriteOp[] = [
        { type: 'put', key: 'ok', value: 1 },
        { type: 'putRecord', collection: 'C', id: 'ok', value: 1 },
      ]
      for (const key of BAD_KEYS) {
        await assert.rejects(e.batch([...good, { type: 'put', key: key as string, value: 1 }]), InvalidKeyError)
        await assert.rejects(e.batch([...good, { type: 'del', key: key as string }]), InvalidKeyError)
      }
      for (const name of BAD_NAMES) {
        await assert.rejects(e.batch([...good, { type: 'putRecord', collection: 'C', id: name as string, value: 1 }]), InvalidKeyError)
        await assert.rejects(e.batch([...good, { type: 'delRecord', collection: name as string, id: 'x' }]), InvalidKeyError)
      }
      await assert.rejects(e.batch([...good, { type: 'nope' } as any]), ArgumentError)
      await assert.rejects(e.batch([...good, null as any]), ArgumentError)
      await assert.rejects(e.batch('ops' as any), ArgumentError)
      await nothingWritten(e)
    })

    it('refuse bad keys and names in every method with InvalidKeyError', async () => {
      const e = await make.create()
      for (const key of BAD_KEYS) {
        await assert.rejects(e.get(key as string), InvalidKeyError)
        await assert.rejects(e.getMany(['ok', key as string]), InvalidKeyError)
        await assert.rejects(e.put(key as string, 1), InvalidKeyError)
        await assert.rejects(e.del(key as string), InvalidKeyError)
      }
      for (const name of BAD_NAMES) {
        const n = name as string
        await assert.rejects(e.getRecord(n, 'x'), InvalidKeyError)
        await assert.rejects(e.getRecord('C', n), InvalidKeyError)
        await assert.rejects(e.getRecords('C', ['x', n]), InvalidKeyError)
        await assert.rejects(e.hasRecord('C', n), InvalidKeyError)
        await assert.rejects(e.putRecord(n, 'x', 1), InvalidKeyError)
        await assert.rejects(e.putRecord('C', n, 1), InvalidKeyError)
        await assert.rejects(e.delRecord('C', n), InvalidKeyError)
        await assert.rejects(e.countRecords(n), InvalidKeyError)
        assert.throws(() => e.records(n), InvalidKeyError)
        assert.throws(() => e.recordIds(n), InvalidKeyError)
        await assert.rejects(e.stageRaw('C', n, []), InvalidKeyError)
        assert.throws(() => e.readRaw(n, 'x'), InvalidKeyError)
        await assert.rejects(e.hasRaw('C', n), InvalidKeyError)
      }
      assert.throws(() => e.keys({ gt: 5 as any }), InvalidKeyError)
      assert.throws(() => e.entries({ limit: -1 }), ArgumentError)
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
      assert.equal((await collect(e.keys({ prefix: 'c/' }))).length, 1000)
      assert.equal(await e.countRecords('Conc'), 50)
      assert.equal(await e.get('c/49/19'), 4919)
    })

    it('errors on purpose are StowageErrors with a code', async () => {
      const e = await make.create()
      const err = (await e.get('').catch((x) => x)) as StowageError
      assert.ok(err instanceof StowageError)
      assert.equal(err.code, 'INVALID_KEY')
      const enc = (await e.put('k', () => 1).catch((x) => x)) as StowageError
      assert.equal(enc.code, 'ENCODING')
    })
  })
}
