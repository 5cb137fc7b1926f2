import { indexKeysOf } from '../indexes/index-keys.js'
import { INDEX_SIGNATURE, Indexing } from '../indexes/indexing.js'
import type { Database } from '../model/database.js'
import type { IndexMeta, ModelMeta } from '../model/meta.js'
import { hasUnsavedChanges, STATE } from '../model/object-state.js'
import type { StoredObject } from '../model/stored-object.js'

/** Index functions whose keys depend on the property's value alone. */
const VALUE_FNS = new Set<unknown>([Indexing.value, Indexing.normalize, Indexing.noAccents, Indexing.keyword, Indexing.keywords])

/**
 * Whether an object's keys under `index` can be computed from its instance in memory rather than
 * read from its keys record: a property index whose function depends on the value alone. A computed
 * index may read other objects or the time, so its stored keys may differ from what it gives now.
 */
export function keysFollowValue(index: IndexMeta): boolean {
  if (index.property === undefined) return false
  return VALUE_FNS.has(index.fn) || String((index.fn as { [INDEX_SIGNATURE]?: string })[INDEX_SIGNATURE]).startsWith('Indexing.paths(')
}

/**
 * The instance in memory of (meta, oid) when it shows exactly what is stored: no unsaved assignment,
 * no change a running transaction owns, stored and not removed. Its index keys are then those its
 * keys record holds (queries see committed data); otherwise undefined, and the record is read.
 */
export function storedInstance(db: Database, meta: ModelMeta, oid: string): StoredObject | undefined {
  const obj = db.identity.peek(meta.collection, oid)
  if (obj === undefined) return undefined
  const state = obj[STATE]
  // A dehydrated instance would read its record back: its keys record is cheaper (and may be kept).
  return state.dehydrated || state.removed || state.record === undefined || hasUnsavedChanges(state) ? undefined : obj
}

/** The keys an instance `storedInstance` gave has under `index` (one `keysFollowValue` accepts), as its keys record holds them. */
export function instanceKeys(meta: ModelMeta, index: IndexMeta, obj: StoredObject): string[] | undefined {
  const keys = indexKeysOf(meta, index, obj[STATE].oid, obj)
  return keys.length === 0 ? undefined : keys
}
