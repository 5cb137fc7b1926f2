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
}

export interface RelationMeta {
  name: string
  /** The thunk as declared: `() => Account` or `() => [Comment]`. */
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
  /** The database the class is bound to while one that registered it is open. */
  db?: unknown
}

/** Declarations collected by member decorators before `@Model` runs; own to one class. */
export interface Declarations {
  properties: Map<string, PropertyMeta>
  indexes: IndexMeta[]
  relations: Map<string, RelationMeta>
}

const DECLARATIONS = Symbol('stowage.declarations')
const META = Symbol('stowage.meta')

/** Names a model member cannot take: the API's own, and ones that would break objects. */
export const RESERVED_NAMES = new Set(['type', 'oid', 'updates', 'constructor', '__proto__', 'prototype'])

/** The declarations made on exactly this class (never its base), created on first use. */
export function declarationsOf(ctor: Function): Declarations {
  if (!Object.hasOwn(ctor, DECLARATIONS)) {
    Object.defineProperty(ctor, DECLARATIONS, {
      value: { properties: new Map(), indexes: [], relations: new Map() } satisfies Declarations,
    })
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
