import { checkName, describeValue } from '../engine/engine.js'
import { ModelDefinitionError } from '../errors.js'
import type { MemberTarget } from './decorators.js'
import {
  declarationsOf,
  emptyDeclarations,
  metaOf,
  setMeta,
  setModelClass,
  type Declarations,
  type DecoratorStandard,
  type IndexMeta,
  type ModelMeta,
  type PropertyMeta,
  type RelationMeta,
} from './meta.js'
import { declareOptions, type ModelOptions } from './model-options.js'
import { modelHooks } from './model-hooks.js'
import { UNVERSIONED, versioningOf } from '../migrations/versioning.js'
import { stateOf } from './object-state.js'
import { declareQueued, firstQueued, ownMetadata } from './standard-decorators.js'
import { assignProps, MODEL_KIND, StoredObject } from './stored-object.js'

export type { ModelOptions, PropertySpec, IndexSpec } from './model-options.js'

/**
 * Declares a model without decorator syntax, for plain JavaScript: the class (extending
 * `StoredObject` or `StoredRaw`) and its members, given as options. Returns the model class to use
 * in place of `ctor`, as `@Model` does. Members may also come from decorators on `ctor` or its base
 * classes; a base may be another model.
 *
 * @example
 * ```js
 * class Account extends StoredObject {}
 * const AccountModel = defineModel(Account, {
 *   collection: 'accounts',
 *   properties: { email: Types.EMAIL, name: { type: Types.STRING, required: true } },
 *   relations: { posts: () => [Post] },          // a Many<Post>; () => Post for a One<Post>
 *   indexes: {
 *     email: { property: 'email', fn: Indexing.normalize, unique: true },
 *     byName: (obj) => obj.name,                 // computed: (obj) => keys
 *   },
 * })
 * await AccountModel.create({ email: 'ann@example.com', name: 'Ann' })
 * ```
 */
export function defineModel<C extends Function>(ctor: C, options: ModelOptions = {}): C {
  return createModel(ctor, options, { label: 'defineModel' })
}

/** How a model is being declared. */
export interface ModelDeclaration {
  label: '@Model' | 'defineModel'
  /** The convention `@Model` was called with; none for `defineModel`. */
  decorators?: DecoratorStandard
  /** The class's decorator metadata (standard `@Model`: the class does not hold it yet). */
  metadata?: object
}

/**
 * Builds the metadata of a model class and returns the class that replaces it: a subclass whose
 * constructor moves class fields (which, under `useDefineForClassFields` and with standard
 * decorators, become own properties that would shadow Stowage's accessors) into the object's state,
 * then applies constructor props.
 */
export function createModel<C extends Function>(ctor: C, options: ModelOptions, how: ModelDeclaration): C {
  if (typeof ctor !== 'function' || !(ctor.prototype instanceof StoredObject)) {
    const name = typeof ctor === 'function' ? ctor.name || '(anonymous class)' : describeValue(ctor)
    throw new ModelDefinitionError(`${how.label}() applies to classes extending StoredObject or StoredRaw; ${name} does not (write class ${name} extends StoredObject)`)
  }
  const label = `${how.label}(${ctor.name})`
  let meta: ModelMeta
  const Wrapped = class extends (ctor as unknown as typeof StoredObject) {
    constructor(...args: any[]) {
      super(...args)
      adoptOwnFields(this, meta)
      if (new.target === Wrapped) finishConstruction(this, args[0])
    }
  }
  Object.defineProperty(Wrapped, 'name', { value: ctor.name })
  // Members given in options get their accessors on the returned class, leaving ctor as it was.
  const fromOptions: MemberTarget = { ctor, decl: emptyDeclarations(), proto: Wrapped.prototype, how: 'options' }
  declareOptions(fromOptions, options, label)
  const collection = options.collection ?? ctor.name
  try {
    checkName('collection', collection)
  } catch (err) {
    throw new ModelDefinitionError(`${label}: ${(err as Error).message}`)
  }
  meta = buildMeta(ctor, collection, fromOptions.decl, how)
  meta.versioning = versioningOf(options, label, collection)
  if (meta.versioning.formerly.length > 0 && meta.kind === 'raw') {
    throw new ModelDefinitionError(`${label}: formerly is for StoredObject models; a StoredRaw model's data stays under its collection`)
  }
  meta.ctor = Wrapped
  setMeta(Wrapped, meta)
  setModelClass(ctor, Wrapped)
  return Wrapped as unknown as C
}

function buildMeta(ctor: Function, collection: string, fromOptions: Declarations, how: ModelDeclaration): ModelMeta {
  // Classes between this one and the nearest model ancestor (or StoredObject) contribute their declarations.
  const chain: Function[] = []
  let base: ModelMeta | undefined
  for (let c: Function | null = ctor; c && c !== StoredObject; c = Object.getPrototypeOf(c)) {
    if (c !== ctor && metaOf(c)) {
      base = metaOf(c)
      break
    }
    chain.unshift(c)
  }
  const standards = new Standards(ctor)
  if (how.decorators) standards.note(how.decorators, `@Model on ${ctor.name}`)
  if (base?.decorators) standards.note(base.decorators, `its base model ${base.ctor.name}`)
  for (const c of chain) {
    const metadata = c === ctor && how.metadata ? how.metadata : ownMetadata(c)
    // Legacy @Model leaves standard declarations alone: they are only reported, as a mix.
    if (how.decorators === 'legacy') {
      const queued = firstQueued(metadata)
      if (queued !== undefined) standards.note('standard', `${c.name}.${queued}`)
    } else {
      declareQueued(c, metadata)
    }
    const { first } = declarationsOf(c)
    if (first.legacy !== undefined) standards.note('legacy', `${c.name}.${first.legacy}`)
    if (first.standard !== undefined) standards.note('standard', `${c.name}.${first.standard}`)
  }
  standards.check()
  refuseRedeclaration(ctor, declarationsOf(ctor), fromOptions)

  const properties = new Map<string, PropertyMeta>(base?.properties)
  const relations = new Map<string, RelationMeta>(base?.relations)
  const indexes = new Map<string, IndexMeta>(base?.indexes)
  const levels: [Function, Declarations][] = chain.map((c) => [c, declarationsOf(c)])
  levels.push([ctor, fromOptions])
  const ownLevel = new Set<string>()
  for (const [c, decl] of levels) {
    const inOptions = decl === fromOptions
    const declaredHere = c === ctor ? ownLevel : new Set<string>()
    for (const [name, p] of decl.properties) {
      if (relations.has(name)) throw new ModelDefinitionError(`${ctor.name}.${name} is a property here but a relation in a base class`)
      properties.set(name, p)
    }
    for (const [name, r] of decl.relations) {
      if (properties.has(name)) throw new ModelDefinitionError(`${ctor.name}.${name} is a relation here but a property in a base class`)
      relations.set(name, r)
    }
    for (const index of decl.indexes) {
      if (index.property !== undefined && !properties.has(index.property) && !relations.has(index.property)) {
        throw new ModelDefinitionError(
          inOptions
            ? `${how.label}(${ctor.name}) index "${index.name}": there is no property or relation ${JSON.stringify(index.property)} to index`
            : `${ctor.name}.${index.property}: @Index needs @Property (or @Relation) on the same member`,
        )
      }
      addIndex(ctor, indexes, index, declaredHere)
    }
  }
  const kind = (ctor as unknown as { [MODEL_KIND]: 'object' | 'raw' })[MODEL_KIND]
  refuseFrameworkNames(ctor, [...properties.keys(), ...relations.keys()])
  const decorators = standards.used()
  return { ctor, collection, kind, properties, propertyList: [...properties.values()], indexes, relations, versioning: UNVERSIONED, decorators }
}

/** The decorator standards a model's classes were declared with: one, or none. */
class Standards {
  readonly #seen: { [S in DecoratorStandard]?: string } = {}
  constructor(readonly ctor: Function) {}

  note(standard: DecoratorStandard, where: string): void {
    this.#seen[standard] ??= where
  }

  check(): void {
    const { legacy, standard } = this.#seen
    if (legacy === undefined || standard === undefined) return
    throw new ModelDefinitionError(
      `${this.ctor.name} mixes the two decorator standards: ${legacy} uses TypeScript's experimentalDecorators, ${standard} standard (TC39) decorators. ` +
        'Compile the model and its base classes with the same "experimentalDecorators" setting (a model applied by hand, without decorator syntax, is declared with defineModel)',
    )
  }

  used(): DecoratorStandard | undefined {
    return this.#seen.legacy !== undefined ? 'legacy' : this.#seen.standard !== undefined ? 'standard' : undefined
  }
}

/** A member is declared once per class: by a decorator or in the options, not both. */
function refuseRedeclaration(ctor: Function, decorated: Declarations, fromOptions: Declarations): void {
  for (const name of [...fromOptions.properties.keys(), ...fromOptions.relations.keys()]) {
    if (decorated.properties.has(name) || decorated.relations.has(name)) {
      throw new ModelDefinitionError(`${ctor.name}.${name} is declared both by a decorator and in the options; keep one`)
    }
  }
}

/** A member may not take the name of a method or accessor of StoredObject (or StoredRaw): `save`, `size`... */
function refuseFrameworkNames(ctor: Function, names: string[]): void {
  let base: Function = ctor
  while (!Object.hasOwn(base, MODEL_KIND)) base = Object.getPrototypeOf(base)
  for (const name of names) {
    if (name in base.prototype) {
      throw new ModelDefinitionError(`${ctor.name}.${name}: "${name}" is a member of ${base.name}; rename the property`)
    }
  }
}

/** A class may override an index of its base, but not declare two indexes with one name. */
function addIndex(ctor: Function, indexes: Map<string, IndexMeta>, index: IndexMeta, declaredHere: Set<string>): void {
  if (declaredHere.has(index.name)) {
    throw new ModelDefinitionError(`${ctor.name}: two indexes are named "${index.name}"; give one another name with @Index(fn, { name })`)
  }
  declaredHere.add(index.name)
  indexes.set(index.name, index)
}

/**
 * Moves own data properties that shadow managed members into the state, as initial values. They are
 * deleted last-added first, which V8 undoes cheaply; other orders would turn every instance into a
 * slow dictionary-mode object.
 */
function adoptOwnFields(obj: StoredObject, meta: ModelMeta): void {
  const keys = Object.keys(obj)
  if (keys.length === 0) return
  // Fields declared with `!` hold undefined: only initialized ones are remembered (usually none).
  let initial: [string, unknown][] | undefined
  for (let i = keys.length - 1; i >= 0; i--) {
    const key = keys[i]!
    const property = meta.properties.has(key)
    if (!property && !meta.relations.has(key)) continue
    const value = (obj as any)[key]
    if (value !== undefined && property) (initial ??= []).push([key, value])
    delete (obj as any)[key]
  }
  if (initial === undefined) return
  for (let i = initial.length - 1; i >= 0; i--) (obj as any)[initial[i]![0]] = initial[i]![1]
}

function finishConstruction(obj: StoredObject, props: unknown): void {
  const state = stateOf(obj)
  assignProps(obj, props, true)
  state.version = 0
  modelHooks.constructed(obj)
}

