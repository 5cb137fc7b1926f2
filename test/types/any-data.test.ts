import { describe, expect, it } from 'vitest'
import { MAX_DEPTH } from '../../src/types/any-data.js'
import { deepEqual } from '../../src/types/deep-equal.js'
import { Types } from '../../src/types/types.js'

const { ANY } = Types

describe('ANY', () => {
  it('accepts plain data of every kind the engines store', () => {
    const value = {
      s: 'x\ud800', n: -0, nan: NaN, inf: -Infinity, big: 2n ** 80n, b: true, nil: null, skip: undefined,
      at: new Date(3), bytes: Buffer.from([1]), list: [1, 'a', [new Uint8Array([2])], undefined],
      nested: Object.assign(Object.create(null), { deep: { deeper: [{}] } }),
    }
    expect(ANY.validate(value)).toBeUndefined()
    for (const scalar of [0, 'x', null, false, 1n, new Date(), new Uint8Array()]) expect(ANY.validate(scalar)).toBeUndefined()
  })

  it('accepts a shared (non-cyclic) sub-object and stores separate copies', () => {
    const shared = { a: 1 }
    const value = { x: shared, y: [shared, shared] }
    expect(ANY.validate(value)).toBeUndefined()
    const stored = ANY.toStored(value) as any
    expect(stored.x).not.toBe(shared)
    expect(stored.y[0]).not.toBe(stored.y[1])
    expect(ANY.equals(ANY.fromStored(stored), value)).toBe(true)
  })

  it('refuses cycles, naming where they are', () => {
    const a: any = { b: {} }
    a.b.c = a
    expect(ANY.validate(a)).toBe('cyclic reference at b.c')
    const list: any[] = [1, { x: [] }]
    list[1].x.push(list)
    expect(ANY.validate(list)).toBe('cyclic reference at [1].x[0]')
    const self: any = {}
    self.self = self
    expect(ANY.validate(self)).toBe('cyclic reference at self')
  })

  it('refuses what is not data, naming the path', () => {
    expect(ANY.validate({ a: { b: () => 1 } })).toBe('a function is not storable data at a.b')
    expect(ANY.validate(() => 1)).toBe('a function is not storable data')
    expect(ANY.validate([Symbol('s')])).toBe('a symbol is not storable data at [0]')
    expect(ANY.validate({ [Symbol('k')]: 1 })).toBe('a symbol key (Symbol(k)) cannot be stored')
    expect(ANY.validate({ m: new Map() })).toMatch(/^a Map is not plain data \(expected null, .*\) at m$/)
    expect(ANY.validate({ 'a b': [new Set()] })).toMatch(/^a Set is not plain data .* at \["a b"\]\[0\]$/)
    expect(ANY.validate({ r: /x/ })).toContain('a RegExp is not plain data')
    expect(ANY.validate(new (class Point {})())).toContain('a Point is not plain data')
    expect(ANY.validate({ when: new Date(NaN) })).toBe('an invalid Date at when')
    expect(ANY.validate({ f: new Float64Array(1) })).toContain('a Float64Array is not plain data')
    expect(ANY.validate(new Number(1))).toContain('a Number is not plain data')
  })

  it('refuses data nested deeper than the limit', () => {
    let deep: unknown = 1
    for (let i = 0; i < MAX_DEPTH + 1; i++) deep = [deep]
    expect(ANY.validate(deep)).toMatch(/^nested deeper than 256 levels at (\[0\])+$/)
    let ok: unknown = 1
    for (let i = 0; i < MAX_DEPTH; i++) ok = { a: ok }
    expect(ANY.validate(ok)).toBeUndefined()
  })

  it('copies deeply both ways: stored state never aliases the user value', () => {
    const value = { list: [1, { d: new Date(1) }], bytes: Buffer.from([1, 2]), gone: undefined }
    const stored = ANY.toStored(value) as any
    expect(Object.keys(stored)).toEqual(['list', 'bytes'])
    value.list.push(2)
    ;(value.list[1] as any).d.setTime(5)
    value.bytes[0] = 9
    expect(stored.list).toHaveLength(2)
    expect(stored.list[1].d.getTime()).toBe(1)
    expect([...stored.bytes]).toEqual([1, 2])
    expect(Buffer.isBuffer(stored.bytes)).toBe(false)
    const back = ANY.fromStored(stored) as any
    back.list[1].d.setTime(7)
    expect(stored.list[1].d.getTime()).toBe(1)
  })

  it('copies a __proto__ key as an own key, never as the prototype', () => {
    const value = JSON.parse('{"__proto__": {"polluted": true}}')
    expect(ANY.validate(value)).toBeUndefined()
    const back = ANY.fromStored(ANY.toStored(value)) as any
    expect(Object.getPrototypeOf(back)).toBe(Object.prototype)
    expect(back.polluted).toBeUndefined()
    expect(Object.hasOwn(back, '__proto__')).toBe(true)
  })
})

describe('deepEqual (ANY.equals)', () => {
  it('compares numbers with Object.is and bigints by value', () => {
    expect(deepEqual(0, -0)).toBe(false)
    expect(deepEqual(NaN, NaN)).toBe(true)
    expect(deepEqual([0], [-0])).toBe(false)
    expect(deepEqual({ a: NaN }, { a: NaN })).toBe(true)
    expect(deepEqual(1n, 1n)).toBe(true)
    expect(deepEqual(1n, 1)).toBe(false)
  })

  it('compares Dates by time and bytes by content', () => {
    expect(deepEqual(new Date(1), new Date(1))).toBe(true)
    expect(deepEqual(new Date(1), new Date(2))).toBe(false)
    expect(deepEqual(new Date(NaN), new Date(NaN))).toBe(true)
    expect(deepEqual(new Date(1), 1)).toBe(false)
    expect(deepEqual(new Uint8Array([1, 2]), Buffer.from([1, 2]))).toBe(true)
    expect(deepEqual(new Uint8Array([1, 2]), [1, 2])).toBe(false)
  })

  it('compares arrays and objects deeply, undefined keys counting as absent', () => {
    expect(deepEqual({ a: [1, { b: 'x' }] }, { a: [1, { b: 'x' }] })).toBe(true)
    expect(deepEqual({ a: [1, { b: 'x' }] }, { a: [1, { b: 'y' }] })).toBe(false)
    expect(deepEqual({ a: 1, b: undefined }, { a: 1 })).toBe(true)
    expect(deepEqual({ a: 1 }, { a: 1, b: 2 })).toBe(false)
    expect(deepEqual({ a: undefined }, { b: undefined })).toBe(true)
    expect(deepEqual([1, 2], { 0: 1, 1: 2, length: 2 })).toBe(false)
    expect(deepEqual({ toString: 1 }, {})).toBe(false)
    expect(deepEqual(Object.create(null), {})).toBe(true)
    expect(deepEqual([undefined], [])).toBe(false)
  })

  it('compares class instances by identity only', () => {
    const m = new Map()
    expect(deepEqual(m, m)).toBe(true)
    expect(deepEqual(new Map(), new Map())).toBe(false)
  })
})
