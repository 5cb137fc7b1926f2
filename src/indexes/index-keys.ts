import { IndexError } from '../errors.js'
import type { IndexMeta, ModelMeta } from '../model/meta.js'
import { encodeKey, keyProblem } from './key-codec.js'
import { indexLabel } from './layout.js'

/**
 * The encoded keys `obj` has under `index`, distinct. A property index calls `fn(value, obj)`, a
 * computed one `fn(obj, obj)`. A function that throws or returns something that cannot be a key
 * gives an IndexError naming the model, the index and the object.
 */
export function indexKeysOf(meta: ModelMeta, index: IndexMeta, oid: string, obj: object): string[] {
  let result: unknown
  try {
    const value = index.property === undefined ? obj : propertyValue(meta, index.property, obj)
    result = index.fn(value, obj)
  } catch (err) {
    throw new IndexError(`Index ${indexLabel(meta, index.name)} failed for ${meta.ctor.name} ${oid}: the index function threw: ${(err as Error)?.message ?? String(err)}`, {
      cause: err,
    })
  }
  if (result === undefined || result === null) return []
  if (!Array.isArray(result)) return [encodeOne(meta, index, oid, result)]
  if (result.length === 1) return result[0] === undefined || result[0] === null ? [] : [encodeOne(meta, index, oid, result[0])]
  const keys = new Set<string>()
  for (const key of result) {
    if (key === undefined || key === null) continue
    keys.add(encodeOne(meta, index, oid, key))
  }
  return [...keys]
}

/** A to-one relation indexes as the oid it links to; a property as its value. */
function propertyValue(meta: ModelMeta, property: string, obj: object): unknown {
  const value = (obj as Record<string, unknown>)[property]
  if (!meta.relations.has(property) || value === null || typeof value !== 'object') return value
  return (value as { oid?: unknown }).oid
}

/** Index definitions the maintainer cannot keep, refused before the first write or query. */
export function checkIndexDefinitions(meta: ModelMeta): void {
  for (const index of meta.indexes.values()) {
    if (index.property !== undefined && meta.relations.get(index.property)?.many) {
      throw new IndexError(
        `Index ${indexLabel(meta, index.name)} is on a to-many relation, which cannot be indexed (its links are not all in memory); index a to-one relation or a property`,
      )
    }
  }
}

function encodeOne(meta: ModelMeta, index: IndexMeta, oid: string, key: unknown): string {
  try {
    return encodeKey(key as string)
  } catch (err) {
    const problem = keyProblem(key) ?? (err as Error).message
    throw new IndexError(`Index ${indexLabel(meta, index.name)} cannot index ${meta.ctor.name} ${oid}: ${problem}`, { cause: err })
  }
}
