import { describe, expect, it } from 'vitest'
import { ClosedError } from '../../../src/errors.js'
import type { Engine, StagedRaw } from '../../../src/engine/engine.js'
import type { EngineFactory } from '../factory.js'
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

export function lifecycleTests(factory: EngineFactory): void {
  const make = engines(factory)

  describe('lifecycle', () => {
    it('every public method on a closed engine throws ClosedError', async () => {
      const e = await make.create()
      expect(e.status).toBe('open')
      const staged = await e.stageRaw('C', 'x', [new Uint8Array(1)])
      await e.close()
      expect(e.status).toBe('closed')
      for (const [name, call] of everyMethod(e, staged)) {
        const err = await failure(call)
        expect(err, name).toBeInstanceOf(ClosedError)
        expect((err as ClosedError).code).toBe('CLOSED')
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
        expect(await again.get('w19')).toBe(19)
      }
    })

    it('sync() resolves on an open engine', async () => {
      const e = await make.create()
      await e.put('k', 1)
      await e.sync()
      expect(await e.get('k')).toBe(1)
    })

    it('supports says whether the engine is persistent', async () => {
      const e = await make.create()
      expect(typeof e.supports.persistent).toBe('boolean')
      expect(e.supports.persistent).toBe(Boolean(factory.reopen))
      expect(typeof e.describe()).toBe('string')
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
        expect(e.status).toBe('closed')
        const v = (await again.get('é/1')) as any
        expect(v.d).toEqual(new Date(3))
        expect(Object.is(v.n, -0)).toBe(true)
        expect(v.b).toBe(2n ** 70n)
        expect(await collect(again.recordIds('Acc'))).toEqual(['a1', 'a2'])
        expect(new Uint8Array(((await again.getRecord('Acc', 'a1')) as any).bytes)).toEqual(new Uint8Array([1, 2]))
        expect(Buffer.compare(await readAll(again.readRaw('Img', 'p')), data)).toBe(0)
        await again.putRecord('Acc', 'a3', { name: 'Cy' })
        const third = await make.reopen(again)
        expect(await third.countRecords('Acc')).toBe(3)
      })

      it('staged but uncommitted raw data does not survive a reopen', async () => {
        const e = await make.create()
        const staged = await e.stageRaw('Img', 'q', [bytes(100_000)])
        const again = await make.reopen(e)
        expect(await again.hasRaw('Img', 'q')).toBe(false)
        await expect(again.batch([{ type: 'putRaw', collection: 'Img', id: 'q', staged }])).rejects.toThrow()
        expect(await again.hasRaw('Img', 'q')).toBe(false)
      })
    }
  })
}
