import { describe, expect, it } from 'vitest'
import { decodeKey, encodeKey, encodePrefix, kindBounds, keyProblem, MAX_KEY_BYTES } from '../../src/indexes/key-codec.js'
import { IndexError } from '../../src/errors.js'
import type { IndexKey } from '../../src/model/meta.js'

const bytes = (a: string, b: string) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'))

const KIND_RANK = { boolean: 0, date: 1, number: 2, string: 3 } as const
const rank = (k: IndexKey) => KIND_RANK[k instanceof Date ? 'date' : (typeof k as 'boolean' | 'number' | 'string')]

function codePoints(s: string): number[] {
  return Array.from(s, (c) => c.codePointAt(0)!)
}

/** The natural order: kinds first, then numerically / by time / by code point. */
function natural(a: IndexKey, b: IndexKey): number {
  if (rank(a) !== rank(b)) return rank(a) - rank(b)
  if (typeof a === 'string') {
    const x = codePoints(a)
    const y = codePoints(b as string)
    for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i]! - y[i]!
    return x.length - y.length
  }
  const x = Number(a)
  const y = Number(b)
  return x < y ? -1 : x > y ? 1 : 0
}

function sign(n: number) {
  return n < 0 ? -1 : n > 0 ? 1 : 0
}

function same(a: IndexKey, b: IndexKey) {
  return natural(a, b) === 0
}

// A deterministic PRNG so a failure can be reproduced.
function rng(seed: number) {
  return () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff
    return seed / 0x7fffffff
  }
}

const SPECIAL_NUMBERS = [
  0, -0, 1, -1, 0.5, -0.5, 1e-300, -1e-300, Number.MIN_VALUE, -Number.MIN_VALUE, Number.MAX_VALUE, -Number.MAX_VALUE,
  Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER, Infinity, -Infinity, 2 ** 31, -(2 ** 31), 2 ** 32, 1.5, 2, 3, 10, 100,
  -100, 0.1, 0.2, 0.30000000000000004, 1699999999999,
]
const SPECIAL_STRINGS = [
  '', 'a', 'ab', 'a/b', 'a\x00', 'a\x00b', 'a\x01', 'a\x01b', 'a\x02', '\x00', '\x01', '\x01\x01', '\x02', 'b', 'B', 'é', 'e\u0301',
  '\uffff', '\ue000', '😀', '😀a', '\u{10ffff}', 'z', 'Z', '0', '10', '9', ' ', 'a b',
]

function randomKey(r: () => number): IndexKey {
  const kind = Math.floor(r() * 4)
  if (kind === 0) return r() < 0.5
  if (kind === 1) return new Date(Math.floor((r() - 0.5) * 2 * 8.64e15))
  if (kind === 2) {
    const k = r()
    if (k < 0.2) return SPECIAL_NUMBERS[Math.floor(r() * SPECIAL_NUMBERS.length)]!
    if (k < 0.5) return Math.floor((r() - 0.5) * 2000)
    if (k < 0.8) return (r() - 0.5) * 10 ** Math.floor(r() * 40 - 20)
    return (r() - 0.5) * Number.MAX_VALUE
  }
  // Strings over a small alphabet so shared prefixes are common, incl. NUL, \x01, astral and BMP-high chars.
  const alphabet = ['\x00', '\x01', '\x02', 'a', 'b', '/', 'é', '\ue000', '\uffff', '😀', '\u{10ffff}', ' ']
  let s = ''
  const len = Math.floor(r() * 6)
  for (let i = 0; i < len; i++) s += alphabet[Math.floor(r() * alphabet.length)]
  return s
}

describe('key codec', () => {
  it('round-trips every kind', () => {
    const keys: IndexKey[] = [...SPECIAL_NUMBERS, ...SPECIAL_STRINGS, true, false, new Date(0), new Date(-1), new Date(8.64e15), new Date(-8.64e15)]
    for (const k of keys) {
      const d = decodeKey(encodeKey(k))
      if (k instanceof Date) {
        expect(d).toBeInstanceOf(Date)
        expect((d as Date).getTime()).toBe(k.getTime())
      } else if (k === 0) {
        expect(d).toBe(0) // -0 is the same key as 0
      } else {
        expect(d).toBe(k)
      }
    }
  })

  it('sorts numbers numerically: negatives, fractions, ±Infinity, -0 equal to 0', () => {
    const sorted = [...SPECIAL_NUMBERS].sort((a, b) => a - b)
    const encoded = sorted.map((n) => encodeKey(n))
    for (let i = 1; i < sorted.length; i++) {
      expect(sign(bytes(encoded[i - 1]!, encoded[i]!))).toBe(sorted[i - 1] === sorted[i] ? 0 : -1)
    }
    expect(encodeKey(-0)).toBe(encodeKey(0))
  })

  it('sorts strings by code point (not UTF-16 units), with NUL and \\x01 escaped in order', () => {
    expect(bytes(encodeKey('\uffff'), encodeKey('😀'))).toBeLessThan(0) // U+FFFF < U+1F600, though '\uffff' > '\ud83d' in UTF-16
    expect(bytes(encodeKey('a'), encodeKey('a\x00'))).toBeLessThan(0)
    expect(bytes(encodeKey('a\x00'), encodeKey('a\x00b'))).toBeLessThan(0)
    expect(bytes(encodeKey('a\x00b'), encodeKey('a\x01'))).toBeLessThan(0)
    expect(bytes(encodeKey('a\x01b'), encodeKey('a\x02'))).toBeLessThan(0)
    for (const s of SPECIAL_STRINGS) expect(encodeKey(s)).not.toContain('\x00')
  })

  it('sorts Dates by time, booleans false < true, and kinds boolean < Date < number < string', () => {
    expect(bytes(encodeKey(new Date(-5)), encodeKey(new Date(3)))).toBeLessThan(0)
    expect(bytes(encodeKey(false), encodeKey(true))).toBeLessThan(0)
    expect(bytes(encodeKey(true), encodeKey(new Date(-8.64e15)))).toBeLessThan(0)
    expect(bytes(encodeKey(new Date(8.64e15)), encodeKey(-Infinity))).toBeLessThan(0)
    expect(bytes(encodeKey(Infinity), encodeKey(''))).toBeLessThan(0)
    // A Date and the same number of ms are different keys.
    expect(encodeKey(new Date(1000))).not.toBe(encodeKey(1000))
  })

  it('keeps the order of random keys of every kind (property test, by UTF-8 bytes)', () => {
    const r = rng(42)
    for (let i = 0; i < 20000; i++) {
      const a = randomKey(r)
      const b = randomKey(r)
      const ea = encodeKey(a)
      const eb = encodeKey(b)
      expect(sign(bytes(ea, eb)), `${String(a)} vs ${String(b)}`).toBe(sign(natural(a, b)))
      // An entry key (encoded + NUL + oid) sorts the same way, and entries of one key stay together.
      if (!same(a, b)) expect(sign(bytes(ea + '\x00zzz', eb + '\x00000'))).toBe(sign(natural(a, b)))
    }
  })

  it('sorts a random list the same way as the natural order', () => {
    const r = rng(7)
    const keys = Array.from({ length: 3000 }, () => randomKey(r))
    const byNatural = [...keys].sort(natural).map(encodeKey)
    const byBytes = keys.map(encodeKey).sort(bytes)
    expect(byBytes).toEqual(byNatural)
  })

  it('supports string prefixes: an encoding starts with the prefix encoding iff the string starts with the prefix', () => {
    const p = encodePrefix('a')
    expect(encodeKey('a').startsWith(p)).toBe(true)
    expect(encodeKey('ab').startsWith(p)).toBe(true)
    expect(encodeKey('a/b').startsWith(p)).toBe(true)
    expect(encodeKey('b').startsWith(p)).toBe(false)
    const r = rng(3)
    for (let i = 0; i < 5000; i++) {
      const s = randomKey(r)
      const q = randomKey(r)
      if (typeof s !== 'string' || typeof q !== 'string') continue
      expect(encodeKey(s).startsWith(encodePrefix(q)), `${JSON.stringify(s)} / ${JSON.stringify(q)}`).toBe(s.startsWith(q))
    }
  })

  it('bounds each kind', () => {
    for (const [kind, key] of [['boolean', true], ['date', new Date()], ['number', -Infinity], ['string', '\u{10ffff}']] as const) {
      const { start, end } = kindBounds(kind)
      const e = encodeKey(key)
      expect(bytes(start, e)).toBeLessThan(0)
      expect(bytes(e, end)).toBeLessThan(0)
    }
  })

  it('refuses what cannot be a key, with IndexError', () => {
    for (const bad of [NaN, new Date(NaN), {}, [], null, undefined, Symbol('x'), 10n, () => 1, '\ud800', 'a\udc00b']) {
      expect(keyProblem(bad)).toBeTypeOf('string')
      expect(() => encodeKey(bad as any)).toThrow(IndexError)
    }
    expect(keyProblem('\ud83d\ude00')).toBeUndefined()
    expect(() => encodePrefix('\ud800')).toThrow(IndexError)
  })

  it(`refuses keys longer than ${MAX_KEY_BYTES} bytes encoded`, () => {
    expect(() => encodeKey('x'.repeat(MAX_KEY_BYTES - 1))).not.toThrow()
    expect(() => encodeKey('x'.repeat(MAX_KEY_BYTES))).toThrow(/limited to 1024 bytes/)
    expect(() => encodeKey('é'.repeat(600))).toThrow(IndexError) // 1201 bytes
    expect(() => encodeKey('é'.repeat(300))).not.toThrow()
  })
})

describe('keys records', () => {
  it('round-trip through their string form, index names with NUL included', async () => {
    const { readKeysRecord, writeKeysRecord } = await import('../../src/indexes/index-writes.js')
    const record = { name: [encodeKey('a\x00b'), encodeKey('')], 'we\x00ird\x01': [encodeKey(3)], d: [encodeKey(new Date(0))] }
    expect(readKeysRecord(writeKeysRecord(record))).toEqual(record)
    expect(readKeysRecord(writeKeysRecord({}))).toEqual({})
    expect(readKeysRecord(undefined)).toEqual({})
    expect(readKeysRecord({ not: 'a string' })).toEqual({})
  })
})
