import { describe, expect, it } from 'vitest'
import { ModelDefinitionError } from '../../src/errors.js'
import { Types, isType } from '../../src/types/types.js'

const { LIST, TUPLE, ONE_OF, MAP, STRING, EMAIL, INTEGER, DATE, BINARY, FLOAT, LINE } = Types

function definitionError(fn: () => unknown, fragment: string): void {
  let error: unknown
  try {
    fn()
  } catch (err) {
    error = err
  }
  expect(error).toBeInstanceOf(ModelDefinitionError)
  expect((error as ModelDefinitionError).code).toBe('MODEL_DEFINITION')
  expect((error as Error).message).toContain(fragment)
}

describe('LIST', () => {
  const emails = LIST(EMAIL)

  it('is a type named after its element type', () => {
    expect(isType(emails)).toBe(true)
    expect(emails.name).toBe('LIST(EMAIL)')
    expect(LIST(LIST(INTEGER)).name).toBe('LIST(LIST(INTEGER))')
  })

  it('accepts arrays whose every element passes', () => {
    expect(emails.validate([])).toBeUndefined()
    expect(emails.validate(['a@example.com', 'b@example.com'])).toBeUndefined()
  })

  it('names the first failing element', () => {
    expect(emails.validate(['a@example.com', 'b@example.com', 'bob'])).toBe('item 2: not a valid email address: "bob"')
    expect(emails.validate(['a@example.com', undefined])).toBe('item 1: missing (undefined or an empty slot)')
    // eslint-disable-next-line no-sparse-arrays
    expect(emails.validate([, 'a@example.com'])).toContain('item 0: missing')
    expect(LIST(LIST(INTEGER)).validate([[1], [2, 'x']])).toBe('item 1: item 1: expected an integer, got "x"')
    expect(emails.validate('a@example.com')).toBe('expected an array, got "a@example.com"')
  })

  it('stores a copy that shares nothing with the user array', () => {
    const dates = LIST(DATE)
    const value = [new Date(1), new Date(2)]
    const stored = dates.toStored(value) as Date[]
    value.push(new Date(3))
    value[0]!.setTime(99)
    expect(stored.map((d) => d.getTime())).toEqual([1, 2])
    const back = dates.fromStored(stored)
    expect(back).not.toBe(stored)
    expect(back[0]).not.toBe(stored[0])
    expect(dates.equals(back, [new Date(1), new Date(2)])).toBe(true)
  })

  it('compares element-wise with the element type', () => {
    const numbers = LIST(Types.NUMBER)
    expect(numbers.equals([1, NaN], [1, NaN])).toBe(true)
    expect(numbers.equals([0], [-0])).toBe(false)
    expect(numbers.equals([1, 2], [1, 2, 3])).toBe(false)
    expect(LIST(BINARY).equals([Buffer.from([1])], [new Uint8Array([1])])).toBe(true)
  })

  it('refuses a non-type argument at declaration', () => {
    definitionError(() => LIST('STRING' as never), 'LIST(item): expected a Stowage type such as Types.STRING, got "STRING"')
    definitionError(() => LIST(String as never), 'did you mean REFERENCE')
    definitionError(() => LIST(undefined as never), 'got undefined')
  })
})

describe('TUPLE', () => {
  const point = TUPLE(FLOAT, FLOAT, STRING)

  it('checks the length and each element against its own type', () => {
    expect(point.name).toBe('TUPLE(FLOAT, FLOAT, STRING)')
    expect(point.validate([1, 2.5, 'a'])).toBeUndefined()
    expect(point.validate([1, 2.5])).toBe('expected 3 items, got 2')
    expect(point.validate([1, 2.5, 'a', 4])).toBe('expected 3 items, got 4')
    expect(point.validate([1, 'x', 'a'])).toBe('item 1: expected a finite number, got "x"')
    expect(point.validate([1, 2, undefined])).toContain('item 2: missing')
    expect(point.validate({ 0: 1 })).toBe('expected an array of 3, got an object')
  })

  it('round-trips with each element type and compares element-wise', () => {
    const stamped = TUPLE(DATE, BINARY)
    const value: [Date, Uint8Array] = [new Date(7), Buffer.from([1, 2])]
    const back = stamped.fromStored(stamped.toStored(value))
    expect(back[0]).toBeInstanceOf(Date)
    expect(Buffer.isBuffer(back[1])).toBe(false)
    expect(stamped.equals(back, value)).toBe(true)
    expect(stamped.equals(back, [new Date(8), Buffer.from([1, 2])])).toBe(false)
  })

  it('refuses bad declarations', () => {
    definitionError(() => TUPLE(), 'TUPLE() needs at least one element type')
    definitionError(() => TUPLE(STRING, 3 as never), 'TUPLE(...): element type 1')
  })
})

describe('ONE_OF', () => {
  const idOrEmail = ONE_OF(INTEGER, EMAIL)

  it('accepts a value passing any option and lists every reason otherwise', () => {
    expect(idOrEmail.name).toBe('ONE_OF(INTEGER, EMAIL)')
    expect(idOrEmail.validate(12)).toBeUndefined()
    expect(idOrEmail.validate('a@example.com')).toBeUndefined()
    expect(idOrEmail.validate('bob')).toBe(
      'matches none of INTEGER, EMAIL (INTEGER: expected an integer, got "bob"; EMAIL: not a valid email address: "bob")',
    )
  })

  it('stores and reads back with the option the value passes', () => {
    const dateOrBytes = ONE_OF(DATE, BINARY, STRING)
    const date = dateOrBytes.fromStored(dateOrBytes.toStored(new Date(5)))
    expect(date).toBeInstanceOf(Date)
    const bytes = dateOrBytes.fromStored(dateOrBytes.toStored(Buffer.from([1])))
    expect(bytes).toBeInstanceOf(Uint8Array)
    expect(Buffer.isBuffer(bytes)).toBe(false)
    expect(dateOrBytes.fromStored(dateOrBytes.toStored('x'))).toBe('x')
  })

  it('compares with the matching option; values matching different options differ', () => {
    const dateOrNumber = ONE_OF(DATE, Types.NUMBER)
    expect(dateOrNumber.equals(new Date(5), new Date(5))).toBe(true)
    expect(dateOrNumber.equals(new Date(5), 5)).toBe(false)
    expect(dateOrNumber.equals(0, -0)).toBe(false)
  })

  it('refuses bad declarations', () => {
    definitionError(() => ONE_OF(), 'ONE_OF() needs at least one type')
    definitionError(() => ONE_OF(STRING, null as never), 'ONE_OF(...): option 1: expected a Stowage type')
  })
})

describe('MAP', () => {
  const address = MAP({ street: LINE, city: LINE, zip: STRING, tags: LIST(STRING) })

  it('is named after its shape', () => {
    expect(address.name).toBe('MAP({ street: LINE, city: LINE, zip: STRING, tags: LIST(STRING) })')
    expect(address.shape!.city).toBe(LINE)
    expect(Object.isFrozen(address.shape)).toBe(true)
    expect(Object.keys(address.shape!)).toEqual(['street', 'city', 'zip', 'tags'])
  })

  it('accepts plain objects whose declared keys pass; missing or undefined keys are allowed', () => {
    expect(address.validate({ street: '1 Main St', city: 'Springfield', zip: '12345', tags: ['home'] })).toBeUndefined()
    expect(address.validate({})).toBeUndefined()
    expect(address.validate({ city: 'X', zip: undefined })).toBeUndefined()
    expect(address.validate(Object.assign(Object.create(null), { city: 'X' }))).toBeUndefined()
  })

  it('names the failing key, nested too', () => {
    expect(address.validate({ city: 3 })).toBe('city: expected a string, got 3')
    expect(address.validate({ street: 'a\nb' })).toBe('street: contains a line break (\\n at index 1)')
    expect(address.validate({ tags: ['a', 2] })).toBe('tags: item 1: expected a string, got 2')
    const nested = LIST(MAP({ 'e-mail': EMAIL }))
    expect(nested.validate([{ 'e-mail': 'a@example.com' }, { 'e-mail': 'nope' }])).toBe(
      'item 1: "e-mail": not a valid email address: "nope"',
    )
  })

  it('refuses unknown keys and non-plain objects', () => {
    expect(address.validate({ cty: 'X' })).toBe('unknown key "cty" (declared: street, city, zip, tags)')
    expect(address.validate(new Map())).toBe('expected a plain object, got a Map')
    expect(address.validate([])).toBe('expected a plain object, got an array of 0')
    expect(address.validate(new (class Address {})())).toBe('expected a plain object, got an Address')
    expect(address.validate(null)).toBe('expected a plain object, got null')
  })

  it('stores a copy without undefined keys and reads it back with each key type', () => {
    const stamped = MAP({ at: DATE, data: BINARY, note: STRING })
    const value = { at: new Date(9), data: Buffer.from([4]), note: undefined }
    const stored = stamped.toStored(value) as Record<string, unknown>
    expect(Object.keys(stored)).toEqual(['at', 'data'])
    value.at.setTime(0)
    expect((stored.at as Date).getTime()).toBe(9)
    const back = stamped.fromStored(stored)
    expect(back.at).toBeInstanceOf(Date)
    expect(back.at).not.toBe(stored.at)
    expect(Buffer.isBuffer(back.data)).toBe(false)
    expect(stamped.equals(back, { at: new Date(9), data: new Uint8Array([4]) })).toBe(true)
  })

  it('keeps a __proto__ key as an own key', () => {
    const tricky = MAP({ ['__proto__']: STRING })
    const value = JSON.parse('{"__proto__": "x"}')
    expect(tricky.validate(value)).toBeUndefined()
    const back = tricky.fromStored(tricky.toStored(value)) as Record<string, unknown>
    expect(Object.getPrototypeOf(back)).toBe(Object.prototype)
    expect(Object.hasOwn(back, '__proto__')).toBe(true)
    expect(back['__proto__']).toBe('x')
  })

  it('keeps keys no longer declared when reading back, so nothing is lost silently', () => {
    const back = address.fromStored({ city: 'X', country: 'FR' })
    expect(back).toEqual({ city: 'X', country: 'FR' })
    expect(address.validate(back)).toContain('unknown key "country"')
  })

  it('compares key by key with each type, undefined keys counting as absent', () => {
    const m = MAP({ n: Types.NUMBER, at: DATE })
    expect(m.equals({ n: 1, at: new Date(1) }, { at: new Date(1), n: 1 })).toBe(true)
    expect(m.equals({ n: 0 }, { n: -0 })).toBe(false)
    expect(m.equals({ n: 1, at: undefined }, { n: 1 })).toBe(true)
    expect(m.equals({ n: 1 }, { n: 1, at: new Date(1) })).toBe(false)
    expect(m.equals({ at: new Date(1) }, { at: new Date(2) })).toBe(false)
  })

  it('MAP(type) is a dictionary with any keys', () => {
    const scores = MAP(INTEGER)
    expect(scores.name).toBe('MAP(INTEGER)')
    expect(scores.validate({ alice: 3, 'bob smith': 4n })).toBeUndefined()
    expect(scores.validate({ alice: 1.5 })).toBe('alice: expected an integer, got 1.5')
    expect(scores.validate({ 'bob smith': 'x' })).toBe('"bob smith": expected an integer, got "x"')
    const back = scores.fromStored(scores.toStored({ a: 1, b: 2n }))
    expect(back).toEqual({ a: 1, b: 2n })
    expect(scores.equals(back, { b: 2n, a: 1 })).toBe(true)
  })

  it('refuses bad declarations', () => {
    definitionError(() => MAP({ a: 3 } as never), 'MAP({ a: ... }): expected a Stowage type such as Types.STRING, got 3')
    definitionError(() => MAP({ a: STRING, 'b c': 'x' } as never), 'MAP({ "b c": ... })')
    definitionError(() => MAP({}), 'MAP({}) declares no keys')
    definitionError(() => MAP([STRING] as never), 'MAP(shape): expected an object of types')
    definitionError(() => MAP(undefined as never), 'got undefined')
  })
})
