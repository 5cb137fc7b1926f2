import { hasUnsavedChanges, STATE, type Reload } from './object-state.js'
import { RecentList } from './recent-list.js'
import type { StoredObject } from './stored-object.js'
import { deref, weakRef } from './weak-refs.js'

/** One collection's instances by oid: the instance itself while the LRU holds it, else a weak reference. */
type Refs = Map<string, StoredObject | WeakRef<StoredObject>>

/**
 * One live instance per stored object. Instances are held weakly (so memory follows what the app
 * uses), the `max` most recently used ones strongly (an LRU), and instances with unsaved changes
 * strongly until they are saved or removed, so garbage collection never loses an edit.
 *
 * An instance gets its weak reference only when the LRU lets it go. A `WeakRef` is the largest part
 * of a read's own cost: V8's scavenges keep the targets of weak references, so a young instance
 * given one is copied to the old generation with its values and record (about 2.5 µs per instance
 * read, `npm run bench -- reads`), where a full collection frees it.
 */
export class IdentityMap {
  /** collection -> oid -> instance. */
  readonly #collections = new Map<string, Refs>()
  /** The LRU: the `max` most recently used instances. */
  readonly #recent: RecentList | undefined
  readonly #pinned = new Set<StoredObject>()
  /**
   * Entries of collected instances are swept after full garbage collections, told by the collection
   * of a canary object (V8 clears weak references only then). A registration per instance would keep
   * a cell and the oid of every instance weakened since the last one, about 100 bytes each.
   */
  readonly #collected = new FinalizationRegistry<undefined>(() => this.#sweep())
  #armed = false
  /** Weak entries made since the last sweep. */
  #weakened = 0

  /** Reads a dehydrated instance's record again; undefined where the engine cannot read synchronously (nothing is dehydrated). */
  readonly #reload: Reload | undefined

  constructor(max: number, reload?: Reload) {
    this.#recent = max > 0 ? new RecentList(max, (obj) => this.#weaken(obj[STATE].meta.collection, obj)) : undefined
    this.#reload = reload
  }

  /** The live instance of (collection, oid), marking it recently used. */
  get(collection: string, oid: string): StoredObject | undefined {
    const entry = this.#collections.get(collection)?.get(oid)
    if (entry === undefined) return undefined
    const obj = entry instanceof WeakRef ? deref(entry) : entry
    if (obj !== undefined) this.#recent?.use(obj)
    return obj
  }

  /** The live instance of (collection, oid), leaving the LRU as it is (the app did not ask for it: a query checking a candidate). */
  peek(collection: string, oid: string): StoredObject | undefined {
    const entry = this.#collections.get(collection)?.get(oid)
    return entry instanceof WeakRef ? deref(entry) : entry
  }

  /**
   * Objects the app asked for by oid (`get()`, and the objects of index views and queries): how
   * many the LRU held, how many only a weak reference still reached, and how many were read from
   * the store (`db.stats()` gives them with the hit rate).
   */
  readonly reads = { lru: 0, weak: 0, store: 0 }

  /** `get()` for a read the app asked for, counted in `reads` (a miss is counted by the caller once it reads the store). */
  lookup(collection: string, oid: string): StoredObject | undefined {
    const entry = this.#collections.get(collection)?.get(oid)
    if (entry === undefined) return undefined
    const weak = entry instanceof WeakRef
    const obj = weak ? deref(entry) : entry
    if (obj === undefined) return undefined
    this.#recent?.use(obj)
    if (weak) this.reads.weak++
    else this.reads.lru++
    return obj
  }

  /** Registers a live instance; `recent` also puts it in the LRU (bulk scans pass false). */
  add(collection: string, oid: string, obj: StoredObject, recent = true): void {
    let refs = this.#collections.get(collection)
    if (refs === undefined) this.#collections.set(collection, (refs = new Map()))
    const entry = refs.get(oid)
    const current = entry instanceof WeakRef ? deref(entry) : entry
    if (recent && this.#recent !== undefined) {
      // Held strongly by the entry as long as by the LRU: its eviction weakens the entry.
      if (current !== obj) refs.set(oid, obj)
      this.#recent.use(obj)
    } else if (current !== obj) {
      this.#setWeak(refs, oid, obj)
    }
  }

  /**
   * The LRU let `obj` go: from now on its entry holds it weakly, and, if it shows what is stored and
   * no feature keeps state for it, it lets go of its values and record until they are used again.
   * The target of a weak reference survives V8's scavenges, so without that each instance the LRU
   * lets go would be copied to the old generation with everything it holds (about 1 KB for a
   * six-property object) while the app has long dropped it; dehydrated, only its shell is copied.
   * An instance the app still holds reads its record again (synchronously) on first use.
   */
  #weaken(collection: string, obj: StoredObject): void {
    const refs = this.#collections.get(collection)
    const state = obj[STATE]
    const oid = state.oid
    if (refs === undefined || refs.get(oid) !== obj) return
    if (this.#reload !== undefined && !state.dehydrated && !state.hasExtra && !state.removed && !hasUnsavedChanges(state) && state.record !== undefined && !this.#pinned.has(obj)) {
      state.dehydrate(this.#reload)
    }
    this.#setWeak(refs, oid, obj)
  }

  /** The oids of the live instances of stored objects, by collection (not counted as reads, the LRU left as it is). */
  storedOids(): Map<string, string[]> {
    const out = new Map<string, string[]>()
    for (const [collection, oid, obj] of this.#live()) {
      const state = obj[STATE]
      if (!state.dehydrated && state.record === undefined) continue
      const oids = out.get(collection)
      if (oids === undefined) out.set(collection, [oid])
      else oids.push(oid)
    }
    return out
  }

  /** Reads back every dehydrated live instance (before the engine closes: they could not read it afterwards). */
  rehydrateAll(): void {
    for (const [, , obj] of this.#live()) {
      const state = obj[STATE]
      if (!state.dehydrated) continue
      try {
        void state.values
      } catch {
        // A record that cannot be read now (damaged) stays dehydrated: using it throws the same error.
      }
    }
  }

  /** Every live instance, with its collection and oid. */
  *#live(): Generator<[collection: string, oid: string, obj: StoredObject]> {
    for (const [collection, refs] of this.#collections) {
      for (const [oid, entry] of refs) {
        const obj = entry instanceof WeakRef ? deref(entry) : entry
        if (obj !== undefined) yield [collection, oid, obj]
      }
    }
  }

  #setWeak(refs: Refs, oid: string, obj: StoredObject): void {
    refs.set(oid, weakRef(obj))
    this.#weakened++
    this.#arm()
  }

  #arm(): void {
    if (this.#armed) return
    this.#armed = true
    this.#collected.register({}, undefined)
  }

  /**
   * Drops the entries of collected instances. An instance weakened in the job during which the
   * collection ran outlives it (see weak-refs.ts), so sweeps go on while the last one had work.
   */
  #sweep(): void {
    this.#armed = false
    let removed = 0
    for (const refs of this.#collections.values()) {
      for (const [oid, entry] of refs) {
        if (!(entry instanceof WeakRef) || deref(entry) !== undefined) continue
        refs.delete(oid)
        removed++
      }
    }
    if (removed > 0 || this.#weakened > 0) this.#arm()
    this.#weakened = 0
  }

  delete(collection: string, oid: string): void {
    const refs = this.#collections.get(collection)
    const entry = refs?.get(oid)
    const obj = entry instanceof WeakRef ? deref(entry) : entry
    if (obj !== undefined) {
      this.#pinned.delete(obj)
      this.#recent?.delete(obj)
    }
    refs?.delete(oid)
  }

  pin(obj: StoredObject): void {
    this.#pinned.add(obj)
  }

  unpin(obj: StoredObject): void {
    this.#pinned.delete(obj)
  }

  /** Instances tracked (alive, or collected since the last sweep). */
  get size(): number {
    let n = 0
    for (const refs of this.#collections.values()) n += refs.size
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
