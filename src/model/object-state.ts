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
}

export const STATE = Symbol('stowage.state')

/** Whether the instance shows something its record does not hold: an assignment since its last save, or a change a running transaction owns. */
export function hasUnsavedChanges(state: ObjectState): boolean {
  return state.version !== state.savedVersion || state.owners !== undefined
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
 * instances never need it.
 */
class InstanceState implements ObjectState {
  version = 0
  removed = false
  owners: Map<string, object> | undefined = undefined
  db: object | undefined = undefined
  newer: StoredObject | undefined = undefined
  older: StoredObject | undefined = undefined
  #extra: Record<string, unknown> | undefined = undefined

  constructor(
    readonly meta: ModelMeta,
    readonly oid: string,
    public values: Record<string, unknown>,
    public record: ObjectRecord | undefined,
    public updates: Record<string, number>,
    public changedAt: number,
    public savedVersion: number,
  ) {}

  get extra(): Record<string, unknown> {
    return (this.#extra ??= {})
  }
}
