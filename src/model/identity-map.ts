import { LRUCache } from 'lru-cache'
import type { StoredObject } from './stored-object.js'

/**
 * One live instance per stored object. Instances are held weakly (so memory follows what the app
 * uses), the `max` most recently used ones strongly (an LRU), and instances with unsaved changes
 * strongly until they are saved or removed, so garbage collection never loses an edit.
 */
export class IdentityMap {
  readonly #refs = new Map<string, WeakRef<StoredObject>>()
  readonly #recent: LRUCache<string, StoredObject> | undefined
  readonly #pinned = new Set<StoredObject>()
  readonly #registry = new FinalizationRegistry<string>((key) => {
    const ref = this.#refs.get(key)
    if (ref !== undefined && ref.deref() === undefined) this.#refs.delete(key)
  })

  constructor(max: number) {
    this.#recent = max > 0 ? new LRUCache({ max }) : undefined
  }

  /** The live instance of (collection, oid), marking it recently used. */
  get(collection: string, oid: string): StoredObject | undefined {
    const key = collection + '/' + oid
    const obj = this.#refs.get(key)?.deref()
    if (obj !== undefined) this.#recent?.set(key, obj)
    return obj
  }

  /** Registers a live instance; `recent` also puts it in the LRU (bulk scans pass false). */
  add(collection: string, oid: string, obj: StoredObject, recent = true): void {
    const key = collection + '/' + oid
    const previous = this.#refs.get(key)?.deref()
    if (previous !== obj) {
      this.#refs.set(key, new WeakRef(obj))
      this.#registry.register(obj, key, obj)
    }
    if (recent) this.#recent?.set(key, obj)
  }

  delete(collection: string, oid: string): void {
    const key = collection + '/' + oid
    const obj = this.#refs.get(key)?.deref()
    if (obj !== undefined) {
      this.#registry.unregister(obj)
      this.#pinned.delete(obj)
    }
    this.#refs.delete(key)
    this.#recent?.delete(key)
  }

  pin(obj: StoredObject): void {
    this.#pinned.add(obj)
  }

  unpin(obj: StoredObject): void {
    this.#pinned.delete(obj)
  }

  isPinned(obj: StoredObject): boolean {
    return this.#pinned.has(obj)
  }

  /** Instances tracked (alive or not yet collected). */
  get size(): number {
    return this.#refs.size
  }

  get pinnedCount(): number {
    return this.#pinned.size
  }

  clear(): void {
    for (const ref of this.#refs.values()) {
      const obj = ref.deref()
      if (obj !== undefined) this.#registry.unregister(obj)
    }
    this.#refs.clear()
    this.#recent?.clear()
    this.#pinned.clear()
  }
}
