import { describe, expect, it } from 'vitest'
import { CorruptionError, EncodingError } from '../../src/errors.js'
import { assertEncodable } from '../../src/engine/plain-data.js'
import { decodeValue, encodeValue } from '../../src/engine/level/msgpack-codec.js'

const roundTrip = (v: unknown) => decodeValue(encodeValue(v, 'k'), 'k')

describe('assertEncodable', () => {
  it('accepts plain data', () => {
    const nullProto = Object.create(null)
    nullProto.a = 1
    for (const v of [
      'x', '', 1, -0, NaN, Infinity, -Infinity, true, null, undefined, 10n ** 30n, new Date(0),
      new Uint8Array(3), Buffer.from('x'), [1, [2, { a: [] }]], { a: { b: undefined } }, nullProto, '\uD800',
    ]) {
      expect(() => assertEncodable(v, 'k')).not.toThrow()
    }
  })

  it('accepts deep nesting and shared (acyclic) references', () => {
    let deep: unknown = 1
    for (let i = 0; i < 500; i++) deep = { d: deep }
    const shared = { s: 1 }
    expect(() => assertEncodable({ deep, a: shared, b: [shared, shared] }, 'k')).not.toThrow()
  })

  const bad: [string, unknown, RegExp][] = [
    ['a function', { props: { tags: [1, 2, () => 1] } }, /Cannot store Account\/1 at props\.tags\[2\]: a function/],
    ['a symbol value', { s: Symbol('x') }, /at s: a symbol/],
    ['a class instance', { v: new (class Point { x = 1 })() }, /at v: an instance of Point/],
    ['a Map', [new Map()], /at \[0\]: an instance of Map/],
    ['a Set', new Set(), /an instance of Set/],
    ['a WeakMap', { w: new WeakMap() }, /WeakMap/],
    ['an invalid Date', { 'odd key': new Date(NaN) }, /at \["odd key"\]: an invalid Date/],
    ['a Date subclass', new (class D extends Date {})(), /Date subclass/],
    ['a RegExp', /x/, /RegExp/],
    ['a Float64Array', new Float64Array(1), /Float64Array/],
    ['an ArrayBuffer', new ArrayBuffer(1), /ArrayBuffer/],
    ['a boxed string', new String('x'), /String/],
    ['an Error', new Error('x'), /Error/],
  ]
  for (const [what, value, message] of bad) {
    it(`refuses ${what}`, () => {
      expect(() => assertEncodable(value, 'Account/1')).toThrow(EncodingError)
      expect(() => assertEncodable(value, 'Account/1')).toThrow(message)
    })
  }

  it('ignores symbol-keyed properties, like JSON', () => {
    expect(roundTrip({ a: 1, [Symbol('x')]: 2 })).toEqual({ a: 1 })
  })

  it('refuses cycles, naming the path', () => {
    const a: any = { x: { y: [] } }
    a.x.y.push(a)
    expect(() => assertEncodable(a, 'k')).toThrow(/Cannot store k at x\.y\[0\]: a cycle/)
    const self: any = []
    self.push(self)
    expect(() => assertEncodable(self, 'k')).toThrow(EncodingError)
  })
})

describe('msgpack codec', () => {
  it('round-trips every plain type exactly', () => {
    const v = {
      s: 'héllo 𝄞 \u0000', n: 1.5, i: -7, big: 2 ** 60, negZero: -0, nan: NaN, inf: Infinity, ninf: -Infinity,
      t: true, f: false, nul: null, b1: 5n, b2: -(2n ** 64n) - 3n, b3: 2n ** 200n, d: new Date(1700000000123),
      bytes: new Uint8Array([0, 1, 255]), arr: [1, 'a', [null, undefined], { x: -0 }], empty: {}, emptyArr: [],
    }
    const out = roundTrip(v) as any
    expect({ ...out, bytes: undefined }).toEqual({ ...v, bytes: undefined })
    expect(new Uint8Array(out.bytes)).toEqual(v.bytes)
    expect(Object.is(out.negZero, -0)).toBe(true)
    expect(Object.is(out.arr[3].x, -0)).toBe(true)
    expect(out.nan).toBeNaN()
    expect(out.b1).toBe(5n)
    expect(out.b3).toBe(2n ** 200n)
    expect(out.big).toBe(2 ** 60)
    expect(out.d).toBeInstanceOf(Date)
    expect(out.bytes).toBeInstanceOf(Uint8Array)
    expect(Object.is(roundTrip(-0), -0)).toBe(true)
  })

  it('keeps lone surrogates in strings and keys', () => {
    const v = { '\uDC00k': ['\uD800', 'a\uDBFFb', 'ok 😀'] }
    const out = roundTrip(v) as any
    expect(Object.keys(out)).toEqual(['\uDC00k'])
    expect(out['\uDC00k']).toEqual(['\uD800', 'a\uDBFFb', 'ok 😀'])
    expect(roundTrip('x\uD800'.repeat(10000))).toBe('x\uD800'.repeat(10000))
  })

  it('keeps a __proto__ key as an own property without touching prototypes', () => {
    const v = JSON.parse('{"a": {"__proto__": {"polluted": true}, "b": 1}}')
    const out = roundTrip(v) as any
    expect(Object.getPrototypeOf(out.a)).toBe(Object.prototype)
    expect(Object.keys(out.a)).toEqual(['__proto__', 'b'])
    expect(Object.getOwnPropertyDescriptor(out.a, '__proto__')!.value).toEqual({ polluted: true })
    expect(({} as any).polluted).toBeUndefined()
    expect(out.a.polluted).toBeUndefined()
  })

  it('gives decoded bytes their own memory', () => {
    const encoded = encodeValue({ b: new Uint8Array([1, 2, 3]) }, 'k')
    const out = decodeValue(encoded, 'k') as { b: Uint8Array }
    out.b[0] = 9
    expect((decodeValue(encoded, 'k') as { b: Uint8Array }).b[0]).toBe(1)
  })

  it('refuses unencodable values with EncodingError naming the key', () => {
    expect(() => encodeValue({ f: () => 1 }, 'my-key')).toThrow(/my-key at f/)
  })

  it('throws CorruptionError naming the key for garbled bytes', () => {
    expect(() => decodeValue(Uint8Array.from([0x92, 0x01]), 'idx/a')).toThrow(CorruptionError)
    expect(() => decodeValue(Uint8Array.from([0x92, 0x01]), 'idx/a')).toThrow(/idx\/a/)
    expect(() => decodeValue(Uint8Array.from([0x01, 0x02]), 'idx/a')).toThrow(CorruptionError)
  })
})
