import assert from 'node:assert/strict'
import { ArgumentError, ClosedError } from '../errors.js'
import type { Engine } from '../engine/engine.js'
import type { EngineFactory, TestFunctions } from './factory.js'
import { bytes, collect, engines } from './helpers.js'

async function concat(chunks: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const out: Uint8Array[] = []
  for await (const c of chunks) out.push(c)
  return Buffer.concat(out)
}

async function stage(e: Engine, collection: string, id: string, data: Uint8Array) {
  return { type: 'putRaw' as const, collection, id, staged: await e.stageRaw(collection, id, [data]) }
}

/** Where `supports.snapshots`: a view that keeps reading the store as it was, while writes go on. */
export function snapshotTests(factory: EngineFactory, { describe, it, afterEach }: TestFunctions): void {
  const make = engines(factory, afterEach)

  describe('snapshots', () => {
    it('snapshot() reads records, entries, collections and raw data as they were when it was taken, while writes go on (else ArgumentError)', async () => {
      const e = await make.create()
      if (e.supports.snapshots !== true) {
        await assert.rejects(e.snapshot(), ArgumentError)
        return
      }
      const before = bytes(70_000, 1)
      await e.batch([
        { type: 'putRecord', collection: 'A', id: 'a1', value: { n: 1 } },
        { type: 'putRecord', collection: 'A', id: 'a2', value: { n: 2 } },
        { type: 'put', key: 'k1', value: 'one' },
        await stage(e, 'A', 'a1', before),
      ])
      const view = await e.snapshot()
      try {
        // Writes after the snapshot: changes, deletions, additions, a new collection, new raw data.
        await e.batch([
          { type: 'putRecord', collection: 'A', id: 'a1', value: { n: 10 } },
          { type: 'delRecord', collection: 'A', id: 'a2' },
          { type: 'putRecord', collection: 'A', id: 'a3', value: { n: 3 } },
          { type: 'putRecord', collection: 'B', id: 'b1', value: { n: 4 } },
          { type: 'put', key: 'k1', value: 'changed' },
          { type: 'put', key: 'k2', value: 'two' },
          await stage(e, 'A', 'a1', bytes(10, 2)),
          await stage(e, 'A', 'a3', bytes(10, 3)),
        ])
        assert.deepEqual(await collect(view.collections()), ['A'])
        assert.deepEqual(await collect(view.records('A')), [
          ['a1', { n: 1 }],
          ['a2', { n: 2 }],
        ])
        assert.deepEqual(await collect(view.records('A', { gt: 'a1' })), [['a2', { n: 2 }]])
        assert.deepEqual(await collect(view.entries()), [['k1', 'one']])
        assert.equal(await view.hasRaw('A', 'a1'), true)
        assert.equal(await view.hasRaw('A', 'a3'), false)
        assert.ok((await concat(view.readRaw('A', 'a1', { chunkSize: 1000 }))).equals(before))
        // The engine itself sees the writes.
        assert.deepEqual(await e.getRecord('A', 'a1'), { n: 10 })
        assert.deepEqual(await collect(e.collections()), ['A', 'B'])
      } finally {
        await view.release()
      }
    })

    it('a snapshot refuses bad arguments, and closing the engine ends it', async () => {
      const e = await make.create()
      if (e.supports.snapshots !== true) return
      await e.putRecord('A', 'a1', { n: 1 })
      const view = await e.snapshot()
      assert.throws(() => view.records('bad/name'), /Unsafe collection/)
      assert.throws(() => view.readRaw('A', 'a1', { chunkSize: 0 }), ArgumentError)
      await e.close()
      await assert.rejects(collect(view.records('A')), ClosedError)
      await view.release()
    })
  })
}
