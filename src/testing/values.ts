import assert from 'node:assert/strict'
import { EncodingError } from '../errors.js'
import type { EngineFactory, TestFunctions } from './factory.js'
import { collect, engines, plain } from './helpers.js'

/** Every plain value type, each alone and all together. */
export function sampleValues(): [string, unknown][] {
  const nullProto = Object.create(null)
  nullProto.x = 1
  return [
    ['empty string', ''],
    ['unicode string', 'héllo wörld 中文 😀 \u0000 \u200b'],
    ['lone surrogates', 'a\uD800b\uDFFF'],
    ['zero', 0],
    ['negative zero', -0],
    ['float', -1.5e-300],
    ['NaN', NaN],
    ['Infinity', Infinity],
    ['-Infinity', -Infinity],
    ['unsafe integer number', 2 ** 60],
    ['max safe integer', Number.MAX_SAFE_INTEGER],
    ['small bigint', -5n],
    ['bigint beyond 64 bits', 2n ** 100n + 1n],
    ['negative huge bigint', -(3n ** 80n)],
    ['true', true],
    ['false', false],
    ['null', null],
    ['date', new Date(1700000000123)],
    ['old date', new Date(-8.64e15)],
    ['bytes', Uint8Array.from([0, 1, 127, 128, 255])],
    ['empty bytes', new Uint8Array(0)],
    ['buffer', Buffer.from('buffer bytes')],
    ['empty array', []],
    ['empty object', {}],
    ['null-prototype object', nullProto],
    ['nested', { a: [1, { b: [new Date(5), new Uint8Array([9]), -0, 7n] }], 'key with spaces': { '': 'empty key' } }],
    ['unicode keys', { 'é': 1, '😀': 2, '\uD800': 3 }],
    ['__proto__ key', JSON.parse('{"__proto__": {"polluted": true}, "ok": 1}')],
    ['undefined in arrays', [1, undefined, 2]],
  ]
}

export function assertSame(actual: unknown, expected: unknown): void {
  assert.deepEqual(plain(actual), plain(expected))
  if (typeof expected === 'number') assert.ok(Object.is(actual, expected))
  if (typeof expected === 'bigint') assert.equal(typeof actual, 'bigint')
  if (expected instanceof Date) assert.ok(actual instanceof Date)
  if (expected instanceof Uint8Array) assert.ok(actual instanceof Uint8Array)
}

export function valueTests(factory: EngineFactory, { describe, it, afterEach }: TestFunctions): void {
  const make = engines(factory, afterEach)

  describe('values', () => {
    it('round-trip every type as entries', async () => {
      const e = await make.create()
      const samples = sampleValues()
      await e.batch(samples.map(([name, value]) => ({ type: 'put', key: `v/${name}`, value })))
      for (const [name, value] of samples) assertSame(await e.get(`v/${name}`), value)
      const all = Object.fromEntries(await collect(e.entries({ prefix: 'v/' })))
      for (const [name, value] of samples) assertSame(all[`v/${name}`], value)
    })

    it('round-trip every type as records, alone and together', async () => {
      const e = await make.create()
      const samples = sampleValues()
      await e.batch(samples.map(([name, value], i) => ({ type: 'putRecord', collection: 'Sample', id: `s${i}`, value })))
      await e.putRecord('Sample', 'all', Object.fromEntries(samples))
      for (const [i, [, value]] of samples.entries()) assertSame(await e.getRecord('Sample', `s${i}`), value)
      const all = (await e.getRecord('Sample', 'all')) as Record<string, unknown>
      for (const [name, value] of samples) assertSame(all[name], value)
      const listed = new Map(await collect(e.records('Sample')))
      for (const [i, [, value]] of samples.entries()) assertSame(listed.get(`s${i}`), value)
    })

    it('keep special values exact', async () => {
      const e = await make.create()
      await e.putRecord('R', 'x', { nz: -0, nan: NaN, big: 2n ** 64n, d: new Date(0), b: new Uint8Array([1]) })
      const r = (await e.getRecord('R', 'x')) as any
      assert.ok(Object.is(r.nz, -0))
      assert.ok(Number.isNaN(r.nan))
      assert.equal(r.big, 2n ** 64n)
      assert.ok(r.d instanceof Date)
      assert.equal(r.d.getTime(), 0)
      assert.ok(r.b instanceof Uint8Array)
    })

    it('keep a __proto__ key as data, never as a prototype', async () => {
      const e = await make.create()
      await e.put('p', JSON.parse('{"__proto__": {"polluted": true}}'))
      const v = (await e.get('p')) as any
      assert.equal(Object.getPrototypeOf(v), Object.prototype)
      assert.deepEqual(Object.getOwnPropertyDescriptor(v, '__proto__')?.value, { polluted: true })
      assert.equal(({} as any).polluted, undefined)
    })

    it('read an undefined property back as undefined and a stored undefined entry as missing', async () => {
      const e = await make.create()
      await e.batch([{ type: 'put', key: 'u', value: { a: undefined, b: 1 } }, { type: 'put', key: 'top' }])
      const v = (await e.get('u')) as any
      assert.equal(v.a, undefined)
      assert.equal(v.b, 1)
      assert.equal(await e.get('top'), undefined)
      assert.equal(await e.get('never'), undefined)
    })

    it('put() without a value stores null', async () => {
      const e = await make.create()
      await e.put('n')
      assert.equal(await e.get('n'), null)
    })

    it('return copies: changing a read value does not change the stored one', async () => {
      const e = await make.create()
      await e.putRecord('R', 'c', { list: [1], bytes: new Uint8Array([1]) })
      const a = (await e.getRecord('R', 'c')) as any
      a.list.push(2)
      a.bytes[0] = 9
      assert.deepEqual(plain(await e.getRecord('R', 'c')), { list: [1], bytes: new Uint8Array([1]) })
    })

    it('refuse unencodable values with EncodingError naming the key', async () => {
      const e = await make.create()
      const cyclic: any = { a: {} }
      cyclic.a.back = cyclic
      const bad: unknown[] = [() => 1, Symbol('s'), { m: new Map() }, new Set(), cyclic, { d: new Date(NaN) }, new (class Thing {})(), { w: new WeakMap() }]
      for (const value of bad) {
        await assert.rejects(e.put('bad-entry', value), EncodingError)
        await assert.rejects(e.put('bad-entry', value), /bad-entry/)
        await assert.rejects(e.putRecord('Account', 'acc1', { props: value }), EncodingError)
        await assert.rejects(e.putRecord('Account', 'acc1', { props: value }), /Account\/acc1/)
      }
      assert.equal(await e.get('bad-entry'), undefined)
      assert.equal(await e.hasRecord('Account', 'acc1'), false)
    })

    it('store a 10 MB record and a 10 MB entry', async () => {
      const e = await make.create()
      const big = new Uint8Array(10 * 1024 * 1024)
      for (let i = 0; i < big.length; i += 4096) big[i] = i & 0xff
      const text = 'x'.repeat(10 * 1024 * 1024 - 1) + 'é'
      await e.putRecord('Big', 'one', { big, n: 1 })
      await e.put('big-entry', text)
      const r = (await e.getRecord('Big', 'one')) as any
      assert.equal(r.n, 1)
      assert.equal(r.big.length, big.length)
      assert.equal(Buffer.compare(r.big, big), 0)
      assert.equal(await e.get('big-entry'), text)
    }, 60_000)
  })
}
