import assert from 'node:assert/strict'
import { ClosedError } from '../errors.js'
import type { Engine, StagedRaw } from '../engine/engine.js'
import type { EngineFactory, TestFunctions } from './factory.js'
import { bytes, collect, engines, failure, readAll } from './helpers.js'

/** Every public method, called with valid arguments (the abstract-level `test/traits/closed.js` idea). */
function everyMethod(e: Engine, staged: StagedRaw): [string, () => unknown][] {
  return [
    ['sync', () => e.sync()],
    ['get', () => e.get('k')],
    ['getMany', () => e.getMany(['k'])],
    ['entries', () => e.entries()],
    ['keys', () => e.keys()],
    ['getRecord', () => e.getRecord('C', 'x')],
    ['getRecords', () => e.getRecords('C', ['x'])],
    ['hasRecord', () => e.hasRecord('C', 'x')],
    ['records', () => e.records('C')],
    ['recordIds', () => e.recordIds('C')],
    ['countRecords', () => e.countRecords('C')],
    ['collections', () => e.collections()],
    ['getSync', () => e.getSync('k')],
    ['getRecordSync', () => e.getRecordSync('C', 'x')],
    ['entriesSync', () => e.entriesSync()],
    ['keysSync', () => e.keysSync()],
    ['recordsSync', () => e.recordsSync('C')],
    ['batch', () => e.batch([{ type: 'put', key: 'k', value: 1 }])],
    ['put', () => e.put('k', 1)],
    ['del', () => e.del('k')],
    ['putRecord', () => e.putRecord('C', 'x', 1)],
    ['delRecord', () => e.delRecord('C', 'x')],
    ['stageRaw', () => e.stageRaw('C', 'x', [new Uint8Array(1)])],
    ['discardRaw', () => e.discardRaw(staged)],
    ['readRaw', () => e.readRaw('C', 'x')],
    ['hasRaw', () => e.hasRaw('C', 'x')],
    ['rawPath', () => e.rawPath('C', 'x')],
  ]
}

export function lifecycleTests(factory: EngineFactory, { describe, it, afterEach }: TestFunctions): void {
  const make = engines(factory, afterEach)

  describe('lifecycle', () => {
    it('every public method on a closed engine throws ClosedError', async () => {
      const e = await make.create()
      assert.equal(e.status, 'open')
      const staged = await e.stageRaw('C', 'x', [new Uint8Array(1)])
      await e.close()
      assert.equal(e.status, 'closed')
      for (const [name, call] of everyMethod(e, staged)) {
        const err = await failure(call)
        assert.ok(err instanceof ClosedError, name)
        assert.equal((err as ClosedError).code, 'CLOSED')
      }
      await e.close()
    })

    it('close() waits for in-flight writes', async () => {
      const e = await make.create()
      const writes = Array.from({ length: 20 }, (_, i) => e.put(`w${i}`, i))
      const raw = e.stageRaw('F', 'x', [bytes(300_000)])
      await e.close()
      await Promise.all(writes)
      await raw
      if (factory.reopen) {
        const again = await make.reopen(e)
        assert.equal(await again.get('w19'), 19)
      }
    })

    it('an iteration running when the engine closes ends or throws ClosedError, never hangs; close() resolves', async () => {
      const e = await make.create()
      const keys = Array.from({ length: 2000 }, (_, i) => `k${String(i).padStart(4, '0')}`)
      await e.batch(keys.map((key, i) => ({ type: 'put' as const, key, value: i })))
      const running = e.keys()[Symbol.asyncIterator]()
      const seen = [(await running.next()).value]
      const closing = e.close()
      try {
        for (let next = await running.next(); !next.done; next = await running.next()) seen.push(next.value)
      } catch (err) {
        assert.ok(err instanceof ClosedError, String(err))
      }
      await closing
      assert.equal(e.status, 'closed')
      assert.deepEqual(seen, keys.slice(0, seen.length))
    })

    it('sync() resolves on an open engine', async () => {
      const e = await make.create()
      await e.put('k', 1)
      await e.sync()
      assert.equal(await e.get('k'), 1)
    })

    it('supports says whether the engine is persistent', async () => {
      const e = await make.create()
      assert.equal(typeof e.supports.persistent, 'boolean')
      assert.equal(e.supports.persistent, Boolean(factory.reopen))
      assert.equal(typeof e.describe(), 'string')
      for (const flag of [e.supports.syncReads, e.supports.syncRanges, e.supports.backgroundReads]) assert.ok(flag === undefined || typeof flag === 'boolean')
    })

    if (factory.reopen) {
      it('keeps entries, records and raw data across close and reopen', async () => {
        const e = await make.create()
        const data = bytes(400_000, 9)
        const staged = await e.stageRaw('Img', 'p', [data])
        await e.batch([
          { type: 'put', key: 'é/1', value: { d: new Date(3), n: -0, b: 2n ** 70n } },
          { type: 'putRecord', collection: 'Acc', id: 'a1', value: { name: 'Ann', bytes: new Uint8Array([1, 2]) } },
          { type: 'putRecord', collection: 'Acc', id: 'a2', value: { name: 'Bob' } },
          { type: 'putRaw', collection: 'Img', id: 'p', staged },
        ])
        const again = await make.reopen(e)
        assert.equal(e.status, 'closed')
        const v = (await again.get('é/1')) as any
        assert.deepEqual(v.d, new Date(3))
        assert.ok(Object.is(v.n, -0))
        assert.equal(v.b, 2n ** 70n)
        assert.deepEqual(await collect(again.recordIds('Acc')), ['a1', 'a2'])
        assert.deepEqual(new Uint8Array(((await again.getRecord('Acc', 'a1')) as any).bytes), new Uint8Array([1, 2]))
        assert.equal(Buffer.compare(await readAll(again.readRaw('Img', 'p')), data), 0)
        await again.putRecord('Acc', 'a3', { name: 'Cy' })
        const third = await make.reopen(again)
        assert.equal(await third.countRecords('Acc'), 3)
      })

      it('staged but uncommitted raw data does not survive a reopen', async () => {
        const e = await make.create()
        const staged = await e.stageRaw('Img', 'q', [bytes(100_000)])
        const again = await make.reopen(e)
        assert.equal(await again.hasRaw('Img', 'q'), false)
        await assert.rejects(again.batch([{ type: 'putRaw', collection: 'Img', id: 'q', staged }]))
        assert.equal(await again.hasRaw('Img', 'q'), false)
      })
    }
  })
}
