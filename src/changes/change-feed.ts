import type { WriteOp } from '../engine/engine.js'
import type { KeysRecord } from '../indexes/layout.js'
import type { Change } from '../model/change.js'
import type { Database, Feature } from '../model/database.js'
import type { ModelMeta } from '../model/meta.js'
import { maintainerOf } from '../indexes/index-maintainer.js'
import { RelationFeature } from '../relations/relation-feature.js'
import { objectChange, type ChangeEvent, type ObjectChange } from './change-event.js'

/** A committed change to one object, with the index keys it had before and has after (encoded, by index). */
export interface KeyedChange {
  meta: ModelMeta
  oid: string
  removed: boolean
  /** Undefined when the model has no indexes. */
  old?: KeysRecord
  next?: KeysRecord
}

/** A live query's subscription, as the feed sees it. */
export interface Watcher {
  meta: ModelMeta
  /**
   * (index, encoded key) pairs such that a change can only matter if the object had or has one of
   * them; undefined when the watcher must look at every change of its model.
   */
  hints: Array<[string, string]> | undefined
  /** Called with each change of its model that may matter, after the write committed. */
  changed(change: KeyedChange): void
  /** Called when the database closes. */
  ended?(): void
  /** Called before the database closes: finishes the work in flight or due for changes already delivered. */
  settle?(): Promise<void>
}

const feeds = new WeakMap<Database, ChangeFeed>()

export function feedOf(db: Database): ChangeFeed {
  return feeds.get(db)!
}

/** What a change stream listens to: the objects of a collection, or one object. */
export interface ChangeScope {
  collection: string
  oid?: string
}

/** The key of a stream's scope in ChangeFeed's counts: the collection, or `collection \0 oid`. */
function scopeKey(collection: string, oid: string | undefined): string {
  return oid === undefined ? collection : `${collection}\x00${oid}`
}

/** `deliver` of the changes of an event within `scope`, if there are any. */
function narrowed(deliver: (event: ChangeEvent) => void, { collection, oid }: ChangeScope): (event: ChangeEvent) => void {
  const within = (c: ObjectChange) => c.collection === collection && (oid === undefined || c.oid === oid)
  return (event) => {
    const changes = event.changes.filter(within)
    if (changes.length > 0) deliver({ seq: event.seq, changes })
  }
}

/**
 * After each committed write, hands its change event to the database's change streams (in commit
 * order, in a later microtask) and its changes, with their index keys, to the live queries they
 * may matter to. Costs a counter increment per write while nothing listens.
 */
export class ChangeFeed implements Feature {
  readonly db: Database
  #seq = 0
  readonly #listeners = new Set<(event: ChangeEvent) => void>()
  /** What ends each change stream and live query when the database closes. */
  readonly #enders = new Set<() => void>()
  readonly #settlers = new Set<() => Promise<void>>()
  #closed = false
  readonly #queue: ChangeEvent[] = []
  #delivering = false
  /** Per model: watchers by hint (`index \0 key`), and those without hints. */
  readonly #watchers = new Map<ModelMeta, { byKey: Map<string, Set<Watcher>>; all: Set<Watcher> }>()
  #watcherCount = 0
  /** How many change streams listen to each scope: the whole database (''), a collection, or an object (`collection \0 oid`). */
  readonly #scopes = new Map<string, number>()

  constructor(db: Database) {
    this.db = db
    feeds.set(db, this)
  }

  /** How many change streams and live queries are listening (none once each has stopped). */
  get listeners(): number {
    return this.#listeners.size + this.#watcherCount
  }

  /** Whether live queries are watching: the index maintainer keeps each write's keys for them then. */
  get watching(): boolean {
    return this.#watcherCount > 0
  }

  async prepare(_changes: Change[], _ops: WriteOp[]): Promise<void> {}

  committed(changes: Change[]): void {
    const seq = ++this.#seq
    if (this.#listeners.size === 0 && this.#watcherCount === 0) return
    const unlinked = relationsOf(this.db).unlinkedOwners(changes)
    if (this.#listeners.size > 0 && changes.length > 0) {
      const objects = changes.map(objectChange)
      for (const u of unlinked) objects.push({ model: u.meta.ctor.name, collection: u.meta.collection, oid: u.oid, kind: 'updated', properties: [], relations: u.relations })
      this.#queue.push({ seq, changes: objects })
      if (!this.#delivering) {
        this.#delivering = true
        queueMicrotask(() => this.#deliver())
      }
    }
    if (this.#watcherCount === 0) return
    for (const c of changes) {
      const set = this.#watchers.get(c.meta)
      if (set === undefined) continue
      const k = maintainerOf(this.db).keysWritten(c)
      const change: KeyedChange = { meta: c.meta, oid: c.oid, removed: c.removed, ...(k === undefined ? {} : { old: k.old, next: k.next }) }
      for (const w of set.all) w.changed(change)
      if (set.byKey.size === 0) continue
      const hit = new Set<Watcher>()
      for (const record of [change.old, change.next]) {
        if (record === undefined) continue
        for (const index in record) for (const key of record[index]!) for (const w of set.byKey.get(index + '\x00' + key) ?? []) hit.add(w)
      }
      for (const w of hit) w.changed(change)
    }
    // An owner that lost links to removed objects: its index keys are not at hand, so every watcher of its model hears of it.
    for (const u of unlinked) {
      const set = this.#watchers.get(u.meta)
      if (set === undefined) continue
      const change: KeyedChange = { meta: u.meta, oid: u.oid, removed: false }
      for (const w of new Set([...set.all, ...[...set.byKey.values()].flatMap((ws) => [...ws])])) w.changed(change)
    }
  }

  /**
   * Commits of another process on a shared store (src/coherence/): one change event, and every live
   * query of the models they touch re-runs (their index keys before the commit are not known here).
   */
  remote(objects: ObjectChange[]): void {
    const seq = ++this.#seq
    if (this.#listeners.size > 0) {
      this.#queue.push({ seq, changes: objects })
      if (!this.#delivering) {
        this.#delivering = true
        queueMicrotask(() => this.#deliver())
      }
    }
    // Every watcher of each model (by hint or not), found once per call.
    const watching = new Map<string, { meta: ModelMeta; watchers: Set<Watcher> } | undefined>()
    for (const o of objects) {
      if (!watching.has(o.collection)) {
        const meta = [...this.#watchers.keys()].find((m) => m.collection === o.collection)
        const set = meta === undefined ? undefined : this.#watchers.get(meta)!
        watching.set(o.collection, set === undefined ? undefined : { meta: meta!, watchers: new Set([...set.all, ...[...set.byKey.values()].flatMap((ws) => [...ws])]) })
      }
      const found = watching.get(o.collection)
      if (found === undefined) continue
      const change: KeyedChange = { meta: found.meta, oid: o.oid, removed: o.kind === 'removed' }
      for (const w of found.watchers) w.changed(change)
    }
  }

  #deliver(): void {
    this.#delivering = false
    const events = this.#queue.splice(0)
    for (const event of events) for (const listener of [...this.#listeners]) listener(event)
  }

  /**
   * Delivers every change event from now on (narrowed to the objects of `scope`, if given: events
   * left empty are skipped), and calls `end` when the database closes; returns how to stop.
   */
  listen(deliver: (event: ChangeEvent) => void, end?: () => void, scope?: ChangeScope): () => void {
    const listener = scope === undefined ? (event: ChangeEvent) => deliver(event) : narrowed(deliver, scope)
    if (this.#closed) {
      if (end !== undefined) queueMicrotask(end) // a stream of a closed database ends at once
      return () => {}
    }
    const key = scope === undefined ? '' : scopeKey(scope.collection, scope.oid)
    this.#listeners.add(listener)
    this.#scopes.set(key, (this.#scopes.get(key) ?? 0) + 1)
    if (end !== undefined) this.#enders.add(end)
    return () => {
      if (!this.#listeners.delete(listener)) return // stopped already, or the database closed
      const left = this.#scopes.get(key)! - 1
      if (left === 0) this.#scopes.delete(key)
      else this.#scopes.set(key, left)
      if (end !== undefined) this.#enders.delete(end)
    }
  }

  /** Which objects of the model some change stream or live query uses the changes of. */
  wanted(meta: ModelMeta): (oid: string) => boolean {
    const watchers = this.#watchers.get(meta)
    if (this.#scopes.has('') || this.#scopes.has(meta.collection) || (watchers !== undefined && (watchers.all.size > 0 || watchers.byKey.size > 0))) return () => true
    return (oid) => this.#scopes.has(scopeKey(meta.collection, oid))
  }

  /** Lets the watchers finish what the writes before close gave them to do (a live query's re-run). */
  async settle(): Promise<void> {
    await Promise.all([...this.#settlers].map((settle) => settle()))
  }

  /**
   * The database is closing, its writes done: the events of those writes are delivered, then every
   * change stream and live query ends (iterations finish, observers complete).
   */
  close(): void {
    this.#closed = true
    this.#settlers.clear()
    if (this.#queue.length > 0) this.#deliver()
    const enders = [...this.#enders]
    this.#enders.clear()
    for (const end of enders) end()
    this.#listeners.clear()
    this.#scopes.clear()
    this.#watchers.clear()
    this.#watcherCount = 0
  }

  /** Tells the watcher about the changes of its model that may matter to it (and when the database closes); returns how to stop. */
  watch(w: Watcher): () => void {
    if (this.#closed) {
      if (w.ended !== undefined) queueMicrotask(() => w.ended!())
      return () => {}
    }
    if (w.ended !== undefined) this.#enders.add(w.ended)
    if (w.settle !== undefined) this.#settlers.add(w.settle)
    let set = this.#watchers.get(w.meta)
    if (set === undefined) {
      set = { byKey: new Map(), all: new Set() }
      this.#watchers.set(w.meta, set)
    }
    const entry = set
    if (w.hints === undefined) entry.all.add(w)
    else for (const [index, key] of w.hints) getOrAdd(entry.byKey, index + '\x00' + key).add(w)
    this.#watcherCount++
    let stopped = false
    return () => {
      if (stopped || this.#closed) return // close() let every watcher go
      stopped = true
      if (w.ended !== undefined) this.#enders.delete(w.ended)
      if (w.settle !== undefined) this.#settlers.delete(w.settle)
      this.#watcherCount--
      if (w.hints === undefined) entry.all.delete(w)
      else {
        for (const [index, key] of w.hints) {
          const id = index + '\x00' + key
          const holders = entry.byKey.get(id)
          holders?.delete(w)
          if (holders?.size === 0) entry.byKey.delete(id)
        }
      }
      if (entry.all.size === 0 && entry.byKey.size === 0) this.#watchers.delete(w.meta)
    }
  }
}

function relationsOf(db: Database): RelationFeature {
  return db.features.find((f) => f instanceof RelationFeature) as RelationFeature
}

function getOrAdd<K, V>(map: Map<K, Set<V>>, key: K): Set<V> {
  let set = map.get(key)
  if (set === undefined) {
    set = new Set()
    map.set(key, set)
  }
  return set
}
