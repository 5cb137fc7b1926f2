import { checkName } from '../engine/engine.js'
import { ModelDefinitionError } from '../errors.js'
import { declarationsOf, metaOf, setMeta, type IndexFn, type IndexMeta, type ModelMeta, type PropertyMeta, type RelationMeta } from './meta.js'
import { modelHooks } from './model-hooks.js'
import { stateOf } from './object-state.js'
import { assignProps, MODEL_KIND, StoredObject } from './stored-object.js'

export interface ModelOptions {
  /** Collection name; defaults to the class name. */
  collection?: string
  /** Computed indexes: name -> `(obj) => keys`. */
  indexes?: Record<string, IndexFn>
}

/**
 * Builds the metadata of a model class and returns the class that replaces it: a subclass whose
 * constructor moves class fields (which, under `useDefineForClassFields`, become own properties that
 * would shadow Stowage's accessors) into the object's state, then applies constructor props.
 */
export function defineModel<C extends Function>(ctor: C, options: ModelOptions): C {
  if (typeof ctor !== 'function' || !(ctor.prototype instanceof StoredObject)) {
    throw new ModelDefinitionError(`@Model() applies to classes extending StoredObject or StoredRaw; ${ctor?.name ?? ctor} does not`)
  }
  if (options === null || typeof options !== 'object') throw new ModelDefinitionError(`@Model(${ctor.name}) options must be an object`)
  const collection = options.collection ?? ctor.name
  try {
    checkName('collection', collection)
  } catch (err) {
    throw new ModelDefinitionError(`@Model(${ctor.name}): ${(err as Error).message}`)
  }
  const meta = buildMeta(ctor, collection, options)

  const Wrapped = class extends (ctor as unknown as typeof StoredObject) {
    constructor(...args: any[]) {
      super(...args)
      adoptOwnFields(this, meta)
      if (new.target === Wrapped) finishConstruction(this, args[0])
    }
  }
  Object.defineProperty(Wrapped, 'name', { value: ctor.name })
  meta.ctor = Wrapped
  setMeta(Wrapped, meta)
  return Wrapped as unknown as C
}

function buildMeta(ctor: Function, collection: string, options: ModelOptions): ModelMeta {
  // Classes between this one and the nearest @Model ancestor (or StoredObject) contribute their declarations.
  const chain: Function[] = []
  let base: ModelMeta | undefined
  for (let c: Function | null = ctor; c && c !== StoredObject; c = Object.getPrototypeOf(c)) {
    if (c !== ctor && metaOf(c)) {
      base = metaOf(c)
      break
    }
    chain.unshift(c)
  }
  const properties = new Map<string, PropertyMeta>(base?.properties)
  const relations = new Map<string, RelationMeta>(base?.relations)
  const indexes = new Map<string, IndexMeta>(base?.indexes)
  let ownLevel = new Set<string>()
  for (const c of chain) {
    const declaredHere = new Set<string>()
    if (c === ctor) ownLevel = declaredHere
    const decl = declarationsOf(c)
    for (const [name, p] of decl.properties) {
      if (relations.has(name)) throw new ModelDefinitionError(`${ctor.name}.${name} is a @Property here but a @Relation in a base class`)
      properties.set(name, p)
    }
    for (const [name, r] of decl.relations) {
      if (properties.has(name)) throw new ModelDefinitionError(`${ctor.name}.${name} is a @Relation here but a @Property in a base class`)
      relations.set(name, r)
    }
    for (const index of decl.indexes) {
      if (!index.property || (!properties.has(index.property) && !relations.has(index.property))) {
        throw new ModelDefinitionError(`${ctor.name}.${index.property}: @Index needs @Property (or @Relation) on the same member`)
      }
      addIndex(c, indexes, index, declaredHere)
    }
  }
  if (options.indexes !== undefined) {
    if (options.indexes === null || typeof options.indexes !== 'object') {
      throw new ModelDefinitionError(`@Model(${ctor.name}) option indexes must be an object of name -> function`)
    }
    for (const [name, fn] of Object.entries(options.indexes)) {
      if (typeof fn !== 'function') throw new ModelDefinitionError(`@Model(${ctor.name}) computed index "${name}" must be a function, got ${typeof fn}`)
      addIndex(ctor, indexes, { name, fn, unique: false }, ownLevel)
    }
  }
  const kind = (ctor as unknown as { [MODEL_KIND]: 'object' | 'raw' })[MODEL_KIND]
  refuseFrameworkNames(ctor, [...properties.keys(), ...relations.keys()])
  return { ctor, collection, kind, properties, propertyList: [...properties.values()], indexes, relations }
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

