import type { Change } from '../model/change.js'
import type { ObjectRecord } from '../model/object-state.js'
import { linksOfRecord } from '../relations/stored-links.js'

/** One object a committed write created, changed or removed. */
export interface ObjectChange {
  /** The model's class name, and its collection. */
  model: string
  collection: string
  oid: string
  kind: 'created' | 'updated' | 'removed'
  /** The properties whose value changed (for a new object, those it has; for a removed one, none). */
  properties: string[]
  /** The relations whose links changed (likewise). */
  relations: string[]
}

/** What one committed write (a save, a remove, a transaction) did, in commit order. */
export interface ChangeEvent {
  /** Numbers the database's committed writes from 1, in commit order (events a subscriber skips leave gaps). */
  seq: number
  changes: ObjectChange[]
}

/** The change a committed write made to one object, from its records before and after. */
export function objectChange(c: Change): ObjectChange {
  const { meta, oid } = c
  if (c.removed) return { model: meta.ctor.name, collection: meta.collection, oid, kind: 'removed', properties: [], relations: [] }
  const record = c.record!
  const before = c.created ? undefined : c.previous
  const properties = changedProperties(before, record).filter((name) => !meta.relations.has(name))
  return { model: meta.ctor.name, collection: meta.collection, oid, kind: before === undefined ? 'created' : 'updated', properties, relations: changedRelations(before, record) }
}

function changedProperties(before: ObjectRecord | undefined, after: ObjectRecord): string[] {
  const names: string[] = []
  // A save moves a property's update time exactly when its value changed.
  for (const name of Object.keys(after.updates)) if (before?.updates[name] !== after.updates[name]) names.push(name)
  if (before !== undefined) for (const name of Object.keys(before.updates)) if (!Object.hasOwn(after.updates, name)) names.push(name)
  return names
}

function changedRelations(before: ObjectRecord | undefined, after: ObjectRecord): string[] {
  const a = linksOfRecord(before) ?? {}
  const b = linksOfRecord(after) ?? {}
  const names: string[] = []
  for (const name of new Set([...Object.keys(a), ...Object.keys(b)])) if (JSON.stringify(a[name]) !== JSON.stringify(b[name])) names.push(name)
  return names
}
