import assert from 'node:assert/strict'
import { ArgumentError, InvalidKeyError } from '../errors.js'
import type { Engine } from '../engine/engine.js'
import type { EngineFactory, TestFunctions } from './factory.js'
import { collect, engines } from './helpers.js'
import { fill, variants } from './ranges.js'
import { assertSame, sampleValues } from './values.js'

/** Without `supports.syncReads` / `syncRanges`, the synchronous methods refuse with ArgumentError. */
function refusesSyncReads(e: Engine): void {
  assert.throws(() => e.getSync('k'), ArgumentError)
  assert.throws(() => e.getRecordSync('C', 'x'), ArgumentError)
}

function refusesSyncRanges(e: Engine): void {
  assert.throws(() => e.entriesSync(), ArgumentError)
  assert.throws(() => e.keysSync({ prefix: 'b' }), ArgumentError)
  assert.throws(() => e.recordsSync('C'), ArgumentError)
}

/** `getSync` and `getRecordSync` agree with `get` and `getRecord` on every key and id given. */
async function agree(e: Engine, keys: string[], records: [string, string][]): Promise<void> {
  for (const key of keys) assertSame(e.getSync(key), await e.get(key))
  for (const [collection, id] of records) assertSame(e.getRecordSync(collection, id), await e.getRecord(collection, id))
}

export function syncReadTests(factory: EngineFactory, { describe, it, afterEach }: TestFunctions): void {
  const make = engines(factory, afterEach)

  describe('synchronous reads', () => {
    it('getSync and getRecordSync give what get and getRecord give, after writes and deletes (else ArgumentError)', async () => {
      const e = await make.create()
      if (e.supports.syncReads !== true) return refusesSyncReads(e)
      const samples = sampleValues()
      await e.batch([
        ...samples.map(([name, value]) => ({ type: 'put' as const, key: `v/${name}`, value })),
        ...samples.map(([, value], i) => ({ type: 'putRecord' as const, collection: 'Sample', id: `s${i}`, value })),
        { type: 'put', key: 'stored undefined' },
        { type: 'putRecord', collection: 'C', id: 'x', value: { n: 1 } },
      ])
      for (const [i, [name, value]] of samples.entries()) {
        assertSame(e.getSync(`v/${name}`), value)
        assertSame(e.getRecordSync('Sample', `s${i}`), value)
      }
      const keys = ['v/date', 'stored undefined', 'missing', 'x']
      const records: [string, string][] = [['C', 'x'], ['C', 'missing'], ['Other', 'x'], ['Sample', 's0']]
      await agree(e, keys, records)
      assert.equal(e.getSync('missing'), undefined)
      assert.equal(e.getSync('x'), undefined) // records and entries do not see each other
      assert.equal(e.getRecordSync('C', 'missing'), undefined)

      await e.batch([
        { type: 'put', key: 'missing', value: 'now here' },
        { type: 'del', key: 'v/date' },
        { type: 'putRecord', collection: 'C', id: 'x', value: { n: 2 } },
        { type: 'delRecord', collection: 'Sample', id: 's0' },
      ])
      assert.equal(e.getSync('missing'), 'now here')
      assert.equal(e.getSync('v/date'), undefined)
      assert.deepEqual(e.getRecordSync('C', 'x'), { n: 2 })
      assert.equal(e.getRecordSync('Sample', 's0'), undefined)
      await agree(e, keys, records)
    })

    it('getSync and getRecordSync return copies and refuse bad keys and names at once', async () => {
      const e = await make.create()
      if (e.supports.syncReads !== true) return refusesSyncReads(e)
      await e.batch([
        { type: 'put', key: 'k', value: { list: [1] } },
        { type: 'putRecord', collection: 'C', id: 'x', value: { list: [1] } },
      ])
      ;(e.getSync('k') as { list: number[] }).list.push(2)
      ;(e.getRecordSync('C', 'x') as { list: number[] }).list.push(2)
      assert.deepEqual(e.getSync('k'), { list: [1] })
      assert.deepEqual(e.getRecordSync('C', 'x'), { list: [1] })
      for (const key of ['', 1, null, 'lone\uDC00']) assert.throws(() => e.getSync(key as string), InvalidKeyError)
      for (const name of ['', '..', 'a/b', '.hidden', 'CON', 'x'.repeat(201)]) {
        assert.throws(() => e.getRecordSync('C', name), InvalidKeyError)
        assert.throws(() => e.getRecordSync(name, 'x'), InvalidKeyError)
      }
    })

    it('entriesSync, keysSync and recordsSync give what their async twins give, for every range (else ArgumentError)', async () => {
      const e = await make.create()
      await fill(e)
      if (e.supports.syncRanges !== true) return refusesSyncRanges(e)
      for (const r of variants()) {
        const shown = JSON.stringify(r)
        assert.deepEqual([...e.keysSync(r)], await collect(e.keys(r)), shown)
        assert.deepEqual([...e.entriesSync(r)], await collect(e.entries(r)), shown)
        assert.deepEqual([...e.recordsSync('C', r)], await collect(e.records('C', r)), shown)
      }
      assert.deepEqual([...e.recordsSync('C1')], [['a', 1]])
      assert.deepEqual([...e.recordsSync('Nope')], [])
      await e.batch([
        { type: 'del', key: 'a' },
        { type: 'put', key: 'aa', value: 'new' },
        { type: 'delRecord', collection: 'C', id: 'b' },
        { type: 'putRecord', collection: 'C', id: 'bz', value: { id: 'bz' } },
      ])
      assert.deepEqual([...e.keysSync({ lt: 'b' })], ['aa'])
      assert.deepEqual([...e.entriesSync()], await collect(e.entries()))
      assert.deepEqual([...e.recordsSync('C', { prefix: 'b' })], await collect(e.records('C', { prefix: 'b' })))
      assert.throws(() => e.keysSync({ gt: 5 as unknown as string }), InvalidKeyError)
      assert.throws(() => e.entriesSync({ limit: -1 }), ArgumentError)
      assert.throws(() => e.recordsSync('a/b'), InvalidKeyError)
    })

    it('synchronous iterations stopped early release the store: writes and reads go on', async () => {
      const e = await make.create()
      await e.batch(Array.from({ length: 300 }, (_, i) => ({ type: 'put' as const, key: `k${String(i).padStart(4, '0')}`, value: i })))
      await e.batch(Array.from({ length: 300 }, (_, i) => ({ type: 'putRecord' as const, collection: 'R', id: `r${String(i).padStart(4, '0')}`, value: i })))
      if (e.supports.syncRanges !== true) return refusesSyncRanges(e)
      for (let round = 0; round < 20; round++) {
        for (const [k] of e.entriesSync()) if (k === 'k0002') break
        for (const k of e.keysSync({ reverse: true })) if (k) break
        for (const r of e.recordsSync('R')) if (r) break
        await e.put(`during/${round}`, round)
      }
      const first = e.entriesSync()[Symbol.iterator]()
      assert.deepEqual(first.next().value, ['during/0', 0])
      first.return?.()
      assert.equal([...e.keysSync({ prefix: 'during/' })].length, 20)
      assert.equal(await e.countRecords('R'), 300)
    })
  })
}
