import type { ChangeEvent } from '../changes/change-event.js'
import type { ChangeStream } from '../changes/change-stream.js'
import { ArgumentError, ModelDefinitionError } from '../errors.js'
import { oidForNewObject } from './oid.js'
import { metaOf, type IndexKey, type ModelMeta } from './meta.js'
import { newState, STATE, type ObjectState } from './object-state.js'
import { databaseFor } from './registry.js'
import { exportObject, type ExportOptions, type Exported } from './export-import.js'
import { IndexView } from '../indexes/index-view.js'
import { Query } from '../query/query.js'
import { parseQuery } from '../query/parse-query.js'
import type { FindOptions } from '../query/query-types.js'
import type { One } from '../relations/one.js'
import type { Many } from '../relations/many.js'

export const MODEL_KIND = Symbol.for('stowage.modelKind')

/**
 * The properties a model's constructor, `create`, `ensure` and `update` accept, each optional: the
 * data members of the instance type `T`, less methods, readonly members (getters) and Stowage's own
 * members (`oid`, `type`, `updates`, ...). A `One<X>` member takes `X` (or `undefined`/`null` to
 * unlink), a `Many<X>` member an iterable of `X` (it replaces every link), as assigning them does.
 * TypeScript cannot see decorators: a member without `@Property` or `@Relation` is accepted here
 * and refused at run time.
 */
export type Props<T> = { [K in keyof T as DataKey<T, K>]?: PropValue<T[K]> }

/** What assigning to a member accepts: the linked object(s) for a relation, else the member's type. */
type PropValue<V> = V extends One<infer X> ? X | undefined | null : V extends Many<infer X> ? Iterable<X> | undefined | null : V

/** `K` when it names a data member of `T` that props may set, else never. */
type DataKey<T, K extends keyof T> = K extends string
  ? K extends FrameworkKey
    ? never
    : T[K] extends Function
      ? never
      : IsReadonly<T, K> extends true
        ? never
        : K
  : never

type FrameworkKey = keyof StoredObject | 'updates'

// Getters without setters are readonly members; only this identity comparison tells readonly apart.
type IsReadonly<T, K extends keyof T> =
  (<G>() => G extends { [Q in K]: T[K] } ? 1 : 2) extends <G>() => G extends { -readonly [Q in K]: T[K] } ? 1 : 2 ? false : true

/** The constructor's argument: `Props<Self>` for `extends StoredObject<Self>`, any object without it (`Self` is any). */
type ConstructorProps<Self> = 0 extends 1 & Self ? object : Props<Self>

/**
 * The names `Model.index(name)` accepts: the model's data members other than to-many relations
 * (an `@Index` is named after its member), and the names in a `declare static indexes` declaration
 * (computed indexes and indexes renamed with `@Index(fn, { name })`).
 */
export type IndexName<C> = PropertyIndexName<InstanceOf<C>> | DeclaredIndexName<C>

/**
 * The query key type of index `N`: as declared in `declare static indexes`, else that of the member's
 * values (an array member's elements; a `One` relation's linked oid), else any `IndexKey`.
 */
export type IndexKeyOf<C, N> = C extends { indexes: infer D }
  ? N extends keyof D
    ? DeclaredKey<D[N]>
    : MemberKey<C, N>
  : MemberKey<C, N>

type InstanceOf<C> = C extends abstract new (...args: any) => infer T ? T : never
type PropertyIndexName<T> = { [K in keyof Props<T>]-?: T[K & keyof T] extends Many<any> | undefined ? never : K }[keyof Props<T>]
type DeclaredIndexName<C> = C extends { indexes: infer D } ? keyof D & string : never
type DeclaredKey<V> = [Extract<V, IndexKey>] extends [never] ? IndexKey : Extract<V, IndexKey>
type MemberKey<C, N> = N extends keyof InstanceOf<C> ? ValueKey<InstanceOf<C>[N]> : IndexKey
type ValueKey<V> = 0 extends 1 & V
  ? IndexKey
  : [NonNullable<V>] extends [One<any>]
    ? string
    : [NonNullable<V>] extends [readonly (infer E)[]]
      ? DeclaredKey<E>
      : DeclaredKey<V>

/** A model class, as seen by the static methods. */
export type ModelClass<T extends StoredObject> = (new (props?: any) => T) & { prototype: T }

export interface ListOptions {
  /** Position of the first object (default 0). */
  start?: number
  /** How many objects at most (default all remaining). */
  count?: number
}

/**
 * Base class of stored, typed models. Declare properties with `@Property`, the class with `@Model()`.
 * `create`, `ensure` and `update` take the model's `Props`. A constructor cannot be typed by its
 * subclass, so `new Account(props)` checks props only when the class names itself as the type
 * argument (`extends StoredObject<Account>`) or declares `constructor(props?: Props<Account>)`.
 *
 * @example
 * ```ts
 * @Model()
 * class Account extends StoredObject<Account> {
 *   @Property(Types.EMAIL) email!: string
 * }
 * const a = await Account.create({ email: 'ann@example.com' })
 * new Account({ emial: 'ann@example.com' }) // a compile error
 * ```
 */
export class StoredObject<Self = any> {
  static readonly [MODEL_KIND]: 'object' | 'raw' = 'object'
  declare [STATE]: ObjectState

  constructor(_props?: ConstructorProps<Self>) {
    const meta = metaOf(new.target)
    if (meta === undefined) {
      throw new ModelDefinitionError(`${new.target.name} is not a model class: decorate it with @Model(), or use the class defineModel() returned`)
    }
    this[STATE] = newState(meta, oidForNewObject())
  }

  /** The object's id. */
  get oid(): string {
    return this[STATE].oid
  }

  /** The object's collection name. */
  get type(): string {
    return this[STATE].meta.collection
  }

  /** Validates, then writes the object and its index entries and links in one atomic write. */
  async save(): Promise<this> {
    await databaseFor(this[STATE].meta).save(this)
    return this
  }

  /**
   * Assigns the given properties, then saves. If the update is refused (a `ValidationError`, a wrong
   * relation target, a unique key), nothing of it stays on the live instance: outside a transaction
   * it runs as one.
   */
  async update(props: Props<this>): Promise<this> {
    await databaseFor(this[STATE].meta).update(this, props)
    return this
  }

  /**
   * Discards unsaved changes: properties, relation changes and (StoredRaw) data and metadata not
   * yet saved go back to what is stored. Runs after the writes already queued. Throws
   * `NotFoundError` for an object that was never saved or was removed.
   */
  async revert(): Promise<this> {
    await databaseFor(this[STATE].meta).revert(this)
    return this
  }

  /** Deletes the object, its index entries and its links in relations. */
  async remove(): Promise<void> {
    await databaseFor(this[STATE].meta).remove(this)
  }

  /** Plain data: depth 0 `{ oid, type }`, 1 adds properties and update times, 2 expands relations. */
  export(options: ExportOptions = {}): Exported {
    return databaseFor(this[STATE].meta).exportObject(this, options)
  }

  /**
   * `JSON.stringify(obj)` gives its export at depth 1: `{ oid, type, updates, ...properties }`, with
   * relations as `{ oid, type }`. Works for an instance whose model is not registered too.
   */
  toJSON(): Exported {
    return exportObject(this[STATE].meta.db, this, { depth: 1 })
  }

  /** `console.log(obj)` and `util.inspect(obj)`: the class, oid and properties, not Stowage's internals. */
  [Symbol.for('nodejs.util.inspect.custom')](depth: number, options: object, inspect: (value: unknown, options: object) => string): string {
    let shown: Record<string, unknown>
    try {
      const { type: _type, updates: _updates, ...rest } = this.toJSON()
      shown = rest
    } catch {
      shown = { oid: this.oid } // e.g. a relation too large to list without load()
    }
    const name = this[STATE].meta.ctor.name
    return depth < 0 ? `[${name} ${this.oid}]` : `${name} ${inspect(shown, { ...options, depth })}`
  }

  /** The change events of this object (see `db.changes()`): each lists only its change. */
  changes(): ChangeStream<ChangeEvent> {
    const { meta, oid } = this[STATE]
    return databaseFor(meta).changesWhere({ collection: meta.collection, oid })
  }

  /** When `name` last changed in a save (ms epoch); without a name, when the object last changed. */
  getUpdateTime(name?: string): number | undefined {
    const state = this[STATE]
    if (name === undefined) return state.changedAt || undefined
    return Object.hasOwn(state.updates, name) ? state.updates[name] : undefined
  }

  static async create<T extends StoredObject>(this: ModelClass<T>, props?: Props<T>): Promise<T> {
    const obj = new this(props)
    await obj.save()
    return obj
  }

  static get<T extends StoredObject>(this: ModelClass<T>, oid: string): Promise<T | undefined> {
    try {
      const meta = metaFor(this)
      return databaseFor(meta).load(meta, oid) as Promise<T | undefined>
    } catch (err) {
      return Promise.reject(err)
    }
  }

  static async has(this: ModelClass<StoredObject>, oid: string): Promise<boolean> {
    const meta = metaFor(this)
    return databaseFor(meta).has(meta, oid)
  }

  /** The stored object with that oid, or a new one saved with it (and `props`). */
  static async ensure<T extends StoredObject>(this: ModelClass<T>, oid: string, props?: Props<T>): Promise<T> {
    const meta = metaFor(this)
    return (await databaseFor(meta).ensure(meta, oid, props)) as T
  }

  static async count(this: ModelClass<StoredObject>): Promise<number> {
    const meta = metaFor(this)
    return databaseFor(meta).count(meta)
  }

  /** Every stored object in creation order, streamed. */
  static all<T extends StoredObject>(this: ModelClass<T>): AsyncIterable<T> {
    const meta = metaFor(this)
    return databaseFor(meta).all(meta) as AsyncIterable<T>
  }

  /** A page of objects in the order of `all()`. */
  static async list<T extends StoredObject>(this: ModelClass<T>, options: ListOptions = {}): Promise<T[]> {
    const meta = metaFor(this)
    return (await databaseFor(meta).list(meta, options)) as T[]
  }

  /**
   * The index view named by an indexed property or a computed index. Names and query keys are
   * typed: see `IndexName` and `IndexKeyOf`.
   */
  static index<C extends ModelClass<StoredObject>, N extends IndexName<C>>(this: C, name: N): IndexView<InstanceOf<C>, IndexKeyOf<C, N>> {
    const meta = metaFor(this)
    return new IndexView(databaseFor(meta), meta, name as string)
  }

  /**
   * A query over the model's indexes and properties: `where` (all hold), `or` (one of them holds),
   * `filter`, `orderBy`, `offset`, `limit`. Names and keys are typed like `index()`'s. Bad input is
   * refused here with QueryError, before anything is read; the query runs when iterated or asked
   * for `first()`, `count()`, `oids()` or `explain()`.
   */
  static find<C extends ModelClass<StoredObject>>(this: C, options: FindOptions<C, InstanceOf<C>> = {}): Query<InstanceOf<C>> {
    const meta = metaFor(this)
    const db = databaseFor(meta)
    return new Query(db, parseQuery(meta, options))
  }

  /** The change events of this model's objects (see `db.changes()`): each lists only its changes. */
  static changes(this: ModelClass<StoredObject>): ChangeStream<ChangeEvent> {
    const meta = metaFor(this)
    return databaseFor(meta).changesWhere({ collection: meta.collection })
  }

  /** Creates or updates an object from an `export()`, newer update times winning per property; saves it. */
  static async import<T extends StoredObject>(this: ModelClass<T>, exported: Exported): Promise<T> {
    const meta = metaFor(this)
    return (await databaseFor(meta).importObject(meta, exported)) as T
  }
}

export function metaFor(ctor: Function): ModelMeta {
  const meta = metaOf(ctor)
  if (meta === undefined) throw new ModelDefinitionError(`${ctor.name} is not a model class: decorate it with @Model(), or use the class defineModel() returned`)
  return meta
}

/**
 * Assigns props, refusing names the model does not have. While constructing, properties go straight
 * into the state (nothing to pin or enrol yet); otherwise, and for relations, through the accessors.
 */
export function assignProps(obj: StoredObject, props: unknown, constructing = false): void {
  if (props === undefined || props === null) return
  const meta = obj[STATE].meta
  if (typeof props !== 'object') throw new ArgumentError(`${meta.ctor.name}: properties must be given as an object, got ${typeof props}`)
  const keys = Object.keys(props)
  for (const key of keys) {
    if (!meta.properties.has(key) && !meta.relations.has(key)) {
      throw new ArgumentError(
        `${meta.ctor.name} has no property "${key}"; it has: ${[...meta.properties.keys(), ...meta.relations.keys()].join(', ') || '(none)'}`,
      )
    }
  }
  const values = obj[STATE].values
  for (const key of keys) {
    if (constructing && meta.properties.has(key)) values[key] = (props as any)[key]
    else (obj as any)[key] = (props as any)[key]
  }
}
