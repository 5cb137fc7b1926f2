import type { Engine, StagedRaw } from '../engine/engine.js'
import { ArgumentError } from '../errors.js'
import { stateOf, type ObjectState } from '../model/object-state.js'
import type { ByteSource } from './sources.js'

/** What a raw object's record holds besides its properties: `record.raw`. */
export interface RawRecord {
  /** The free-form metadata (declared properties live in `record.properties`). */
  meta: Record<string, unknown>
  size: number
  /** Hex SHA-256 of the data. */
  sha256: string
  /** The media type when known: from the `contentType` or `format` meta, or sniffed from the data. */
  contentType?: string
  /** The media type recognised from the data's first bytes, if any. */
  sniffed?: string
}

/** Data streamed into the engine's staging area, waiting for a write to commit it. */
export interface StagedData {
  staged: StagedRaw
  engine: Engine
  sniffed?: string
  /** Kept to stage again after a failed save, when it can be read twice (bytes in memory). */
  source: ByteSource
}

/** Per-instance raw state, kept in `ObjectState.extra.raw`. */
export interface RawState {
  /** The current free-form metadata (null prototype, so any key is just a key). */
  meta: Record<string, unknown>
  /** Data given with `setData()`, not streamed yet. */
  source?: ByteSource
  /** Why the data given with `setData()` is gone (a save streamed it, then failed). */
  consumed?: string
  staged?: StagedData
  /** Saves of one instance run one after another (each streams its data first). */
  lock: Promise<unknown>
}

/** The instance's raw state if anything made it yet (no metadata read or set, no data given). */
export function existingRawState(obj: object): RawState | undefined {
  const state = stateOf(obj)
  return state.hasExtra ? (state.extra.raw as RawState | undefined) : undefined
}

export function rawStateOf(obj: object): RawState {
  const state = stateOf(obj)
  let r = existingRawState(obj)
  if (r === undefined) {
    r = { meta: copyMeta(storedRawOf(state)?.meta), lock: Promise.resolve() }
    state.extra.raw = r
  }
  return r
}

/** The committed raw record of an object, if it is stored with data. */
export function storedRawOf(state: ObjectState): RawRecord | undefined {
  if (state.removed) return undefined
  return checkRawRecord(state.record?.raw)
}

export function checkRawRecord(raw: unknown): RawRecord | undefined {
  if (raw === null || typeof raw !== 'object') return undefined
  const r = raw as RawRecord
  return typeof r.size === 'number' && typeof r.sha256 === 'string' ? r : undefined
}

/** A null-prototype copy of a metadata dictionary (top level). */
export function copyMeta(meta: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = Object.create(null)
  if (meta !== null && typeof meta === 'object') {
    for (const key of Object.keys(meta)) {
      const value = (meta as Record<string, unknown>)[key]
      if (value !== undefined) out[key] = value
    }
  }
  return out
}

/** A plain-object copy (prototype Object.prototype) that keeps keys like `__proto__` as own keys. */
export function plainMeta(meta: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const key of Object.keys(meta)) {
    Object.defineProperty(out, key, { value: meta[key], enumerable: true, writable: true, configurable: true })
  }
  return out
}

/** `<Model> <oid>`, for messages. */
export function describe(state: ObjectState): string {
  return `${state.meta.ctor.name} ${state.oid}`
}

export function noData(state: ObjectState): ArgumentError {
  return new ArgumentError(`${describe(state)} has no data: give it with setData(source) (or ${state.meta.ctor.name}.create(source, meta)) before saving`)
}
