import { encodeKey, keyProblem } from '../indexes/key-codec.js'
import type { ModelMeta } from '../model/meta.js'
import { compareKeys } from './key-order.js'

/**
 * The encoded keys of a property's value, as `Indexing.value` would index it: an array gives its
 * elements, a to-one relation the linked oid; values that cannot be keys give none. Sorted.
 */
export function valueKeys(meta: ModelMeta, name: string, obj: object): string[] {
  let value = (obj as Record<string, unknown>)[name]
  if (meta.relations.has(name)) value = value === null || typeof value !== 'object' ? undefined : (value as { oid?: unknown }).oid
  const out: string[] = []
  for (const v of Array.isArray(value) ? value : [value]) {
    if (v === undefined || v === null || keyProblem(v) !== undefined) continue
    try {
      out.push(encodeKey(v))
    } catch {
      // over the key size limit: not a key, as an index would refuse it
    }
  }
  return out.length > 1 ? [...new Set(out)].sort(compareKeys) : out
}

/** The key an object sorts by among `keys`: its lowest ascending, its highest descending. */
export function sortKeyOf(keys: readonly string[] | undefined, desc: boolean): string | undefined {
  if (keys === undefined || keys.length === 0) return undefined
  let best = keys[0]!
  for (let i = 1; i < keys.length; i++) {
    const c = compareKeys(keys[i]!, best)
    if (desc ? c > 0 : c < 0) best = keys[i]!
  }
  return best
}
