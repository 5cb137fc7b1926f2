import type { Database } from '../model/database.js'
import { hasUnsavedChanges, STATE } from '../model/object-state.js'
import { applyRecord, changedProperties, checkRecord, revertProperties } from '../model/records.js'
import type { StoredObject } from '../model/stored-object.js'

/**
 * Brings a live instance up to the record another process stored (`undefined`: it removed the
 * object). An instance without unsaved changes takes the record whole. One with unsaved property
 * changes made outside a transaction keeps them and takes the stored value of every other property
 * (a per-property merge: its next save writes its own changes over the other process's record, and
 * keeps the rest of that record).
 */
export function rebase(db: Database, obj: StoredObject, stored: unknown): void {
  const state = obj[STATE]
  if (stored === undefined) {
    if (state.record === undefined) return // never stored: nothing to follow
    state.removed = true
    state.record = undefined
    db.identity.delete(state.meta.collection, state.oid)
    return
  }
  if (!hasUnsavedChanges(state)) {
    applyRecord(state, stored)
    for (const feature of db.features) feature.reverted?.(obj)
    return
  }
  // A running transaction's instance, or one with unsaved relation or raw data changes, stays as it
  // is: its next write is refused with ConflictError (it was built on an older record), and after
  // the transaction fails, or `revert()`, it takes the stored record.
  if (state.owners !== undefined || db.features.some((f) => f.hasChanges?.(obj))) return
  const keep = new Set(changedProperties(state)) // no member is owned by a transaction here (returned above)
  const fresh = checkRecord(state.meta, state.oid, stored)
  state.record = fresh
  state.updates = fresh.updates
  state.changedAt = fresh.changed
  state.removed = false
  revertProperties(state, keep)
}
