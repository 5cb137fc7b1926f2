import type { Versioning } from '../migrations/versioning.js'
import type { Type } from '../types/type.js'

/** A key an index can hold. */
export type IndexKey = string | number | boolean | Date
/** An index function: called as `fn(value, obj)` (computed indexes: `fn(obj)`), returns its keys. */
export type IndexFn = (value: any, obj: any) => IndexKey | readonly IndexKey[] | undefined | null

export interface PropertyMeta {
  name: string
  type: Type
  required: boolean
}

export interface IndexMeta {
  name: string
  fn: IndexFn
  /** The property whose value is passed to `fn`; undefined for a computed index (`fn(obj)`). */
  property?: string
  unique: boolean
  /**
   * Identifies the definition instead of the function's source text (which a minifier changes on
   * every release): entries are rebuilt when it changes, not when the text does.
   */
  version?: number
}

export interface RelationMeta {
  name: string
  /** The thunk as declared (`() => Account` or `() => [Comment]`), giving model classes for the classes they were made from. */
  target: () => unknown
  many: boolean
}

/** Everything Stowage knows about one model class; built by `@Model`, own to that class. */
export interface ModelMeta {
  ctor: Function
  collection: string
  kind: 'object' | 'raw'
  properties: Map<string, PropertyMeta>
  /** The values of `properties`, in order: loops over every property (each save) run over this array. */
  propertyList: PropertyMeta[]
  indexes: Map<string, IndexMeta>
  relations: Map<string, RelationMeta>
  /** `version` and `migrations` of `@Model`. */
  versioning: Versioning
  /** The decorator standard its classes were declared with (none for `defineModel` options alone). */
  decorators?: DecoratorStandard
  /** The database the class is bound to while one that registered it is open. */
  db?: unknown
}

/** TypeScript's `experimentalDecorators` (legacy) or TC39 standard decorators. */
export type DecoratorStandard = 'legacy' | 'standard'

/** Declarations collected by member decorators before `@Model` runs; own to one class. */
export interface Declarations {
  properties: Map<string, PropertyMeta>
  indexes: IndexMeta[]
  relations: Map<string, RelationMeta>
  /** The first member declared with each decorator standard, to name in a message if both are. */
  first: { [S in DecoratorStandard]?: string }
}

export function emptyDeclarations(): Declarations {
  return { properties: new Map(), indexes: [], relations: new Map(), first: {} }
}

const DECLARATIONS = Symbol('stowage.declarations')
const META = Symbol('stowage.meta')

/** Names a model member cannot take: the API's own, and ones that would break objects. */
export const RESERVED_NAMES = new Set(['type', 'oid', 'updates', 'constructor', '__proto__', 'prototype'])

/** The declarations made on exactly this class (never its base), created on first use. */
export function declarationsOf(ctor: Function): Declarations {
  if (!Object.hasOwn(ctor, DECLARATIONS)) {
    Object.defineProperty(ctor, DECLARATIONS, { value: emptyDeclarations() })
  }
  return (ctor as any)[DECLARATIONS]
}

/** The finalized metadata of a `@Model` class (own, never inherited), or undefined. */
export function metaOf(ctor: Function): ModelMeta | undefined {
  return Object.hasOwn(ctor, META) ? (ctor as any)[META] : undefined
}

export function setMeta(ctor: Function, meta: ModelMeta): void {
  Object.defineProperty(ctor, META, { value: meta })
}

const MODEL_CLASSES = new WeakMap<Function, Function>()

/** Remembers the model class `@Model` or `defineModel` made from a class. */
export function setModelClass(original: Function, model: Function): void {
  MODEL_CLASSES.set(original, model)
}

/**
 * The model class for a class a relation thunk returned: esbuild's standard decorators give a
 * class body the undecorated class (evanw/esbuild#3968), so `() => [Comment]` inside Comment can
 * name it rather than the model.
 */
export function modelClass(value: unknown): unknown {
  return typeof value === 'function' && metaOf(value) === undefined ? (MODEL_CLASSES.get(value) ?? value) : value
}
