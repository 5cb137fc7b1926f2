import { LRUCache } from 'lru-cache'
import { STATE } from './object-state.js'
import type { StoredObject } from './stored-object.js'

/**
 * One collection's instances by oid: the instance itself while the LRU holds it, else a weak
 * reference, and the registry that forgets collected ones.
 */
interface Refs {
  byOid: Map<string, StoredObject | WeakRef<StoredObject>>
  registry: FinalizationRegistry<string>
}

function newRefs(): Refs {
  const byOid = new Map<string, StoredObject | WeakRef<StoredObject>>()
  const registry = new FinalizationRegistry<string>((oid) => {
    const ref = byOid.get(oid)
    if (ref instanceof WeakRef && ref.deref() === undefined) byOid.delete(oid)
  })
  return { byOid, registry }
}

/**
 * One live instance per stored object. Instances are held weakly (so memory follows what the app
 * uses), the `max` most recently used ones strongly (an LRU), and instances with unsaved changes
 * strongly until they are saved or removed, so garbage collection never loses an edit.
 *
 * An instance gets its weak reference only when the LRU lets it go: a `WeakRef` to a young object
 * costs about 0.6 µs (ten times one to an old object), the largest part of a read's own cost.
 */
export class IdentityMap {
  /** collection -> oid -> instance. */
  readonly #collections = new Map<string, Refs>()
  /** The recently used instances, each with its collection. */
  readonly #recent: LRUCache<StoredObject, string> | undefined
  readonly #pinned = new Set<StoredObject>()

  constructor(max: number) {
    this.#recent =
      max > 0
        ? new LRUCache<StoredObject, string>({
            max,
            dispose: (collection, obj, reason) => {
              if (reason === 'evict') this.#weaken(collection, obj)
            },
          })
        : undefined
  }

  /** The live instance of (collection, oid), marking it recently used. */
  get(collection: string, oid: string): StoredObject | undefined {
    const entry = this.#collections.get(collection)?.byOid.get(oid)
    if (entry === undefined) return undefined
    const obj = entry instanceof WeakRef ? entry.deref() : entry
    if (obj !== undefined && this.#recent !== undefined && this.#recent.get(obj) === undefined) this.#recent.set(obj, collection)
    return obj
  }

  /** Registers a live instance; `recent` also puts it in the LRU (bulk scans pass false). */
  add(collection: string, oid: string, obj: StoredObject, recent = true): void {
    let refs = this.#collections.get(collection)
    if (refs === undefined) this.#collections.set(collection, (refs = newRefs()))
    const entry = refs.byOid.get(oid)
    const current = entry instanceof WeakRef ? entry.deref() : entry
    if (recent && this.#recent !== undefined) {
      // Held strongly by the entry as long as by the LRU: its eviction weakens the entry.
      if (current !== obj) refs.byOid.set(oid, obj)
      this.#recent.set(obj, collection)
    } else if (current !== obj) {
      refs.byOid.set(oid, new WeakRef(obj))
      // No unregister token (it costs ~0.2 µs per object): a late callback checks the entry is dead.
      refs.registry.register(obj, oid)
    }
  }

  /** The LRU let `obj` go: from now on its entry holds it weakly. */
  #weaken(collection: string, obj: StoredObject): void {
    const refs = this.#collections.get(collection)
    const oid = obj[STATE].oid
    if (refs === undefined || refs.byOid.get(oid) !== obj) return
    refs.byOid.set(oid, new WeakRef(obj))
    refs.registry.register(obj, oid)
  }

  delete(collection: string, oid: string): void {
    const refs = this.#collections.get(collection)
    const entry = refs?.byOid.get(oid)
    const obj = entry instanceof WeakRef ? entry.deref() : entry
    if (obj !== undefined) {
      this.#pinned.delete(obj)
      this.#recent?.delete(obj)
    }
    refs?.byOid.delete(oid)
  }

  pin(obj: StoredObject): void {
    this.#pinned.add(obj)
  }

  unpin(obj: StoredObject): void {
    this.#pinned.delete(obj)
  }

  /** Instances tracked (alive, or collected but not yet finalized). */
  get size(): number {
    let n = 0
    for (const refs of this.#collections.values()) n += refs.byOid.size
    return n
  }

  get pinnedCount(): number {
    return this.#pinned.size
  }

  clear(): void {
    this.#collections.clear()
    this.#recent?.clear()
    this.#pinned.clear()
  }
}
