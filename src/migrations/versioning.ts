import { ModelDefinitionError } from '../errors.js'
import { checkName, describeValue } from '../engine/engine.js'

/** What a migration step knows besides the object's properties. */
export interface MigrationContext {
  /** The model's class name. */
  model: string
  oid: string
  /** The version this step produces. */
  version: number
}

/**
 * One step of a model's migrations: the plain properties of a version n-1 object (relations as
 * `{ oid, type }` references, as `export()` gives them) to its version n properties. A property set
 * to `undefined` or left out is dropped; returning `undefined` removes the object.
 */
export type MigrationFn = (
  old: Record<string, any>,
  context: MigrationContext,
) => Record<string, unknown> | undefined | Promise<Record<string, unknown> | undefined>

/** The versioning part of a model's metadata. */
export interface Versioning {
  /** The version of the model's records this code writes (1 without `version`). */
  version: number
  /** Step n takes version n-1 to n, for every n in 2..version. */
  migrations: Map<number, MigrationFn>
  /** Collections the model had before: their objects move to its collection when it is registered. */
  formerly: string[]
}

export const UNVERSIONED: Versioning = Object.freeze({ version: 1, migrations: new Map(), formerly: [] }) as Versioning

/** Checks `version`, `migrations` and `formerly` of `@Model` options: a gap in the chain is refused here. */
export function versioningOf(options: { version?: unknown; migrations?: unknown; formerly?: unknown }, label: string, collection: string): Versioning {
  const { version = 1, migrations, formerly } = options
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 1) {
    throw new ModelDefinitionError(`${label}: version must be a positive integer, got ${describeValue(version)}`)
  }
  const steps = new Map<number, MigrationFn>()
  if (migrations !== undefined) {
    if (migrations === null || typeof migrations !== 'object' || Array.isArray(migrations)) {
      throw new ModelDefinitionError(`${label}: migrations must be an object { [version]: (old) => props }, got ${describeValue(migrations)}`)
    }
    for (const [key, fn] of Object.entries(migrations)) {
      const n = Number(key)
      if (!Number.isInteger(n) || String(n) !== key || n < 2 || n > version) {
        throw new ModelDefinitionError(`${label}: migrations has a step ${JSON.stringify(key)}, but steps are numbered 2 to version (${version}): step n takes version n-1 to n`)
      }
      if (typeof fn !== 'function') throw new ModelDefinitionError(`${label}: migration step ${n} must be a function (old) => props, got ${describeValue(fn)}`)
      steps.set(n, fn as MigrationFn)
    }
  }
  const missing: number[] = []
  for (let n = 2; n <= version; n++) if (!steps.has(n)) missing.push(n)
  if (missing.length > 0) {
    throw new ModelDefinitionError(
      `${label}: version ${version} needs a migration for every step from 2 to ${version}; missing ${missing.join(', ')} (a step may return its input unchanged: (old) => old)`,
    )
  }
  const names: string[] = []
  if (formerly !== undefined) {
    if (!Array.isArray(formerly)) throw new ModelDefinitionError(`${label}: formerly must be an array of former collection names, got ${describeValue(formerly)}`)
    for (const name of formerly) {
      try {
        checkName('collection', name)
      } catch (err) {
        throw new ModelDefinitionError(`${label}: formerly: ${(err as Error).message}`)
      }
      if (name === collection || names.includes(name)) throw new ModelDefinitionError(`${label}: formerly names ${JSON.stringify(name)} twice, or the model's own collection`)
      names.push(name)
    }
  }
  return { version, migrations: steps, formerly: names }
}
