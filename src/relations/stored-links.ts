import type { ObjectRecord } from '../model/object-state.js'

/** A stored link: the target's collection and oid. */
export type Ref = [collection: string, oid: string]

/**
 * What the owner's record keeps of a Many relation: its size, the next position, and while the
 * relation holds at most `INLINE_MAX` links, their oids in link order (so `has()` is synchronous
 * without reading entries). The links themselves are entries (see layout.ts).
 */
export interface ManyInfo {
  n: number
  next: number
  o?: string[]
}

/** Per relation name: a One link (Ref) or a Many summary. Stored as `record.links`. */
export type LinksRecord = Record<string, Ref | ManyInfo>

/** Largest Many relation whose oids the owner's record keeps. */
export const INLINE_MAX = 1000

export const EMPTY_MANY: Readonly<ManyInfo> = Object.freeze({ n: 0, next: 0, o: Object.freeze([]) as unknown as string[] })

export function isRef(v: unknown): v is Ref {
  return Array.isArray(v) && v.length === 2 && typeof v[0] === 'string' && typeof v[1] === 'string'
}

/** Summaries already checked (they are read on every has() and size). */
const checked = new WeakSet<object>()

export function isManyInfo(v: unknown): v is ManyInfo {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false
  if (checked.has(v)) return true
  const i = v as ManyInfo
  const ok = (
    Number.isSafeInteger(i.n) &&
    i.n >= 0 &&
    Number.isSafeInteger(i.next) &&
    i.next >= 0 &&
    (i.o === undefined || (Array.isArray(i.o) && i.o.length === i.n && i.o.every((x) => typeof x === 'string')))
  )
  if (ok) checked.add(v)
  return ok
}

export function linksOfRecord(record: ObjectRecord | undefined): LinksRecord | undefined {
  const links = record?.links
  return links !== null && typeof links === 'object' && !Array.isArray(links) ? (links as LinksRecord) : undefined
}

export function oneRef(record: ObjectRecord | undefined, relation: string): Ref | undefined {
  const links = linksOfRecord(record)
  const v = links !== undefined && Object.hasOwn(links, relation) ? links[relation] : undefined
  return isRef(v) ? v : undefined
}

/** The Many summary of a relation; an owner never stored, or without links, has the empty one. */
export function manyInfo(record: ObjectRecord | undefined, relation: string): ManyInfo {
  const links = linksOfRecord(record)
  const v = links !== undefined && Object.hasOwn(links, relation) ? links[relation] : undefined
  return isManyInfo(v) ? v : EMPTY_MANY
}

export function sameRef(a: Ref | undefined, b: Ref | undefined): boolean {
  return a === b || (a !== undefined && b !== undefined && a[0] === b[0] && a[1] === b[1])
}
