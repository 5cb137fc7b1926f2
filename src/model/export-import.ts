import { checkName } from '../engine/engine.js'
import { ArgumentError } from '../errors.js'
import type { ModelMeta } from './meta.js'
import { STATE } from './object-state.js'
import type { StoredObject } from './stored-object.js'

export interface ExportOptions {
  /** 0: `{ oid, type }`; 1 (default): adds properties, update times and relations as `{ oid, type }`; 2: expands related objects one level. */
  depth?: number
}

/** The plain data `export()` returns and `import()` takes. */
export interface Exported {
  oid: string
  type: string
  updates?: Record<string, number>
  [property: string]: unknown
}

/** Features (relations...) add their members to exports and read them back on import. */
export interface ExportExtension {
  export(db: unknown, obj: StoredObject, depth: number, out: Exported): void
  import(obj: StoredObject, exported: Exported, newer: (name: string) => boolean): void
}
export const exportExtensions: ExportExtension[] = []

export function exportObject(db: unknown, obj: StoredObject, options: ExportOptions = {}): Exported {
  if (options === null || typeof options !== 'object') throw new ArgumentError('export() takes { depth? }')
  const depth = options.depth ?? 1
  if (!Number.isInteger(depth) || depth < 0) throw new ArgumentError(`export(): depth must be a non-negative integer, got ${depth}`)
  const state = obj[STATE]
  const out: Exported = { oid: state.oid, type: state.meta.collection }
  if (depth === 0) return out
  out.updates = { ...state.updates }
  for (const [name, p] of state.meta.properties) {
    const value = state.values[name]
    if (value !== undefined) out[name] = p.type.fromStored(p.type.toStored(value))
  }
  for (const extension of exportExtensions) extension.export(db, obj, depth, out)
  return out
}

/**
 * Merges an export into an object field by field: a property is taken when the object is new, has
 * no update time for it, or the export's update time is newer. Only declared members are read, so
 * keys such as `__proto__` or `constructor` in the export touch nothing. Returns the update times
 * to record for the taken properties.
 */
export function importInto(
  meta: ModelMeta,
  existing: StoredObject | undefined,
  exported: Exported,
  create: (oid: string) => StoredObject,
): { obj: StoredObject; times: Record<string, number> } {
  if (exported === null || typeof exported !== 'object' || Array.isArray(exported)) {
    throw new ArgumentError(`${meta.ctor.name}.import() takes the object export() returns`)
  }
  const oid = exported.oid
  checkName('id', oid)
  if (exported.type !== undefined && exported.type !== meta.collection) {
    throw new ArgumentError(`${meta.ctor.name}.import(): this export is of type ${JSON.stringify(exported.type)}, not ${JSON.stringify(meta.collection)}`)
  }
  const incomingTimes = Object.hasOwn(exported, 'updates') && typeof exported.updates === 'object' && exported.updates !== null ? exported.updates : {}
  const incomingTime = (name: string): number | undefined => {
    const t = Object.hasOwn(incomingTimes, name) ? incomingTimes[name] : undefined
    return typeof t === 'number' && Number.isFinite(t) ? t : undefined
  }
  const obj = existing ?? create(oid)
  const local = existing?.[STATE].updates
  const newer = (name: string): boolean => {
    if (local === undefined || local[name] === undefined) return true
    const t = incomingTime(name)
    return t !== undefined && t > local[name]!
  }
  const times: Record<string, number> = {}
  for (const [name, p] of meta.properties) {
    if (!Object.hasOwn(exported, name) || !newer(name)) continue
    let value = exported[name]
    if (typeof value === 'string' && p.type.validate(value) !== undefined && !Number.isNaN(Date.parse(value)) && p.type.validate(new Date(value)) === undefined) {
      value = new Date(value) // a Date that went through JSON
    }
    ;(obj as any)[name] = value
    const t = incomingTime(name)
    if (t !== undefined) times[name] = t
  }
  for (const extension of exportExtensions) extension.import(obj, exported, newer)
  return { obj, times }
}
