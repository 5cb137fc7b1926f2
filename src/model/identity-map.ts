import { LRUCache } from 'lru-cache'
import type { StoredObject } from './stored-object.js'

/** One collection's instances by oid, and the registry that forgets collected ones. */
interface Refs {
  byOid: Map<string, WeakRef<StoredObject>>
  registry: FinalizationRegistry<string>
}

function newRefs(): Refs {
  const byOid = new Map<string, WeakRef<StoredObject>>()
  const registry = new FinalizationRegistry<string>((oid) => {
    const ref = byOid.get(oid)
    if (ref !== undefined && ref.deref() === undefined) byOid.delete(oid)
  })
  return { byOid, registry }
}

/**
 * One live instance per stored object. Instances are held weakly (so memory follows what the app
 * uses), the `max` most recently used ones strongly (an LRU), and instances with unsaved changes
 * strongly until they are saved or removed, so garbage collection never loses an edit.
 */
export class IdentityMap {
  /** collection -> oid -> instance. */
  readonly #collections = new Map<string, Refs>()
  readonly #recent: LRUCache<StoredObject, true> | undefined
  readonly #pinned = new Set<StoredObject>()

  constructor(max: number) {
    this.#recent = max > 0 ? new LRUCache({ max }) : undefined
  }

  /** The live instance of (collection, oid), marking it recently used. */
  get(collection: string, oid: string): StoredObject | undefined {
    const obj = this.#collections.get(collection)?.byOid.get(oid)?.deref()
    if (obj !== undefined && this.#recent !== undefined && this.#recent.get(obj) === undefined) this.#recent.set(obj, true)
    return obj
  }

  /** Registers a live instance; `recent` also puts it in the LRU (bulk scans pass false). */
  add(collection: string, oid: string, obj: StoredObject, recent = true): void {
    let refs = this.#collections.get(collection)
    if (refs === undefined) this.#collections.set(collection, (refs = newRefs()))
    if (refs.byOid.get(oid)?.deref() !== obj) {
      refs.byOid.set(oid, new WeakRef(obj))
      // No unregister token (it costs ~0.2 µs per object): a late callback checks the entry is dead.
      refs.registry.register(obj, oid)
    }
    if (recent) this.#recent?.set(obj, true)
  }

  delete(collection: string, oid: string): void {
    const refs = this.#collections.get(collection)
    const obj = refs?.byOid.get(oid)?.deref()
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
