import { describe, expect, it } from 'vitest'
import { Types, isType } from '../../src/types/types.js'
import type { Type } from '../../src/types/type.js'

/** Valid values, and invalid values with a fragment their reason must contain. */
const CASES: Record<string, { valid: unknown[]; invalid: [unknown, string][] }> = {
  BOOL: { valid: [true, false], invalid: [[0, 'expected a boolean, got 0'], ['true', 'got "true"'], [null, 'got null']] },
  INTEGER: {
    valid: [0, -0, 1, -42, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER, 0n, 2n ** 100n, -(2n ** 70n)],
    invalid: [
      [1.5, 'expected an integer, got 1.5'],
      [2 ** 53, 'beyond the safe integer range'],
      [NaN, 'got NaN'],
      [Infinity, 'got Infinity'],
      ['3', 'got "3"'],
    ],
  },
  POSITIVE: {
    valid: [0, -0, 1, 2 ** 40, 5n, 2n ** 80n],
    invalid: [
      [-1, 'expected an integer >= 0, got -1'],
      [-1n, 'got -1n'],
      [0.5, 'got 0.5'],
      [2 ** 60, 'beyond the safe integer range'],
    ],
  },
  FLOAT: {
    valid: [0, -0, 1.5, -1e300, Number.MIN_VALUE],
    invalid: [[NaN, 'expected a finite number, got NaN'], [-Infinity, 'got -Infinity'], [1n, 'got 1n'], ['1', 'got "1"']],
  },
  NUMBER: { valid: [0, -0, 1.5, NaN, Infinity, -Infinity], invalid: [[1n, 'expected a number, got 1n'], [null, 'got null']] },
  STRING: { valid: ['', 'x', 'a\nb', '😀', 'half \ud83d'], invalid: [[1, 'expected a string, got 1'], [new String('x'), 'got a String']] },
  LINE: {
    valid: ['', 'one line', 'tab\tis fine', '😀'],
    invalid: [
      ['a\nb', 'contains a line break (\\n at index 1)'],
      ['a\r', '\\r at index 1'],
      ['\u2028', '\\u2028 at index 0'],
      ['x\u2029', '\\u2029'],
      ['x\u0085', '\\u0085'],
      ['x\v', '\\v'],
      [3, 'expected a string'],
    ],
  },
  EMAIL: {
    valid: ['bob@example.com', 'first.last+tag@sub.example.org'],
    invalid: [['bob', 'not a valid email address: "bob"'], ['', 'not a valid email'], ['a@b', 'not a valid email'], [5, 'expected a string']],
  },
  PASSWORD: { valid: ['', 'hunter2', '$2b$10$abc'], invalid: [[12345, 'expected a string']] },
  URL: {
    valid: ['https://example.com', 'http://localhost:3000/a?b=1#c', 'ftp://files.example.org/x', 'http://192.168.0.1/'],
    invalid: [
      ['example.com', 'not a valid http(s) or ftp URL: "example.com"'],
      ['javascript:alert(1)', 'not a valid'],
      ['not a url', 'not a valid'],
      ['mailto:bob@example.com', 'not a valid'],
      [{}, 'expected a string, got an object'],
    ],
  },
  HTML: { valid: ['<p>hi</p>', '<script>'], invalid: [[1, 'expected a string']] },
  MARKDOWN: { valid: ['# title\n\ntext'], invalid: [[[], 'expected a string, got an array of 0']] },
  RICHTEXT: { valid: ['{"ops":[]}'], invalid: [[{ ops: [] }, 'expected a string']] },
  DATE: {
    valid: [new Date(0), new Date(-1e12), new Date('2024-02-29T12:34:56.789Z'), new Date(8.64e15)],
    invalid: [
      [new Date(NaN), 'expected a valid Date, got an invalid Date'],
      ['2024-01-01', 'expected a Date, got "2024-01-01"'],
      [0, 'expected a Date, got 0'],
    ],
  },
  DATETIME: { valid: [new Date()], invalid: [[new Date('nope'), 'invalid Date'], [Date.now(), 'expected a Date']] },
  TIME: {
    valid: ['00:00', '23:59', '09:30:15', '23:59:59.999', '12:00:00.5'],
    invalid: [
      ['24:00', 'expected a time of day'],
      ['9:30', 'got "9:30"'],
      ['12:60', 'expected a time of day'],
      ['12:00:60', 'expected a time of day'],
      ['12:00:00.1234', 'expected a time of day'],
      ['12:00 ', 'expected a time of day'],
      [new Date(), 'expected a time of day "HH:MM", "HH:MM:SS" or "HH:MM:SS.sss", got Date'],
    ],
  },
  BINARY: {
    valid: [new Uint8Array(), new Uint8Array([1, 2, 3]), Buffer.from('hi')],
    invalid: [
      [new Uint16Array(2), 'expected a Uint8Array, got a Uint16Array'],
      [new ArrayBuffer(2), 'got an ArrayBuffer'],
      [[1, 2], 'got an array of 2'],
      ['AQI=', 'got "AQI="'],
    ],
  },
}

describe('scalar types', () => {
  for (const [name, { valid, invalid }] of Object.entries(CASES)) {
    const type = (Types as unknown as Record<string, Type>)[name]!
    describe(name, () => {
      it('is a branded, frozen type named after itself', () => {
        expect(isType(type)).toBe(true)
        expect(type.name).toBe(name)
        expect(Object.isFrozen(type)).toBe(true)
      })
      it('accepts its valid values', () => {
        for (const value of valid) expect(type.validate(value), String(value)).toBeUndefined()
      })
      it('refuses invalid values with a reason naming the problem', () => {
        for (const [value, reason] of invalid) expect(type.validate(value)).toContain(reason)
      })
      it('round-trips every valid value through toStored/fromStored, equal to the original', () => {
        for (const value of valid) {
          const back = type.fromStored(type.toStored(value))
          expect(type.equals(back, value)).toBe(true)
          expect(type.validate(back)).toBeUndefined()
          if (typeof value !== 'object') expect(Object.is(back, value)).toBe(true)
        }
      })
    })
  }

  it('every Types member is a type or a type constructor', () => {
    for (const [name, member] of Object.entries(Types)) {
      expect(isType(member) || typeof member === 'function', name).toBe(true)
    }
    expect(Object.isFrozen(Types)).toBe(true)
  })

  it('isType recognises only branded types', () => {
    expect(isType({ name: 'X', validate() {}, toStored() {}, fromStored() {}, equals() {} })).toBe(false)
    expect(isType(null)).toBe(false)
    expect(isType('STRING')).toBe(false)
  })
})

describe('numbers', () => {
  it('keep -0 and compare with Object.is', () => {
    for (const type of [Types.INTEGER, Types.POSITIVE, Types.FLOAT, Types.NUMBER]) {
      expect(Object.is(type.fromStored(type.toStored(-0)), -0)).toBe(true)
      expect(type.equals(0, -0)).toBe(false)
      expect(type.equals(-0, -0)).toBe(true)
    }
    expect(Types.NUMBER.equals(NaN, NaN)).toBe(true)
    expect(Types.NUMBER.equals(NaN, 0)).toBe(false)
  })

  it('INTEGER keeps bigints as bigints and tells 1 from 1n', () => {
    const big = 2n ** 64n + 1n
    expect(Types.INTEGER.fromStored(Types.INTEGER.toStored(big))).toBe(big)
    expect(Types.INTEGER.equals(1, 1n)).toBe(false)
    expect(Types.INTEGER.equals(2n ** 64n, 2n ** 64n)).toBe(true)
  })
})

describe('DATE', () => {
  it('stores and reads back copies, never the same mutable Date', () => {
    const date = new Date('2024-05-01T10:00:00Z')
    const stored = Types.DATE.toStored(date) as Date
    expect(stored).not.toBe(date)
    date.setFullYear(1999)
    expect((stored as Date).toISOString()).toBe('2024-05-01T10:00:00.000Z')
    const back = Types.DATE.fromStored(stored)
    expect(back).toBeInstanceOf(Date)
    expect(back).not.toBe(stored)
  })

  it('compares by time', () => {
    expect(Types.DATE.equals(new Date(5), new Date(5))).toBe(true)
    expect(Types.DATE.equals(new Date(5), new Date(6))).toBe(false)
  })
})

describe('BINARY', () => {
  it('reads back a plain Uint8Array copy, not a Buffer, sharing no memory', () => {
    const buffer = Buffer.from([1, 2, 3])
    const stored = Types.BINARY.toStored(buffer) as Uint8Array
    buffer[0] = 9
    expect([...stored]).toEqual([1, 2, 3])
    const back = Types.BINARY.fromStored(stored)
    expect(back).toBeInstanceOf(Uint8Array)
    expect(Buffer.isBuffer(back)).toBe(false)
    expect(back.buffer).not.toBe(stored.buffer)
  })

  it('compares bytes, a Buffer equal to a Uint8Array of the same bytes', () => {
    expect(Types.BINARY.equals(Buffer.from([1, 2]), new Uint8Array([1, 2]))).toBe(true)
    expect(Types.BINARY.equals(new Uint8Array([1, 2]), new Uint8Array([1, 3]))).toBe(false)
    expect(Types.BINARY.equals(new Uint8Array([1]), new Uint8Array([1, 0]))).toBe(false)
    const big = new Uint8Array(1000).fill(7)
    const other = new Uint8Array(big)
    expect(Types.BINARY.equals(big, other)).toBe(true)
    other[999] = 0
    expect(Types.BINARY.equals(big, other)).toBe(false)
  })
})

describe('EMAIL and URL', () => {
  it('give the same answer when a value is validated again, past the memo size', () => {
    const emails = Array.from({ length: 1500 }, (_, i) => `user${i}@example.com`)
    for (const email of emails) expect(Types.EMAIL.validate(email)).toBeUndefined()
    for (const email of emails) expect(Types.EMAIL.validate(email)).toBeUndefined()
    for (let i = 0; i < 3; i++) expect(Types.EMAIL.validate('user@')).toContain('not a valid email address')
    for (let i = 0; i < 3; i++) expect(Types.URL.validate('https://example.com')).toBeUndefined()
    for (let i = 0; i < 3; i++) expect(Types.URL.validate('https://')).toContain('not a valid')
  })
})
