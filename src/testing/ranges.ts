import assert from 'node:assert/strict'
import type { Engine, Range } from '../engine/engine.js'
import type { EngineFactory, TestFunctions } from './factory.js'
import { byCodePoint, collect, engines } from './helpers.js'

// Code point order differs from JS (UTF-16) order for '😀' versus '\uE000' and '\uFFFD'.
export const IDS = ['a', 'b', 'b-c', 'ba', 'bb', 'b😀', 'c', 'é', 'éa', '中', '\uE000', '\uFFFD', '😀', '😀x', '😀\u{10FFFF}', '\u{10FFFF}', '\u{10FFFF}\u{10FFFF}z']
export const KEYS = [...IDS, 'b\u0000', 'b\u0001z']

const BOUNDS: Range[] = [
  {},
  { gt: 'b' },
  { gte: 'b' },
  { lt: 'c' },
  { lte: 'c' },
  { gt: 'a', lt: 'é' },
  { gte: 'b', lte: 'ba' },
  { gt: 'b', lte: '\uFFFD' },
  { gte: 'bz', lt: 'zzz' },
  { gte: '\uE000' },
  { lt: '😀' },
  { prefix: 'b' },
  { prefix: 'b', gt: 'b' },
  { prefix: 'b', gte: 'b-', lt: 'bb' },
  { prefix: 'b', lte: 'ba' },
  { prefix: 'é' },
  { prefix: '😀' },
  { prefix: '\u{10FFFF}' },
  { prefix: '\uD7FF' },
  { prefix: '\uFFFD' },
  { prefix: 'zz' },
  { prefix: 'b', gt: 'c' },
  { gte: 'x', lte: 'a' },
  { gt: 'b', lt: 'b' },
]

function expected(all: string[], r: Range): string[] {
  let out = [...all].sort(byCodePoint).filter(
    (k) =>
      (r.gt === undefined || byCodePoint(k, r.gt) > 0) &&
      (r.gte === undefined || byCodePoint(k, r.gte) >= 0) &&
      (r.lt === undefined || byCodePoint(k, r.lt) < 0) &&
      (r.lte === undefined || byCodePoint(k, r.lte) <= 0) &&
      (r.prefix === undefined || k.startsWith(r.prefix)),
  )
  if (r.reverse) out.reverse()
  if (r.limit !== undefined && r.limit !== Infinity) out = out.slice(0, r.limit)
  return out
}

export function variants(): Range[] {
  const out: Range[] = []
  for (const b of BOUNDS) for (const reverse of [false, true]) for (const limit of [undefined, 0, 2, Infinity]) out.push({ ...b, reverse, limit })
  return out
}

export async function fill(e: Engine): Promise<void> {
  await e.batch([
    ...KEYS.map((key) => ({ type: 'put' as const, key, value: `v:${key}` })),
    ...IDS.map((id) => ({ type: 'putRecord' as const, collection: 'C', id, value: { id } })),
    // Neighbouring collections must not leak into C's listings.
    { type: 'putRecord', collection: 'C1', id: 'a', value: 1 },
    { type: 'putRecord', collection: 'B', id: 'zz', value: 1 },
    { type: 'putRecord', collection: 'Cc', id: 'a', value: 1 },
  ])
}

export function rangeTests(factory: EngineFactory, { describe, it, afterEach }: TestFunctions): void {
  const make = engines(factory, afterEach)

  describe('ordering and ranges', () => {
    it('entries and keys honour every range, in code point order', async () => {
      const e = await make.create()
      await fill(e)
      for (const r of variants()) {
        const want = expected(KEYS, r)
        assert.deepEqual(await collect(e.keys(r)), want, JSON.stringify(r))
        assert.deepEqual(await collect(e.entries(r)), want.map((k) => [k, `v:${k}`]), JSON.stringify(r))
      }
    })

    it('records and recordIds honour every range, in code point order, within one collection', async () => {
      const e = await make.create()
      await fill(e)
      for (const r of variants()) {
        const want = expected(IDS, r)
        assert.deepEqual(await collect(e.recordIds('C', r)), want, JSON.stringify(r))
        assert.deepEqual(await collect(e.records('C', r)), want.map((id) => [id, { id }]), JSON.stringify(r))
      }
      assert.deepEqual(await collect(e.recordIds('C1')), ['a'])
      assert.deepEqual(await collect(e.recordIds('Nope')), [])
    })

    it('records and entries do not see each other', async () => {
      const e = await make.create()
      await e.putRecord('C', 'x', 1)
      await e.put('y', 2)
      assert.deepEqual(await collect(e.keys()), ['y'])
      assert.deepEqual(await collect(e.recordIds('C')), ['x'])
      assert.equal(await e.get('x'), undefined)
    })

    it('getMany and getRecords give undefined for missing keys, in order', async () => {
      const e = await make.create()
      await fill(e)
      assert.deepEqual(await e.getMany(['a', 'missing', '😀', 'a']), ['v:a', undefined, 'v:😀', 'v:a'])
      assert.deepEqual(await e.getMany([]), [])
      assert.deepEqual(await e.getRecords('C', ['nope', 'é', 'b']), [undefined, { id: 'é' }, { id: 'b' }])
      assert.deepEqual(await e.getRecords('Other', ['a']), [undefined])
    })

    it('hasRecord, countRecords, delRecord and del', async () => {
      const e = await make.create()
      await fill(e)
      assert.equal(await e.hasRecord('C', 'ba'), true)
      assert.equal(await e.hasRecord('C', 'zz'), false)
      assert.equal(await e.hasRecord('C1', 'b'), false)
      assert.equal(await e.countRecords('C'), IDS.length)
      assert.equal(await e.countRecords('C1'), 1)
      assert.equal(await e.countRecords('Empty'), 0)
      await e.delRecord('C', 'ba')
      await e.delRecord('C', 'not-there')
      await e.del('a')
      await e.del('not-there')
      assert.equal(await e.hasRecord('C', 'ba'), false)
      assert.equal(await e.getRecord('C', 'ba'), undefined)
      assert.equal(await e.countRecords('C'), IDS.length - 1)
      assert.equal(await e.get('a'), undefined)
    })

    it('stop cleanly when a consumer breaks out early', async () => {
      const e = await make.create()
      await e.batch(Array.from({ length: 300 }, (_, i) => ({ type: 'put' as const, key: `k${String(i).padStart(4, '0')}`, value: i })))
      await e.batch(Array.from({ length: 300 }, (_, i) => ({ type: 'putRecord' as const, collection: 'R', id: `r${String(i).padStart(4, '0')}`, value: i })))
      for (let round = 0; round < 20; round++) {
        for await (const [k] of e.entries()) if (k === 'k0002') break
        for await (const k of e.keys({ reverse: true })) if (k) break
        for await (const r of e.records('R')) if (r) break
        for await (const id of e.recordIds('R')) if (id) break
      }
      const it1 = e.entries()[Symbol.asyncIterator]()
      assert.deepEqual((await it1.next()).value, ['k0000', 0])
      await it1.return?.()
      assert.equal(await e.countRecords('R'), 300)
      await e.put('after', 1)
      assert.equal(await e.get('after'), 1)
    })

    it('two iterations interleave independently', async () => {
      const e = await make.create()
      await fill(e)
      const a = e.keys()[Symbol.asyncIterator]()
      const b = e.keys({ reverse: true })[Symbol.asyncIterator]()
      assert.equal((await a.next()).value, 'a')
      assert.equal((await b.next()).value, [...KEYS].sort(byCodePoint).at(-1))
      assert.equal((await a.next()).value, 'b')
      await a.return?.()
      await b.return?.()
    })

    it('100k entries in batches, then counted and scanned in order', async () => {
      const e = await make.create()
      const n = 100_000
      const key = (i: number) => `many/${String(i).padStart(6, '0')}`
      for (let start = 0; start < n; start += 5000) {
        await e.batch(Array.from({ length: 5000 }, (_, j) => ({ type: 'put' as const, key: key(start + j), value: start + j })))
      }
      let count = 0
      let prev = ''
      for await (const k of e.keys({ prefix: 'many/' })) {
        if (k <= prev) throw new Error(`out of order: ${k} after ${prev}`)
        prev = k
        count++
      }
      assert.equal(count, n)
      let i = n
      for await (const [k, v] of e.entries({ prefix: 'many/', reverse: true })) {
        i--
        if (k !== key(i) || v !== i) throw new Error(`expected ${key(i)}=${i}, got ${k}=${v}`)
      }
      assert.equal(i, 0)
      assert.deepEqual(await collect(e.keys({ gte: key(49_998), limit: 3 })), [key(49_998), key(49_999), key(50_000)])
    }, 60_000)

    it('10k records counted and listed in id order', async () => {
      const e = await make.create()
      const n = 10_000
      for (let start = 0; start < n; start += 1000) {
        await e.batch(Array.from({ length: 1000 }, (_, j) => ({ type: 'putRecord' as const, collection: 'Many', id: `id${String(n - start - j).padStart(5, '0')}`, value: { n: start + j } })))
      }
      assert.equal(await e.countRecords('Many'), n)
      const ids = await collect(e.recordIds('Many'))
      assert.equal(ids.length, n)
      assert.equal(ids[0], 'id00001')
      assert.equal(ids[n - 1], `id${n}`)
      assert.deepEqual([...ids].sort(), ids)
    }, 60_000)
  })
}
