/**
 * Relation states with unsaved changes, held weakly: when an object is removed, links to it that
 * are not saved yet are dropped from every live owner, not only from stored ones.
 */
export interface PendingLinks {
  readonly owner: object
  dropTarget(collection: string, oid: string): void
  hasChanges(): boolean
}

const tracked = new Set<WeakRef<PendingLinks>>()
const byRef = new WeakMap<PendingLinks, WeakRef<PendingLinks>>()

export function trackPending(links: PendingLinks): void {
  if (byRef.has(links)) return
  const ref = new WeakRef(links)
  byRef.set(links, ref)
  tracked.add(ref)
}

export function untrackPending(links: PendingLinks): void {
  const ref = byRef.get(links)
  if (ref === undefined) return
  byRef.delete(links)
  tracked.delete(ref)
}

/** Tracks the relation state while it has unsaved changes, and only then (after they were put back). */
export function syncPending(links: PendingLinks): void {
  if (links.hasChanges()) trackPending(links)
  else untrackPending(links)
}

/** Drops links to removed objects from every live relation with unsaved changes. */
export function dropPendingTargets(removed: Array<[collection: string, oid: string]>, owns: (owner: object) => boolean): void {
  if (removed.length === 0) return
  for (const ref of tracked) {
    const links = ref.deref()
    if (links === undefined) {
      tracked.delete(ref)
      continue
    }
    if (!owns(links.owner)) continue
    for (const [collection, oid] of removed) links.dropTarget(collection, oid)
    if (!links.hasChanges()) untrackPending(links)
  }
}
