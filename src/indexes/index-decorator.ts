import { ModelDefinitionError } from '../errors.js'
import { describeValue } from '../engine/engine.js'
import { decoratedTarget, legacyField, memberName, type FieldDecorator, type MemberTarget } from '../model/decorators.js'
import type { IndexFn, IndexMeta } from '../model/meta.js'
import { isStandardContext, queueDeclaration } from '../model/standard-decorators.js'
import { Indexing } from './indexing.js'

export interface IndexOptions {
  /** The index name; defaults to the property's name. */
  name?: string
  /** Refuse a save whose key another object holds (`ConstraintError`). */
  unique?: boolean
  /**
   * Identifies this definition instead of the function's source text, which a minifier rewrites
   * on every release: the entries are rebuilt when the version changes, not when the text does.
   * Give one in bundled or minified apps, and raise it whenever the function's keys change.
   */
  version?: number
}

/**
 * Indexes a property: `fn(value, obj)` gives the object's keys under this index (one key, an array of
 * keys, or `undefined`/`null` for none). `@Index({ unique: true })` is short for
 * `@Index(Indexing.value, { unique: true })`.
 *
 * @example
 * ```ts
 * @Property(Types.EMAIL) @Index(Indexing.normalize, { unique: true }) email!: string
 * await Account.index('email').one(Indexing.normalize(input))
 * ```
 */
export function Index(fn?: IndexFn | IndexOptions, options?: IndexOptions): FieldDecorator {
  if (fn !== undefined && typeof fn !== 'function' && options === undefined && isPlainObject(fn)) {
    options = fn as IndexOptions
    fn = undefined
  }
  const indexFn = (fn ?? Indexing.value) as IndexFn
  if (typeof indexFn !== 'function') {
    throw new ModelDefinitionError(`@Index() takes an index function (value, obj) => keys, got ${describeValue(fn)}`)
  }
  const opts: IndexOptions = options ?? {}
  if (!isPlainObject(options ?? {})) throw new ModelDefinitionError(`@Index() options must be an object { name?, unique?, version? }, got ${describeValue(options)}`)
  for (const key of Object.keys(opts)) {
    if (key !== 'name' && key !== 'unique' && key !== 'version') throw new ModelDefinitionError(`Unknown @Index() option ${JSON.stringify(key)}: the options are name, unique and version`)
  }
  if (opts.name !== undefined && (typeof opts.name !== 'string' || opts.name.length === 0)) {
    throw new ModelDefinitionError(`@Index() name must be a non-empty string, got ${describeValue(opts.name)}`)
  }
  if (opts.unique !== undefined && typeof opts.unique !== 'boolean') {
    throw new ModelDefinitionError(`@Index() unique must be a boolean, got ${describeValue(opts.unique)}`)
  }

  checkIndexVersion(opts.version, '@Index()')
  const declare = (at: MemberTarget, property: string) => {
    // @Model checks that the member is a @Property or @Relation and that index names are distinct.
    declareIndex(at, { name: opts.name ?? property, fn: indexFn, property, unique: !!opts.unique, ...(opts.version === undefined ? {} : { version: opts.version }) })
  }
  return ((target: object | undefined, key: unknown, descriptor?: unknown) => {
    if (isStandardContext(key)) {
      return queueDeclaration('@Index', key, (ctor, name) => declare(decoratedTarget(ctor, 'standard'), memberName(ctor, name, '@Index')))
    }
    const at = legacyField('@Index', target, key, descriptor)
    declare(at, at.name)
  }) as FieldDecorator
}

export function checkIndexVersion(version: unknown, what: string): void {
  if (version !== undefined && (typeof version !== 'number' || !Number.isInteger(version) || version < 1)) {
    throw new ModelDefinitionError(`${what}: version must be a positive integer, got ${describeValue(version)}`)
  }
}

export function declareIndex(at: MemberTarget, index: IndexMeta): void {
  at.decl.indexes.push(index)
  if (at.how !== 'options') at.decl.first[at.how] ??= index.property
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object') return false
  const proto = Object.getPrototypeOf(v)
  return proto === Object.prototype || proto === null
}
