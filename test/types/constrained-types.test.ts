import { describe, expect, it } from 'vitest'
import { ModelDefinitionError } from '../../src/errors.js'
import { newOid } from '../../src/model/oid.js'
import { Types } from '../../src/types/types.js'

const { ENUM, RANGE, REFERENCE, INTEGER, DATE, STRING, POSITIVE, FLOAT, LIST } = Types

function definitionError(fn: () => unknown, fragment: string): void {
  expect(fn).toThrow(ModelDefinitionError)
  try {
    fn()
  } catch (err) {
    expect((err as ModelDefinitionError).code).toBe('MODEL_DEFINITION')
    expect((err as Error).message).toContain(fragment)
  }
}

describe('ENUM', () => {
  const status = ENUM('draft', 'published', 'archived')

  it('accepts exactly its values', () => {
    expect(status.name).toBe('ENUM("draft", "published", "archived")')
    expect(status.values).toEqual(['draft', 'published', 'archived'])
    expect(status.validate('draft')).toBeUndefined()
    expect(status.validate('Draft')).toBe('expected one of "draft", "published", "archived", got "Draft"')
    expect(status.validate(0)).toContain('got 0')
  })

  it('tells numbers from strings', () => {
    const levels = ENUM(1, 2, 3)
    expect(levels.validate(2)).toBeUndefined()
    expect(levels.validate('2')).toBe('expected one of 1, 2, 3, got "2"')
    const mixed = ENUM('a', 1)
    expect(mixed.validate(1)).toBeUndefined()
    expect(mixed.validate('1')).toBeDefined()
    expect(levels.fromStored(levels.toStored(3))).toBe(3)
    expect(levels.equals(1, 1)).toBe(true)
    expect(levels.equals(1, 2)).toBe(false)
  })

  it('shortens the list of many values in messages', () => {
    const many = ENUM(...Array.from({ length: 30 }, (_, i) => `v${i}`))
    expect(many.validate('x')).toContain('… (30 values)')
    expect(many.validate('v29')).toBeUndefined()
  })

  it('refuses bad declarations', () => {
    definitionError(() => ENUM(), 'ENUM() needs at least one value')
    definitionError(() => ENUM('a', 'a'), 'duplicate value "a"')
    definitionError(() => ENUM(NaN), 'must be a string or a number, got NaN')
    definitionError(() => ENUM('a', true as never), 'got true')
    definitionError(() => ENUM(['a', 'b'] as never), 'spread it')
  })
})

describe('RANGE', () => {
  it('checks numbers against inclusive bounds, NaN out', () => {
    const percent = RANGE(0, 100)
    expect(percent.name).toBe('RANGE(0, 100, NUMBER)')
    for (const ok of [0, 100, 50.5, -0]) expect(percent.validate(ok)).toBeUndefined()
    expect(percent.validate(100.01)).toBe('100.01 is not between 0 and 100')
    expect(percent.validate(-1)).toBe('-1 is not between 0 and 100')
    expect(percent.validate(NaN)).toBe('NaN is not between 0 and 100')
    expect(percent.validate('50')).toBe('expected a number, got "50"')
  })

  it('applies the given type first', () => {
    const stars = RANGE(1, 5, INTEGER)
    expect(stars.name).toBe('RANGE(1, 5, INTEGER)')
    expect(stars.validate(3)).toBeUndefined()
    expect(stars.validate(3.5)).toBe('expected an integer, got 3.5')
    expect(stars.validate(6)).toBe('6 is not between 1 and 5')
    expect(stars.validate(5n)).toBeUndefined()
    expect(stars.validate(6n)).toBe('6n is not between 1 and 5')
  })

  it('works with bigint bounds (INTEGER by default)', () => {
    const huge = RANGE(0n, 2n ** 100n)
    expect(huge.name).toBe(`RANGE(0n, ${2n ** 100n}n, INTEGER)`)
    expect(huge.validate(2n ** 99n)).toBeUndefined()
    expect(huge.validate(2n ** 100n + 1n)).toContain('is not between')
    expect(huge.validate(-1)).toBe('-1 is not between 0n and 1267650600228229401496703205376n')
    expect(huge.fromStored(huge.toStored(2n ** 99n))).toBe(2n ** 99n)
  })

  it('works with Date bounds (DATE by default)', () => {
    const year2024 = RANGE(new Date('2024-01-01T00:00:00Z'), new Date('2024-12-31T23:59:59.999Z'))
    expect(year2024.name).toBe('RANGE(2024-01-01T00:00:00.000Z, 2024-12-31T23:59:59.999Z, DATE)')
    expect(year2024.validate(new Date('2024-06-01'))).toBeUndefined()
    expect(year2024.validate(new Date('2025-01-01T00:00:00Z'))).toBe(
      '2025-01-01T00:00:00.000Z is not between 2024-01-01T00:00:00.000Z and 2024-12-31T23:59:59.999Z',
    )
    expect(year2024.validate(new Date(NaN))).toContain('invalid Date')
    expect(year2024.validate(Date.parse('2024-06-01'))).toContain('expected a Date')
    const back = year2024.fromStored(year2024.toStored(new Date('2024-06-01')))
    expect(back).toBeInstanceOf(Date)
    expect(year2024.equals(back, new Date('2024-06-01'))).toBe(true)
  })

  it('keeps -0 and compares like its type', () => {
    const r = RANGE(-1, 1, FLOAT)
    expect(Object.is(r.fromStored(r.toStored(-0)), -0)).toBe(true)
    expect(r.equals(0, -0)).toBe(false)
  })

  it('refuses bad declarations', () => {
    definitionError(() => RANGE(5, 1), 'RANGE(5, 1): min is greater than max')
    definitionError(() => RANGE(NaN, 1), 'a bound is NaN')
    definitionError(() => RANGE(new Date(NaN), new Date()), 'a bound is an invalid Date')
    definitionError(() => RANGE(new Date(0) as never, 5 as never), 'must both be numbers (or bigints) or both be Dates')
    definitionError(() => RANGE('a' as never, 'z' as never), 'got "a" and "z"')
    definitionError(() => RANGE(1, 5, 'INTEGER' as never), 'expected a Stowage type')
    definitionError(() => RANGE(1, 5, STRING), 'STRING accepts neither bound')
    definitionError(() => RANGE(-5, -1, POSITIVE), 'POSITIVE accepts neither bound')
    definitionError(() => RANGE(0, 10, DATE), 'DATE accepts neither bound')
  })
})

describe('REFERENCE', () => {
  class Account {
    oid = newOid()
  }
  class Admin extends Account {}
  class Article {
    oid = newOid()
  }
  const author = REFERENCE(() => Account)

  it('accepts an oid or an instance of the class, stores and reads back the oid', () => {
    const account = new Account()
    expect(author.name).toBe('REFERENCE(Account)')
    expect(author.target()).toBe(Account)
    expect(author.validate(account.oid)).toBeUndefined()
    expect(author.validate(account)).toBeUndefined()
    expect(author.validate(new Admin())).toBeUndefined()
    expect(author.toStored(account)).toBe(account.oid)
    expect(author.toStored(account.oid)).toBe(account.oid)
    expect(author.fromStored(author.toStored(account))).toBe(account.oid)
  })

  it('compares by oid, whichever form', () => {
    const account = new Account()
    expect(author.equals(account, account.oid)).toBe(true)
    expect(author.equals(account, new Account())).toBe(false)
  })

  it('refuses other values with a readable reason', () => {
    expect(author.validate('not-an-oid')).toBe('not a valid object id: "not-an-oid"')
    expect(author.validate(new Article())).toBe('expected an oid or an Account, got an Article')
    expect(author.validate(42)).toBe('expected an oid or an Account, got 42')
    const broken = new Account()
    broken.oid = ''
    expect(author.validate(broken)).toBe('the Account has no valid oid (got "")')
  })

  it('resolves the thunk lazily, so a class declared later works', () => {
    const later = REFERENCE(() => Later)
    expect(later.name).toBe('REFERENCE(?)')
    class Later {
      oid = newOid()
    }
    expect(later.name).toBe('REFERENCE(Later)')
    expect(later.validate(new Later())).toBeUndefined()
    expect(LIST(later).name).toBe('LIST(REFERENCE(Later))')
  })

  it('refuses bad declarations', () => {
    definitionError(() => REFERENCE(Account as never), 'pass a thunk, REFERENCE(() => Account)')
    definitionError(() => REFERENCE('Account' as never), 'expected a function returning a model class')
    definitionError(() => REFERENCE((() => 'Account') as never).validate({}), 'the thunk must return a class, returned "Account"')
  })
})

describe('LENGTH', () => {
  it('bounds the length of strings (in code points), lists and bytes', () => {
    const title = Types.LENGTH(1, 5)
    expect(title.name).toBe('LENGTH(1, 5, STRING)')
    expect(title.validate('abc')).toBeUndefined()
    expect(title.validate('😀😀😀😀😀')).toBeUndefined() // 5 code points, 10 UTF-16 units
    expect(title.validate('')).toBe('has 0 characters, not between 1 and 5')
    expect(title.validate('abcdef')).toBe('has 6 characters, not between 1 and 5')
    expect(title.validate(3)).toMatch(/string/)
    const tags = Types.LENGTH(0, 2, Types.LIST(Types.LINE))
    expect(tags.validate(['a', 'b'])).toBeUndefined()
    expect(tags.validate(['a', 'b', 'c'])).toBe('has 3 items, not between 0 and 2')
    expect(tags.validate(['a\nb'])).toMatch(/item 0/)
    expect(Types.LENGTH(1, 2, Types.BINARY).validate(new Uint8Array(3))).toBe('has 3 bytes, not between 1 and 2')
    expect(tags.equals(['a'], ['a'])).toBe(true)
    expect(tags.fromStored(tags.toStored(['x']))).toEqual(['x'])
  })

  it('refuses bad bounds at declaration', () => {
    expect(() => Types.LENGTH(3, 1)).toThrow(ModelDefinitionError)
    expect(() => Types.LENGTH(-1, 1)).toThrow(/non-negative/)
    expect(() => Types.LENGTH(0, 1, 'STRING' as never)).toThrow(ModelDefinitionError)
  })
})
