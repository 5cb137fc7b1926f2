import { describeValue } from '../engine/engine.js'
import { RelationError } from '../errors.js'
import type { RelationMeta } from '../model/meta.js'
import { STATE } from '../model/object-state.js'
import type { StoredObject } from '../model/stored-object.js'
import type { Database } from '../model/database.js'
import { registeredTarget, relationLabel } from './relation-target.js'

/**
 * Checks that `value` can be linked by `owner.relation`: an instance of the target model, not
 * removed, and of the owner's database. Throws RelationError (nothing is changed) otherwise.
 */
export function checkLinkable(owner: StoredObject, relation: RelationMeta, value: unknown, call: string): StoredObject {
  const ownerMeta = owner[STATE].meta
  const label = `${relationLabel(ownerMeta, relation)}.${call}()`
  const state = value !== null && typeof value === 'object' ? (value as Partial<StoredObject>)[STATE] : undefined
  const db = ownerMeta.db as Database | undefined
  if (state !== undefined && db !== undefined && state.meta.db !== undefined && state.meta.db !== db) {
    throw new RelationError(`${label}: ${state.meta.ctor.name} ${state.oid} belongs to another open database; relations link objects of one database`)
  }
  const target = registeredTarget(ownerMeta, relation)
  if (state === undefined) {
    throw new RelationError(`${label}: expected a ${target.ctor.name} object, got ${describeValue(value)}`)
  }
  const obj = value as StoredObject
  if (state.meta !== target) {
    throw new RelationError(`${label}: links ${target.ctor.name} objects, got ${state.meta.ctor.name} ${state.oid}`)
  }
  if (state.removed) throw new RelationError(`${label}: ${target.ctor.name} ${state.oid} is removed and cannot be linked`)
  if (db !== undefined && state.record !== undefined && db.identity.get(target.collection, state.oid) !== obj) {
    throw new RelationError(
      `${label}: ${target.ctor.name} ${state.oid} is an instance from another database (or one that was closed); link the instance this database returns (await ${target.ctor.name}.get('${state.oid}'))`,
    )
  }
  return obj
}

/** Refuses changes to the relations of a removed owner. */
export function checkOwnerLive(owner: StoredObject, relation: RelationMeta, call: string): void {
  const state = owner[STATE]
  if (state.removed) throw new RelationError(`${relationLabel(state.meta, relation)}.${call}(): ${state.meta.ctor.name} ${state.oid} is removed`)
}
