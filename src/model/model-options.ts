import { describeValue as describeData } from '../engine/engine.js'
import { ModelDefinitionError } from '../errors.js'
import { checkIndexVersion, declareIndex } from '../indexes/index-decorator.js'
import { Indexing } from '../indexes/indexing.js'
import { declareRelation, type RelationTarget } from '../relations/relation-decorator.js'
import { isType, type Type } from '../types/type.js'
import { declareProperty, describe, memberName, type MemberTarget, type PropertyOptions } from './decorators.js'
import type { IndexFn } from './meta.js'
import type { MigrationFn } from '../migrations/versioning.js'

/** The options of `@Model` and `defineModel`. */
export interface ModelOptions {
  /** Collection name; defaults to the class name. */
  collection?: string
  /** Properties, as with `@Property`: name -> a type, or `{ type, required }`. */
  properties?: Record<string, Type | PropertySpec>
  /** Relations, as with `@Relation`: name -> `() => Model` (a `One`) or `() => [Model]` (a `Many`). */
  relations?: Record<string, RelationTarget>
  /**
   * Indexes: name -> `(obj) => keys` for a computed index, or `{ property, fn, unique }` for an index
   * of a property or relation, as with `@Index(fn, { unique })` (`fn` defaults to `Indexing.value`).
   */
  indexes?: Record<string, IndexFn | IndexSpec>
  /** The version of the model's records this code writes; 1 when left out. */
  version?: number
  /** `{ n: (old) => props }` for every n from 2 to `version`: takes a version n-1 object's properties to version n's. */
  migrations?: Record<number, MigrationFn>
  /**
   * Collections the model had before (it was renamed): when it is registered, their objects move to
   * `collection`, with every link to them; given to `Database.open()`, never to a later `use()`.
   */
  formerly?: string[]
}

export interface PropertySpec extends PropertyOptions {
  type: Type
}

export interface IndexSpec {
  /** The property (or relation) whose value is passed to `fn`; without it, `fn(obj)` is a computed index. */
  property?: string
  /** `(value, obj) => keys`; defaults to `Indexing.value`. */
  fn?: IndexFn
  /** Refuse a save whose key another object holds (`ConstraintError`). */
  unique?: boolean
  /** Identifies the index definition instead of `fn`'s source text (see `@Index`). */
  version?: number
}

const OPTION_KEYS = ['collection', 'properties', 'relations', 'indexes', 'version', 'migrations', 'formerly']

/** Declares the members given in options; `label` (`@Model(Account)`) names them in messages. */
export function declareOptions(at: MemberTarget, options: ModelOptions, label: string): void {
  if (options === null || typeof options !== 'object') throw new ModelDefinitionError(`${label} options must be an object`)
  for (const key of Object.keys(options)) {
    if (!OPTION_KEYS.includes(key)) throw new ModelDefinitionError(`${label}: unknown option ${JSON.stringify(key)}; the options are ${OPTION_KEYS.join(', ')}`)
  }
  for (const [name, spec] of entries(options.properties, label, 'properties', 'name -> a type or { type, required }')) {
    const { type, ...propertyOptions } = isType(spec) ? { type: spec } : checkedSpec(spec, ['type', 'required'], `${label} property "${name}"`, '{ type, required }')
    if (!isType(type)) throw new ModelDefinitionError(`${label} property "${name}" needs a Stowage type (Types.*), got ${describeValue(type)}`)
    if (propertyOptions.required !== undefined && typeof propertyOptions.required !== 'boolean') {
      throw new ModelDefinitionError(`${label} property "${name}": required must be a boolean, got ${describeValue(propertyOptions.required)}`)
    }
    declareProperty(at, memberName(at.ctor, name, 'properties'), type, propertyOptions)
  }
  for (const [name, target] of entries(options.relations, label, 'relations', 'name -> () => Model or () => [Model]')) {
    declareRelation(at, memberName(at.ctor, name, 'relations'), target)
  }
  for (const [name, spec] of entries(options.indexes, label, 'indexes', 'name -> (obj) => keys or { property, fn, unique }')) {
    if (typeof spec === 'function') {
      declareIndex(at, { name, fn: spec, unique: false })
      continue
    }
    const what = `${label} index "${name}"`
    const { property, fn, unique, version } = checkedSpec(spec, ['property', 'fn', 'unique', 'version'], what, '(obj) => keys for a computed index, or { property, fn, unique, version }')
    if (fn !== undefined && typeof fn !== 'function') throw new ModelDefinitionError(`${what}: fn must be an index function (value, obj) => keys, got ${describeValue(fn)}`)
    if (unique !== undefined && typeof unique !== 'boolean') throw new ModelDefinitionError(`${what}: unique must be a boolean, got ${describeValue(unique)}`)
    checkIndexVersion(version, what)
    const versioned = version === undefined ? {} : { version: version as number }
    if (property === undefined && typeof fn === 'function') {
      declareIndex(at, { name, fn: fn as IndexFn, unique: unique === true, ...versioned }) // computed: fn(obj)
      continue
    }
    if (typeof property !== 'string') throw new ModelDefinitionError(`${what}: property must be the name of a property or relation, got ${describeValue(property)}`)
    declareIndex(at, { name, fn: (fn as IndexFn | undefined) ?? Indexing.value, property, unique: unique === true, ...versioned })
  }
}

function describeValue(v: unknown): string {
  return typeof v === 'function' ? describe(v) : describeData(v)
}

function entries<T>(record: Record<string, T> | undefined, label: string, option: string, shape: string): [string, T][] {
  if (record === undefined) return []
  if (record === null || typeof record !== 'object' || Array.isArray(record)) {
    throw new ModelDefinitionError(`${label} option ${option} must be an object of ${shape}, got ${describeValue(record)}`)
  }
  return Object.entries(record)
}

function checkedSpec<T extends object>(spec: T | unknown, keys: string[], what: string, shape: string): Partial<T> & Record<string, unknown> {
  if (spec === null || typeof spec !== 'object' || Object.getPrototypeOf(spec) !== Object.prototype) {
    throw new ModelDefinitionError(`${what} must be ${shape}, got ${describeValue(spec)}`)
  }
  for (const key of Object.keys(spec)) {
    if (!keys.includes(key)) throw new ModelDefinitionError(`${what}: unknown key ${JSON.stringify(key)}; the keys are ${keys.join(', ')}`)
  }
  return spec as Partial<T> & Record<string, unknown>
}
