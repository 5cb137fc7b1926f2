import { CorruptionError, ValidationError, type PropertyError } from '../errors.js'
import type { ModelMeta } from './meta.js'
import { STATE, storedState, type ObjectRecord, type ObjectState } from './object-state.js'
import type { StoredObject } from './stored-object.js'

/** Throws `ValidationError` listing every invalid property of the object. */
export function validateState(state: ObjectState, values = state.values): void {
  let errors: PropertyError[] | undefined
  const list = state.meta.propertyList
  for (let i = 0; i < list.length; i++) {
    const p = list[i]!
    const value = values[p.name]
    if (value === undefined) {
      if (p.required) (errors ??= []).push({ property: p.name, value, reason: 'is required' })
      continue
    }
    let reason: string | undefined
    try {
      reason = p.type.validate(value)
    } catch (err) {
      reason = `cannot be checked as ${p.type.name}: ${(err as Error).message}`
    }
    if (reason !== undefined) (errors ??= []).push({ property: p.name, value, reason })
  }
  if (errors !== undefined) throw new ValidationError(state.meta.ctor.name, state.oid, errors)
}

export interface BuiltRecord {
  record: ObjectRecord
  /** Whether any property differs from the stored record (always true for a new object). */
  changed: boolean
}

/**
 * The record a save writes: stored forms of the current values, and update times that move only for
 * properties whose value really changed (`times` can give those times, as `import` does).
 * Properties stored earlier but no longer declared are kept, so removing a member from the code
 * never silently deletes data.
 */
export function buildRecord(state: ObjectState, now: number, times?: Record<string, number>, values = state.values): BuiltRecord {
  const previous = state.record
  if (previous === undefined && times === undefined) return { record: newRecord(state, now, values), changed: true }
  const properties: Record<string, unknown> = {}
  const updates: Record<string, number> = {}
  if (previous !== undefined) {
    for (const key of Object.keys(previous.properties)) {
      if (key !== '__proto__' && !state.meta.properties.has(key)) properties[key] = previous.properties[key]
    }
    for (const key of Object.keys(previous.updates)) {
      if (key !== '__proto__') updates[key] = previous.updates[key]!
    }
  }
  let changed = previous === undefined
  let latest = 0
  for (const p of state.meta.propertyList) {
    const name = p.name
    const value = values[name]
    const before = previous?.properties[name]
    let differs: boolean
    if (value === undefined) {
      differs = before !== undefined
    } else {
      properties[name] = p.type.toStored(value)
      differs = before === undefined || !p.type.equals(value, fromStored(p.type, before))
    }
    if (differs) {
      const time = times?.[name] ?? now
      if (value !== undefined || previous !== undefined) updates[name] = time
      if (time > latest) latest = time
      changed = true
    }
  }
  const changedAt = changed ? latest || now : previous!.changed
  return { record: Object.assign({}, previous, { properties, updates, changed: changedAt }), changed }
}

/** The record of a first save: every property with a value, all changed now. */
function newRecord(state: ObjectState, now: number, values: Record<string, unknown>): ObjectRecord {
  const properties: Record<string, unknown> = {}
  const updates: Record<string, number> = {}
  const list = state.meta.propertyList
  for (let i = 0; i < list.length; i++) {
    const p = list[i]!
    const value = values[p.name]
    if (value === undefined) continue
    properties[p.name] = p.type.toStored(value)
    updates[p.name] = now
  }
  return { properties, updates, changed: now }
}

/**
 * The values a write stores: the instance's, except properties in `foreign` (changed by a running
 * transaction other than the writer), which keep their stored value.
 */
export function writeValues(state: ObjectState, foreign: Set<string> | undefined): Record<string, unknown> {
  if (foreign === undefined) return state.values
  const values = { ...state.values }
  for (const p of state.meta.propertyList) {
    if (!foreign.has(p.name)) continue
    values[p.name] = storedValue(p.type, state.record?.properties[p.name])
  }
  return values
}

/** Puts the properties that differ from the stored record back as stored, except those in `keep`. */
export function revertProperties(state: ObjectState, keep: Set<string> | undefined): void {
  const record = state.record
  if (record === undefined) return
  for (const p of state.meta.propertyList) {
    if (keep?.has(p.name)) continue
    const stored = storedValue(p.type, record.properties[p.name])
    if (!sameValue(p.type, state.values[p.name], stored)) state.values[p.name] = stored
  }
}

/** The names of the properties whose value differs from the stored record's (every one with a value, if never stored). */
export function changedProperties(state: ObjectState): string[] {
  const properties = state.record?.properties
  return state.meta.propertyList.filter((p) => !sameValue(p.type, state.values[p.name], storedValue(p.type, properties?.[p.name]))).map((p) => p.name)
}

function sameValue(type: { equals(a: unknown, b: unknown): boolean }, value: unknown, stored: unknown): boolean {
  return value === undefined ? stored === undefined : stored !== undefined && type.equals(value, stored)
}

/**
 * An instance of a stored record, without running the constructor and without registering it in
 * the identity map (callers register it, or use it only to read it, e.g. for its index keys).
 */
export function recordInstance(meta: ModelMeta, oid: string, record: unknown): StoredObject {
  const r = checkRecord(meta, oid, record)
  const obj = Object.create(meta.ctor.prototype) as StoredObject
  obj[STATE] = storedState(meta, oid, storedValues(meta, r), r)
  return obj
}

/** A stored record, checked, with the values of its declared properties. */
export function readStored(meta: ModelMeta, oid: string, record: unknown): { values: Record<string, unknown>; record: ObjectRecord } {
  const r = checkRecord(meta, oid, record)
  return { values: storedValues(meta, r), record: r }
}

/** Reads a stored record back into an object's state. */
export function applyRecord(state: ObjectState, record: unknown): void {
  const r = checkRecord(state.meta, state.oid, record)
  state.values = storedValues(state.meta, r)
  state.updates = r.updates // never mutated in place: a save replaces it
  state.changedAt = r.changed
  state.record = r
  state.version = 0
  state.savedVersion = 0
  state.removed = false
}

/** The values of a record's declared properties. */
function storedValues(meta: ModelMeta, r: ObjectRecord): Record<string, unknown> {
  const values: Record<string, unknown> = {}
  const list = meta.propertyList
  for (let i = 0; i < list.length; i++) {
    const p = list[i]!
    const stored = r.properties[p.name]
    if (stored !== undefined) values[p.name] = fromStored(p.type, stored)
  }
  return values
}

export function checkRecord(meta: ModelMeta, oid: string, record: unknown): ObjectRecord {
  const r = record as ObjectRecord
  if (
    r === null ||
    typeof r !== 'object' ||
    typeof r.properties !== 'object' ||
    r.properties === null ||
    typeof r.updates !== 'object' ||
    r.updates === null ||
    typeof r.changed !== 'number'
  ) {
    throw new CorruptionError(`${meta.collection}/${oid}: the stored record is not a Stowage object record`)
  }
  return r
}

/** The value of a stored form, or undefined when there is none. */
function storedValue(type: { fromStored(v: unknown): unknown }, stored: unknown): unknown {
  return stored === undefined ? undefined : fromStored(type, stored)
}

/** A stored value whose type changed since it was written is kept as stored; validation will say so. */
export function fromStored(type: { fromStored(v: unknown): unknown }, stored: unknown): unknown {
  try {
    return type.fromStored(stored)
  } catch {
    return stored
  }
}
