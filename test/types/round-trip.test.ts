import { Packr } from 'msgpackr'
import { describe, expect, it } from 'vitest'
import { decodeJson, encodeJson } from '../../src/engine/directory/json-codec.js'
import { decodeValue, encodeValue } from '../../src/engine/level/msgpack-codec.js'
import { newOid } from '../../src/model/oid.js'
import type { Type } from '../../src/types/type.js'
import { Types } from '../../src/types/types.js'

const T = Types
class Account {
  oid = newOid()
}
const account = new Account()

/** One valid value per type, several for the tricky ones. */
const SAMPLES: [Type<any>, unknown][] = [
  [T.BOOL, false],
  [T.INTEGER, Number.MAX_SAFE_INTEGER],
  [T.INTEGER, -(2n ** 64n) - 3n],
  [T.INTEGER, 12n],
  [T.INTEGER, -0],
  [T.POSITIVE, 2n ** 200n],
  [T.FLOAT, -1.5e-300],
  [T.NUMBER, NaN],
  [T.NUMBER, -Infinity],
  [T.NUMBER, -0],
  [T.STRING, 'héllo 😀 \u0000'],
  [T.STRING, 'lone \ud800 surrogate'],
  [T.LINE, 'one line'],
  [T.EMAIL, 'bob@example.com'],
  [T.PASSWORD, 'hunter2'],
  [T.URL, 'https://example.com/a?b=1'],
  [T.HTML, '<p>x</p>'],
  [T.MARKDOWN, '# x'],
  [T.RICHTEXT, '{"ops":[]}'],
  [T.DATE, new Date('2024-02-29T12:00:00.123Z')],
  [T.DATETIME, new Date(-8.64e15)],
  [T.TIME, '23:59:59.999'],
  [T.BINARY, Buffer.from('bytes')],
  [T.BINARY, new Uint8Array(0)],
  [T.ANY, { a: [1, -0, 'x', null, true, 3n, new Date(1), new Uint8Array([1]), { b: NaN }], c: undefined }],
  [T.ANY, JSON.parse('{"__proto__": {"x": 1}, "$date": "not a tag"}')],
  [T.LIST(T.DATE), [new Date(1), new Date(2)]],
  [T.LIST(T.LIST(T.NUMBER)), [[1, -0], [], [NaN]]],
  [T.TUPLE(T.FLOAT, T.BINARY, T.INTEGER), [0.5, new Uint8Array([9]), 2n ** 70n]],
  [T.ONE_OF(T.DATE, T.BINARY, T.STRING), new Date(5)],
  [T.ONE_OF(T.DATE, T.BINARY, T.STRING), new Uint8Array([5])],
  [T.MAP({ at: T.DATE, n: T.NUMBER, tags: T.LIST(T.STRING) }), { at: new Date(3), n: -0, tags: ['a'] }],
  [T.MAP(T.INTEGER), { a: 1, b: 2n ** 65n }],
  [T.ENUM('draft', 1), 1],
  [T.RANGE(new Date(0), new Date(1e13)), new Date(1e12)],
  [T.RANGE(-1, 1), -0],
  [T.REFERENCE(() => Account), account],
]

const hasNegativeZeroOrSurrogateOrProto = (v: unknown): boolean =>
  Object.is(v, -0) ||
  (typeof v === 'string' && !(v as unknown as { isWellFormed(): boolean }).isWellFormed()) ||
  (typeof v === 'object' && v !== null && !(v instanceof Date) && !(v instanceof Uint8Array) &&
    (Object.hasOwn(v, '__proto__') || Object.values(v).some(hasNegativeZeroOrSurrogateOrProto)))

function checkRoundTrip(type: Type<any>, value: unknown, through: (stored: unknown) => unknown): void {
  expect(type.validate(value)).toBeUndefined()
  const back = type.fromStored(through(type.toStored(value)))
  expect(type.validate(back), type.name).toBeUndefined()
  expect(type.equals(back, value), `${type.name} ${String(value)}`).toBe(true)
  if (value instanceof Date) expect(back).toBeInstanceOf(Date)
  if (value instanceof Uint8Array) expect(Buffer.isBuffer(back)).toBe(false)
  if (typeof value === 'bigint') expect(back).toBe(value)
}

describe('values round-trip with their JavaScript type', () => {
  it('through plain msgpackr pack/unpack (values msgpack can express)', () => {
    const packr = new Packr({ useRecords: false, int64AsType: 'bigint', useBigIntExtension: true })
    let checked = 0
    for (const [type, value] of SAMPLES) {
      if (hasNegativeZeroOrSurrogateOrProto(type.toStored(value))) continue
      checkRoundTrip(type, value, (stored) => packr.unpack(packr.pack(stored)))
      checked++
    }
    expect(checked).toBeGreaterThan(25)
  })

  it("through the Level and Memory engines' msgpack codec", () => {
    for (const [type, value] of SAMPLES) checkRoundTrip(type, value, (stored) => decodeValue(encodeValue(stored, type.name), type.name))
  })

  it("through the Directory engine's tagged JSON codec", () => {
    for (const [type, value] of SAMPLES) checkRoundTrip(type, value, (stored) => decodeJson(encodeJson(stored, type.name), type.name))
  })

  it('keeps -0 as -0 through both codecs', () => {
    const stored = T.NUMBER.toStored(-0)
    expect(Object.is(T.NUMBER.fromStored(decodeValue(encodeValue(stored, 'n'), 'n')), -0)).toBe(true)
    expect(Object.is(T.NUMBER.fromStored(decodeJson(encodeJson(stored, 'n'), 'n')), -0)).toBe(true)
  })

  it('REFERENCE reads back the oid string', () => {
    const type = T.REFERENCE(() => Account)
    expect(type.fromStored(decodeValue(encodeValue(type.toStored(account), 'r'), 'r'))).toBe(account.oid)
  })
})
