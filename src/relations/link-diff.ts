import type { StoredObject } from '../model/stored-object.js'
import type { Ref } from './stored-links.js'

/**
 * Unsaved changes to a Many relation, relative to the links below them: `cleared` drops every link
 * below, `removes` holds oids of links below that go, `adds` the oids appended (with the object when
 * there is one; import links by oid only). Removes apply before adds: an oid in both leaves its place for the end.
 */
export interface ManyDiff {
  cleared: boolean
  adds: Map<string, StoredObject | undefined>
  removes: Set<string>
  /** Added oids that were not known to be absent below (large relations not loaded): checked when written. */
  unsure: Set<string>
  /** Update time to record (import), instead of the time of the save. */
  time?: number
}

/** An unsaved change of a One relation: the new link (undefined: none). */
export interface OneDiff {
  ref: Ref | undefined
  obj?: StoredObject
  time?: number
}

export function emptyDiff(): ManyDiff {
  return { cleared: false, adds: new Map(), removes: new Set(), unsure: new Set() }
}

/** A diff that drops every stored link, then adds these (none by default). */
export function clearedDiff(adds = new Map<string, StoredObject | undefined>(), time?: number): ManyDiff {
  return { cleared: true, adds, removes: new Set(), unsure: new Set(), time }
}

/** A copy that later changes to `d` do not touch. */
export function copyDiff(d: ManyDiff): ManyDiff {
  return { cleared: d.cleared, adds: new Map(d.adds), removes: new Set(d.removes), unsure: new Set(d.unsure), time: d.time }
}

export function isEmptyDiff(d: ManyDiff): boolean {
  return !d.cleared && d.adds.size === 0 && d.removes.size === 0
}

/** One diff equal to applying `lower` then `upper`. */
export function composeDiffs(lower: ManyDiff, upper: ManyDiff): ManyDiff {
  if (upper.cleared) return upper
  const out: ManyDiff = {
    cleared: lower.cleared,
    adds: new Map(lower.adds),
    removes: new Set(lower.removes),
    unsure: new Set([...lower.unsure, ...upper.unsure]),
    time: upper.time ?? lower.time,
  }
  for (const oid of upper.removes) {
    if (out.adds.has(oid)) out.adds.delete(oid)
    else out.removes.add(oid)
  }
  for (const [oid, obj] of upper.adds) out.adds.set(oid, obj)
  return out
}
