import { ModelDefinitionError } from '../errors.js'
import { isOid } from '../model/oid.js'
import { expected, requireType } from './arguments.js'
import { defineType } from './define-type.js'
import { describeValue, withArticle, className } from './describe.js'
import { DATE, INTEGER, NUMBER, STRING } from './scalar-types.js'
import type { Type } from './type.js'

export interface EnumType<V extends string | number> extends Type<V> {
  readonly values: readonly V[]
}

const MAX_LISTED = 10

/**
 * One of the given values, each a string or a number (`ENUM('draft', 'published')`); compared with
 * `===` (so `'1'` is not `1`). Needs at least one value, without duplicates.
 */
export function ENUM<const V extends readonly (string | number)[]>(...values: V): EnumType<V[number]> {
  if (values.length === 0) throw new ModelDefinitionError('ENUM() needs at least one value')
  const allowed = new Set<unknown>()
  for (const value of values as readonly unknown[]) {
    if (Array.isArray(value)) {
      throw new ModelDefinitionError('ENUM(...values) takes the values as arguments, not an array: spread it, ENUM(...array)')
    }
    if (typeof value !== 'string' && (typeof value !== 'number' || Number.isNaN(value))) {
      throw new ModelDefinitionError(`ENUM(...values): a value must be a string or a number, got ${describeValue(value)}`)
    }
    if (allowed.has(value)) throw new ModelDefinitionError(`ENUM(...values): duplicate value ${describeValue(value)}`)
    allowed.add(value)
  }
  const list = Object.freeze([...values]) as readonly V[number][]
  const listed = list.slice(0, MAX_LISTED).map(describeValue).join(', ')
  const shown = list.length > MAX_LISTED ? `${listed}, … (${list.length} values)` : listed
  return defineType({
    name: `ENUM(${shown})`,
    values: list,
    validate: (value: unknown) => (allowed.has(value) ? undefined : expected(`one of ${shown}`, value)),
    toStored: (value: V[number]) => value,
    fromStored: (stored: unknown) => stored as V[number],
    equals: (a: V[number], b: V[number]) => Object.is(a, b),
  })
}

type Bound = number | bigint | Date

export interface RangeType<T> extends Type<T> {
  readonly min: Bound
  readonly max: Bound
  readonly type: Type<T>
}

/**
 * A value that passes `type` and lies between `min` and `max`, both included. Bounds are numbers
 * and/or bigints (compared numerically, NaN fails), or Dates (compared by time). `type` defaults to
 * `DATE` for Date bounds, `INTEGER` when a bound is a bigint, else `NUMBER`. Throws
 * `ModelDefinitionError` when a bound is NaN or an invalid Date, when `min > max`, when the bounds
 * mix Dates and numbers, or when `type` accepts neither bound (e.g. `RANGE(-5, -1, POSITIVE)`).
 */
export function RANGE<T>(min: Bound, max: Bound, type: Type<T>): RangeType<T>
export function RANGE(min: Date, max: Date): RangeType<Date>
export function RANGE(min: number, max: number): RangeType<number>
export function RANGE(min: number | bigint, max: number | bigint): RangeType<number | bigint>
export function RANGE<T>(min: Bound, max: Bound, type?: Type<T>): RangeType<T> {
  const dates = min instanceof Date && max instanceof Date
  const numeric = isNumeric(min) && isNumeric(max)
  const shown = `RANGE(${describeBound(min)}, ${describeBound(max)}${type ? `, ${type.name}` : ''})`
  if (!dates && !numeric) {
    throw new ModelDefinitionError(
      `${shown}: min and max must both be numbers (or bigints) or both be Dates, got ${describeValue(min)} and ${describeValue(max)}`,
    )
  }
  const low = dates ? (min as Date).getTime() : (min as number | bigint)
  const high = dates ? (max as Date).getTime() : (max as number | bigint)
  if (Number.isNaN(low) || Number.isNaN(high)) throw new ModelDefinitionError(`${shown}: a bound is ${dates ? 'an invalid Date' : 'NaN'}`)
  if (low > high) throw new ModelDefinitionError(`${shown}: min is greater than max`)
  if (type !== undefined) requireType(`${shown}: type`, type)
  const checked = (type ?? (dates ? DATE : typeof min === 'bigint' || typeof max === 'bigint' ? INTEGER : NUMBER)) as Type<T>
  if (checked.validate(min) !== undefined && checked.validate(max) !== undefined) {
    throw new ModelDefinitionError(`${shown}: ${checked.name} accepts neither bound (${checked.validate(min)})`)
  }
  const name = `RANGE(${describeBound(min)}, ${describeBound(max)}, ${checked.name})`
  const between = `between ${describeBound(min)} and ${describeBound(max)}`
  return refine(checked, name, { min, max, type: checked }, (value) => {
    if (dates) {
      if (!(value instanceof Date)) return expected(`a Date ${between}`, value)
      const time = value.getTime()
      return time >= (low as number) && time <= (high as number) ? undefined : `${describeBound(value)} is not ${between}`
    }
    if (!isNumeric(value)) return expected(`a number ${between}`, value)
    return value >= low && value <= high ? undefined : `${describeValue(value)} is not ${between}`
  }) as RangeType<T>
}

function isNumeric(value: unknown): value is number | bigint {
  return typeof value === 'number' || typeof value === 'bigint'
}

function describeBound(bound: unknown): string {
  return bound instanceof Date && !Number.isNaN(bound.getTime()) ? bound.toISOString() : describeValue(bound)
}

/** A class whose instances a `REFERENCE` accepts (any class with an `oid` string property). */
export type ReferenceTarget<M> = abstract new (...args: any[]) => M

export interface ReferenceType<M> extends Type<string | M> {
  /** The class the thunk returns (calls the thunk). */
  target(): ReferenceTarget<M>
}

const CLASS_SOURCE = /^class[\s{]/

/**
 * A reference to one object of the class `thunk` returns (`REFERENCE(() => Account)`; a thunk, so
 * classes declared later or in circular imports work). Accepts an oid string (a valid oid, whatever
 * object it names: it is not looked up), or an instance of that class (or a subclass) with a valid
 * `oid`. Stored as the oid string, and read back as the oid string (not the object: load it with
 * `Account.get(oid)`). Equal when the oids are. For links that load objects and follow removals,
 * use `@Relation`.
 */
export function REFERENCE<M>(thunk: () => ReferenceTarget<M>): ReferenceType<M> {
  if (typeof thunk !== 'function') {
    throw new ModelDefinitionError(`REFERENCE(thunk): expected a function returning a model class, like REFERENCE(() => Account), got ${describeValue(thunk)}`)
  }
  if (CLASS_SOURCE.test(Function.prototype.toString.call(thunk))) {
    throw new ModelDefinitionError(`REFERENCE(${thunk.name}): pass a thunk, REFERENCE(() => ${thunk.name}), not the class itself`)
  }
  let resolved: ReferenceTarget<M> | undefined
  const target = (): ReferenceTarget<M> => {
    if (resolved) return resolved
    const value: unknown = thunk()
    if (typeof value !== 'function') {
      throw new ModelDefinitionError(`REFERENCE(() => ...): the thunk must return a class, returned ${describeValue(value)}`)
    }
    return (resolved = value as ReferenceTarget<M>)
  }
  const targetName = (): string => {
    try {
      return target().name
    } catch {
      return '?' // the class is not initialized yet (declared further down)
    }
  }
  const oidOf = (value: unknown): unknown => (typeof value === 'object' && value !== null ? (value as { oid?: unknown }).oid : value)
  return defineType({
    get name() {
      return `REFERENCE(${targetName()})`
    },
    target,
    validate(value: unknown) {
      if (typeof value === 'string') return isOid(value) ? undefined : `not a valid object id: ${describeValue(value)}`
      const model = target()
      if (!(value instanceof model)) return expected(`an oid or ${withArticle(model.name)}`, value)
      const oid = (value as { oid?: unknown }).oid
      return isOid(oid) ? undefined : `the ${className(value as object)} has no valid oid (got ${describeValue(oid)})`
    },
    toStored: (value: string | M) => oidOf(value),
    fromStored: (stored: unknown) => stored as string,
    equals: (a: string | M, b: string | M) => oidOf(a) === oidOf(b),
  })
}

/**
 * A type that accepts what `base` accepts and `check` then allows; stored, read back and compared as
 * `base` does (RANGE, LENGTH).
 */
function refine<T, X extends object>(base: Type<T>, name: string, fields: X, check: (value: unknown) => string | undefined): Type<T> & X {
  return defineType({
    name,
    ...fields,
    validate: (value: unknown) => base.validate(value) ?? check(value),
    toStored: (value: T) => base.toStored(value),
    fromStored: (stored: unknown) => base.fromStored(stored),
    equals: (a: T, b: T) => base.equals(a, b),
  })
}

export interface LengthType<T> extends Type<T> {
  readonly min: number
  readonly max: number
  readonly type: Type<T>
}

/**
 * A value of the type (default STRING) whose length is between min and max inclusive: characters
 * (code points) for strings, elements for arrays, bytes for binary. `LENGTH(1, 200)` is a non-empty
 * string of at most 200 characters; `LENGTH(0, 10, Types.LIST(Types.STRING))` at most 10 tags.
 */
export function LENGTH<T = string>(min: number, max: number, type?: Type<T>): LengthType<T> {
  const shown = `LENGTH(${min}, ${max}${type ? `, ${type.name}` : ''})`
  if (!Number.isSafeInteger(min) || !Number.isSafeInteger(max) || min < 0) {
    throw new ModelDefinitionError(`${shown}: min and max must be non-negative integers`)
  }
  if (min > max) throw new ModelDefinitionError(`${shown}: min is greater than max`)
  if (type !== undefined) requireType(`${shown}: type`, type)
  const checked = (type ?? STRING) as Type<T>
  const unit = (value: unknown) => (typeof value === 'string' ? 'characters' : value instanceof Uint8Array ? 'bytes' : 'items')
  return refine(checked, `LENGTH(${min}, ${max}, ${checked.name})`, { min, max, type: checked }, (value) => {
    const length = lengthOf(value)
    if (length === undefined) return expected('a string, an array or bytes', value)
    return length >= min && length <= max ? undefined : `has ${length} ${unit(value)}, not between ${min} and ${max}`
  })
}

function lengthOf(value: unknown): number | undefined {
  if (typeof value === 'string') {
    let n = 0
    for (const _ of value) n++
    return n
  }
  if (Array.isArray(value)) return value.length
  if (value instanceof Uint8Array) return value.byteLength
  return undefined
}
