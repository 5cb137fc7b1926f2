import type { ModelMeta } from './meta.js'
import type { StoredObject } from './stored-object.js'

/** How an object is stored: one record per object. Features may add fields (e.g. `links`). */
export interface ObjectRecord {
  /** Stored form of each property that has a value. */
  properties: Record<string, unknown>
  /** ms epoch of the last change of each property. */
  updates: Record<string, number>
  /** ms epoch of the object's last change. */
  changed: number
  [feature: string]: unknown
}

/**
 * What Stowage keeps for each model instance, under a symbol so it never collides with user fields.
 * Property values live here, not as own properties, so class fields cannot shadow the accessors.
 */
export interface ObjectState {
  oid: string
  meta: ModelMeta
  /** Current property values, as the app sees them. */
  values: Record<string, unknown>
  /** The record as of the last save or load; undefined while never stored. */
  record: ObjectRecord | undefined
  /** ms epoch of the last change of each property. */
  updates: Record<string, number>
  /** ms epoch of the object's last change. */
  changedAt: number
  /** Increases on every property assignment; a save records the version it wrote. */
  version: number
  /** Version written by the last save (or load). */
  savedVersion: number
  removed: boolean
  /** Per-feature state attached by relations, raw data... */
  readonly extra: Record<string, unknown>
  /**
   * Members (properties, relations, raw metadata or data) changed inside a running transaction, with
   * the transaction they belong to until it ends; undefined while there are none.
   */
  owners: Map<string, object> | undefined
  /** The database that loaded or stored this instance: an instance of a closed one cannot write. */
  db: object | undefined
  /** The next more and less recently used instances, while the identity map's LRU holds this one (recent-list.ts). */
  newer: StoredObject | undefined
  older: StoredObject | undefined
  /** Whether `extra` was ever used: a feature (relations, raw data...) keeps state of its own for this instance. */
  readonly hasExtra: boolean
  /**
   * Lets go of the values, record and update times of an instance that shows what is stored: the
   * next use of any of them reads them again with `reload` (see IdentityMap for why).
   */
  dehydrate(reload: Reload): void
  /** Whether the values were let go and not read again yet. */
  readonly dehydrated: boolean
}

/** What a dehydrated instance reads back: its stored record and the values made from it; undefined if the object is no longer stored. */
export type Reload = (state: ObjectState) => { values: Record<string, unknown>; record: ObjectRecord } | undefined

export const STATE = Symbol('stowage.state')

/** Whether the instance shows something its record does not hold: an assignment since its last save, or a change a running transaction owns. */
export function hasUnsavedChanges(state: ObjectState): boolean {
  return state.version !== state.savedVersion || state.owners !== undefined
}

/** Whether a loaded object is still stored: read (not undefined) and not removed since (a stream of results may be consumed slowly). */
export function stillStored(obj: StoredObject | undefined): obj is StoredObject {
  return obj !== undefined && !obj[STATE].removed
}

/** Whether the object's oid was chosen by the app (`ensure`, `import`), not generated: another write may have stored it first. */
export function hasChosenOid(state: ObjectState): boolean {
  return state.hasExtra && state.extra.chosenOid === true
}

export function stateOf(obj: object): ObjectState {
  return (obj as { [STATE]: ObjectState })[STATE]
}

/**
 * Plain objects (not null-prototype ones, which V8 keeps in slow dictionary mode) are safe for
 * values and update times: member names that Object.prototype has are refused at declaration.
 */
export function newState(meta: ModelMeta, oid: string): ObjectState {
  return new InstanceState(meta, oid, {}, undefined, {}, 0, -1)
}

/** The state of an instance read from its record (`values` and `updates` already built from it). */
export function storedState(meta: ModelMeta, oid: string, values: Record<string, unknown>, record: ObjectRecord): ObjectState {
  return new InstanceState(meta, oid, values, record, record.updates, record.changed, 0)
}

/**
 * One class, so that every state has the same shape; `extra` is made on first use, as most
 * instances never need it. The values, record and update times are accessors only so that a
 * dehydrated state reads them back on first use, whoever uses them.
 */
class InstanceState implements ObjectState {
  version = 0
  removed = false
  owners: Map<string, object> | undefined = undefined
  db: object | undefined = undefined
  newer: StoredObject | undefined = undefined
  older: StoredObject | undefined = undefined
  #extra: Record<string, unknown> | undefined = undefined
  #values: Record<string, unknown>
  #record: ObjectRecord | undefined
  #updates: Record<string, number>
  #reload: Reload | undefined = undefined

  constructor(
    readonly meta: ModelMeta,
    readonly oid: string,
    values: Record<string, unknown>,
    record: ObjectRecord | undefined,
    updates: Record<string, number>,
    public changedAt: number,
    public savedVersion: number,
  ) {
    this.#values = values
    this.#record = record
    this.#updates = updates
  }

  get values(): Record<string, unknown> {
    return this.#loaded().#values
  }

  set values(values: Record<string, unknown>) {
    this.#loaded().#values = values
  }

  get record(): ObjectRecord | undefined {
    return this.#loaded().#record
  }

  set record(record: ObjectRecord | undefined) {
    this.#loaded().#record = record
  }

  get updates(): Record<string, number> {
    return this.#loaded().#updates
  }

  set updates(updates: Record<string, number>) {
    this.#loaded().#updates = updates
  }

  get extra(): Record<string, unknown> {
    return (this.#extra ??= {})
  }

  get hasExtra(): boolean {
    return this.#extra !== undefined
  }

  get dehydrated(): boolean {
    return this.#reload !== undefined
  }

  dehydrate(reload: Reload): void {
    this.#reload = reload
    this.#values = NONE
    this.#record = undefined
    this.#updates = NONE as Record<string, number>
  }

  /** This state, its values read back first if they were let go. */
  #loaded(): this {
    if (this.#reload !== undefined) this.#rehydrate()
    return this
  }

  /** Reads back what `dehydrate` let go; an object no longer stored shows as removed, with no values. */
  #rehydrate(): void {
    const reload = this.#reload!
    this.#reload = undefined
    let read: ReturnType<Reload>
    try {
      read = reload(this)
    } catch (err) {
      this.#reload = reload // a failed read (a damaged record, a closed engine) can be tried again
      throw err
    }
    if (read === undefined) {
      this.#values = {}
      this.#updates = {}
      this.removed = true
      return
    }
    this.#values = read.values
    this.#record = read.record
    this.#updates = read.record.updates
    this.changedAt = read.record.changed
  }
}

/** What a dehydrated state shows until it is read back (never, as every use reads it back first). */
const NONE: Record<string, unknown> = Object.freeze({}) as Record<string, unknown>
