import { ModelDefinitionError } from '../errors.js'
import { requireType, expected } from './arguments.js'
import { defineType } from './define-type.js'
import { deepEqual, isPlainObject } from './deep-equal.js'
import { describeKey, describeValue } from './describe.js'
import { copyPlainData, setOwn } from './any-data.js'
import { isType, type Type } from './type.js'

/** The JavaScript type of a Stowage type's values: `TypeOf<typeof Types.STRING>` is `string`. */
export type TypeOf<T> = T extends Type<infer V> ? V : never
type TypesOf<Ts extends readonly Type<any>[]> = { -readonly [K in keyof Ts]: TypeOf<Ts[K]> }

export interface ListType<T> extends Type<T[]> {
  readonly item: Type<T>
}

const MISSING = 'missing (undefined or an empty slot)'

/**
 * An array whose every element passes `item` (`undefined` elements and empty slots are refused).
 * The reason names the first failing element: `item 2: not a valid email address: "bob"`.
 * Stored as a new array of the elements' stored forms; equal when the lengths are and every
 * element is equal under `item.equals`.
 */
export function LIST<T>(item: Type<T>): ListType<T> {
  requireType('LIST(item)', item)
  return defineType({
    get name() {
      return `LIST(${item.name})`
    },
    item,
    validate(value: unknown) {
      if (!Array.isArray(value)) return expected('an array', value)
      for (let i = 0; i < value.length; i++) {
        const element = value[i]
        const reason = element === undefined ? MISSING : item.validate(element)
        if (reason !== undefined) return `item ${i}: ${reason}`
      }
      return undefined
    },
    toStored: (value: T[]) => mapArray(value, (element) => item.toStored(element)),
    fromStored: (stored: unknown) =>
      (Array.isArray(stored) ? mapArray(stored, (element) => item.fromStored(element)) : stored) as T[],
    equals(a: T[], b: T[]) {
      if (!Array.isArray(a) || !Array.isArray(b)) return deepEqual(a, b)
      if (a.length !== b.length) return false
      for (let i = 0; i < a.length; i++) if (!item.equals(a[i]!, b[i]!)) return false
      return true
    },
  })
}

function mapArray<T, U>(array: readonly T[], fn: (value: T, index: number) => U): U[] {
  const out = new Array<U>(array.length)
  for (let i = 0; i < array.length; i++) out[i] = fn(array[i]!, i)
  return out
}

export interface TupleType<Ts extends readonly Type<any>[]> extends Type<TypesOf<Ts>> {
  readonly items: Ts
}

/**
 * An array of exactly `items.length` elements where element `i` passes `items[i]`
 * (`TUPLE(Types.FLOAT, Types.FLOAT)` for a point). Needs at least one type.
 */
export function TUPLE<const Ts extends readonly Type<any>[]>(...items: Ts): TupleType<Ts> {
  if (items.length === 0) throw new ModelDefinitionError('TUPLE() needs at least one element type')
  items.forEach((item, i) => requireType(`TUPLE(...): element type ${i}`, item))
  const types = Object.freeze([...items]) as unknown as Ts
  const list = types as readonly Type[]
  return defineType({
    get name() {
      return `TUPLE(${list.map((t) => t.name).join(', ')})`
    },
    items: types,
    validate(value: unknown) {
      if (!Array.isArray(value)) return expected(`an array of ${list.length}`, value)
      if (value.length !== list.length) return `expected ${list.length} items, got ${value.length}`
      for (let i = 0; i < list.length; i++) {
        const element = value[i]
        const reason = element === undefined ? MISSING : list[i]!.validate(element)
        if (reason !== undefined) return `item ${i}: ${reason}`
      }
      return undefined
    },
    toStored: (value: TypesOf<Ts>) => mapArray(value as unknown[], (element, i) => list[i]!.toStored(element)),
    fromStored: (stored: unknown) =>
      (Array.isArray(stored) && stored.length === list.length
        ? mapArray(stored, (element, i) => list[i]!.fromStored(element))
        : stored) as TypesOf<Ts>,
    equals(a: TypesOf<Ts>, b: TypesOf<Ts>) {
      if (!Array.isArray(a) || !Array.isArray(b) || a.length !== list.length || b.length !== list.length) {
        return deepEqual(a, b)
      }
      for (let i = 0; i < list.length; i++) if (!list[i]!.equals(a[i], b[i])) return false
      return true
    },
  })
}

export interface OneOfType<Ts extends readonly Type<any>[]> extends Type<TypeOf<Ts[number]>> {
  readonly options: Ts
}

/**
 * A value that passes at least one of `options`, tried in order; the first it passes stores it and
 * compares it. Stored data does not record which option was used: `fromStored` gives the first
 * option whose `fromStored` result that option accepts, so put the most specific options first
 * (e.g. `ONE_OF(Types.EMAIL, Types.STRING)`). The reason lists every option's reason.
 */
export function ONE_OF<const Ts extends readonly Type<any>[]>(...options: Ts): OneOfType<Ts> {
  if (options.length === 0) throw new ModelDefinitionError('ONE_OF() needs at least one type')
  options.forEach((option, i) => requireType(`ONE_OF(...): option ${i}`, option))
  const types = Object.freeze([...options]) as unknown as Ts
  const list = types as readonly Type[]
  const matching = (value: unknown): Type | undefined => list.find((t) => t.validate(value) === undefined)
  return defineType({
    get name() {
      return `ONE_OF(${list.map((t) => t.name).join(', ')})`
    },
    options: types,
    validate(value: unknown) {
      for (const type of list) if (type.validate(value) === undefined) return undefined
      const reasons = list.map((t) => `${t.name}: ${t.validate(value)}`).join('; ')
      return `matches none of ${list.map((t) => t.name).join(', ')} (${reasons})`
    },
    toStored: (value: TypeOf<Ts[number]>) => (matching(value) ?? ANY_DATA).toStored(value),
    fromStored(stored: unknown) {
      for (const type of list) {
        const value = type.fromStored(stored)
        if (type.validate(value) === undefined) return value as TypeOf<Ts[number]>
      }
      return copyPlainData(stored) as TypeOf<Ts[number]>
    },
    equals(a: TypeOf<Ts[number]>, b: TypeOf<Ts[number]>) {
      const type = matching(a)
      return type !== undefined && type === matching(b) ? type.equals(a, b) : deepEqual(a, b)
    },
  })
}

/** Used where no declared type applies (data that does not fit the declaration any more). */
const ANY_DATA = { toStored: copyPlainData }

export type MapShape = { readonly [key: string]: Type<any> }
type ShapeValue<S extends MapShape> = { [K in keyof S]?: TypeOf<S[K]> }

export interface MapType<T> extends Type<T> {
  /** The declared keys and their types; undefined for a dictionary (`MAP(type)`). */
  readonly shape?: MapShape
  /** The type of every value of a dictionary (`MAP(type)`); undefined for a shape. */
  readonly values?: Type
}

/**
 * `MAP({ name: type, ... })`: a plain object (prototype `Object.prototype` or `null`) whose declared
 * keys pass their types. A declared key may be missing or `undefined` (then it is not stored). Keys
 * not declared are refused (`unknown key "nmae"`), so a typo or a stray field is caught at save time
 * rather than stored unchecked. The reason names the failing key: `city: expected a string, got 3`.
 *
 * `MAP(type)`: a dictionary, a plain object with any keys whose every value passes `type`.
 *
 * Stored as a new plain object. `fromStored` keeps keys that are no longer declared (copied as they
 * are) so that no data is lost silently; the next save reports them.
 */
export function MAP<S extends MapShape>(shape: S): MapType<ShapeValue<S>>
export function MAP<T>(values: Type<T>): MapType<Record<string, T>>
export function MAP(arg: MapShape | Type): MapType<Record<string, unknown>> {
  let shape: MapShape | undefined
  let values: Type | undefined
  const declared = new Map<string, Type>()
  if (isType(arg)) {
    values = arg
  } else {
    if (!isPlainObject(arg)) {
      throw new ModelDefinitionError(
        `MAP(shape): expected an object of types like MAP({ name: Types.STRING }) or a type, got ${describeValue(arg)}`,
      )
    }
    for (const key of Object.keys(arg)) declared.set(key, requireType(`MAP({ ${describeKey(key)}: ... })`, arg[key]))
    if (declared.size === 0) {
      throw new ModelDefinitionError('MAP({}) declares no keys; use Types.ANY for free-form data or MAP(type) for a dictionary')
    }
    shape = Object.freeze(Object.fromEntries(declared))
  }
  const typeOf = (key: string): Type | undefined => declared.get(key) ?? values
  return defineType({
    get name() {
      if (values) return `MAP(${values.name})`
      return `MAP({ ${[...declared].map(([key, type]) => `${describeKey(key)}: ${type.name}`).join(', ')} })`
    },
    shape,
    values,
    validate(value: unknown) {
      if (!isPlainObject(value)) return expected('a plain object', value)
      for (const key in value) {
        if (!Object.hasOwn(value, key)) continue
        const item = value[key]
        if (item === undefined) continue
        const type = typeOf(key)
        if (type === undefined) {
          return `unknown key ${JSON.stringify(key)} (declared: ${[...declared.keys()].map(describeKey).join(', ')})`
        }
        const reason = type.validate(item)
        if (reason !== undefined) return `${describeKey(key)}: ${reason}`
      }
      return undefined
    },
    toStored: (value: Record<string, unknown>) => mapObject(value, (item, type) => (type ?? ANY_DATA).toStored(item), typeOf),
    fromStored: (stored: unknown) =>
      (isPlainObject(stored)
        ? mapObject(stored, (item, type) => (type ? type.fromStored(item) : copyPlainData(item)), typeOf)
        : stored) as Record<string, unknown>,
    equals(a: Record<string, unknown>, b: Record<string, unknown>) {
      if (!isPlainObject(a) || !isPlainObject(b)) return deepEqual(a, b)
      let count = 0
      for (const key of Object.keys(a)) {
        const item = a[key]
        if (item === undefined) continue
        count++
        const other = Object.hasOwn(b, key) ? b[key] : undefined
        if (other === undefined) return false
        const type = typeOf(key)
        if (!(type ? type.equals(item, other) : deepEqual(item, other))) return false
      }
      for (const key of Object.keys(b)) if (b[key] !== undefined) count--
      return count === 0
    },
  })
}

function mapObject(
  object: Record<string, unknown>,
  fn: (value: unknown, type: Type | undefined) => unknown,
  typeOf: (key: string) => Type | undefined,
): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const key of Object.keys(object)) {
    const item = object[key]
    if (item !== undefined) setOwn(out, key, fn(item, typeOf(key)))
  }
  return out
}
