import { ConflictError } from '../errors.js'
import type { WriteOp } from '../engine/engine.js'
import { encodeValue } from '../engine/level/msgpack-codec.js'
import { feedOf } from '../changes/change-feed.js'
import type { ObjectChange } from '../changes/change-event.js'
import { objectChange } from '../changes/change-event.js'
import type { Change } from '../model/change.js'
import type { Database, Feature } from '../model/database.js'
import type { ModelMeta } from '../model/meta.js'
import { hasChosenOid, STATE, type ObjectRecord } from '../model/object-state.js'
import type { StoredObject } from '../model/stored-object.js'
import { createdElsewhere } from '../model/unit-of-work.js'
import { rebase } from './rebase.js'
import { sharedStoreOf, type RemoteCommit, type SharedStore } from './shared-store.js'

/**
 * Several processes on one store (an engine that is a SharedStore): nothing lost between writers,
 * and each process follows the others' commits. Does nothing on an engine only one process uses.
 *
 * - Every write first locks, across processes, the stored records it replaces or removes (none for
 *   a new object with a generated oid), and reads them back under the locks; a write that removes
 *   objects (which may rewrite the records of objects linking them) locks the whole store. If
 *   another process stored one of those objects since this one read it, nothing is written and the
 *   write fails with `ConflictError`; the instance then takes the stored record (rebase.ts), and
 *   running the change again writes it over the new record. So index diffs, keys records and links
 *   are always computed from what is stored, and no process's change vanishes unreported. Unique
 *   keys the write claims are checked by the store in the batch itself (see SharedStore).
 * - Each commit of another process is heard (the engine's change feed): the live instances of its
 *   objects take the new records (or keep their unsaved changes over them), instances of removed
 *   objects become removed, and the change events of the database fire for it.
 */
export class Coherence implements Feature {
  readonly db: Database
  readonly #shared: SharedStore | undefined
  #locked = false
  /** Records heard of and not applied yet, by collection; `all` when some may have gone unheard. */
  #pending = new Map<string, Set<string>>()
  #everything = false
  #applying: Promise<void> | undefined

  constructor(db: Database) {
    this.db = db
    this.#shared = sharedStoreOf(db.engine)
  }

  async open(): Promise<void> {
    this.#shared?.onRemoteCommit((commit) => this.#heard(commit))
  }

  async prepare(changes: Change[], _ops: WriteOp[]): Promise<void> {
    const shared = this.#shared
    if (shared === undefined) return
    // A new object with a generated oid cannot be stored yet: only the others are locked and read back.
    const checked = changes.filter((c) => !c.created || hasChosenOid(c.obj[STATE]))
    const exclusive = changes.some((c) => c.removed)
    if (checked.length === 0 && !exclusive) return
    await shared.lockWrites({ records: checked.map((c) => [c.meta.collection, c.oid]), exclusive })
    this.#locked = true
    const stale: Array<[Change, unknown]> = []
    for (const [collection, group] of byCollection(checked)) {
      const stored = await this.db.engine.getRecords(collection, group.map((c) => c.oid))
      group.forEach((c, i) => {
        // Instances the identity map does not hold (a migration pass's) were built from what was read just before.
        if (!c.created && this.db.identity.peek(collection, c.oid) !== c.obj) return
        if (!sameRecord(c.created ? undefined : c.previous, stored[i])) stale.push([c, stored[i]])
      })
    }
    if (stale.length === 0) return
    await this.aborted()
    // The instances take the stored records once this write has failed: right after it (before a
    // save run again), or, for a transaction's, after its undo (queued once this write has failed).
    const heard = (list: typeof stale) => list.length > 0 && this.#heard({ records: list.map(([c]) => [c.meta.collection, c.oid]) })
    heard(stale.filter(([c]) => c.writer === undefined))
    setImmediate(() => heard(stale.filter(([c]) => c.writer !== undefined)))
    if (stale.every(([c]) => c.created)) throw createdElsewhere(stale[0]![0].obj)
    const names = stale.slice(0, 5).map(([c]) => `${c.meta.ctor.name} ${c.oid}`).join(', ') + (stale.length > 5 ? ` and ${stale.length - 5} more` : '')
    throw new ConflictError(
      `${names} ${stale.length === 1 ? 'was' : 'were'} changed by another process since ${stale.length === 1 ? 'it was' : 'they were'} read: nothing of this write was stored. The live instances take the stored values (keeping unsaved property changes made outside transactions): run the change again`,
    )
  }

  committed(): void {
    void this.aborted() // the batch committed, and its locks with it: the connection goes back
  }

  /** The write is over (failed, or committed): the lock is let go. */
  async aborted(): Promise<void> {
    if (!this.#locked) return
    this.#locked = false
    await this.#shared!.unlockWrites()
  }

  /**
   * Resolves once every commit another process made before the call is applied to the live
   * instances and its change event delivered.
   */
  async catchUp(): Promise<void> {
    if (this.#shared === undefined) return
    await this.#shared.catchUp()
    while (this.#applying) await this.#applying
  }

  #heard(commit: RemoteCommit): void {
    // What queries keep about these collections (counts, keys records, oid sets) is stale from now on.
    const collections = commit.records === 'all' ? [...this.db.models()].map((meta) => meta.collection) : new Set(commit.records.map(([collection]) => collection))
    for (const collection of collections) this.db.changedOutside(collection)
    if (commit.records === 'all') this.#everything = true
    else {
      for (const [collection, id] of commit.records) {
        let ids = this.#pending.get(collection)
        if (!ids) this.#pending.set(collection, (ids = new Set()))
        ids.add(id)
      }
    }
    // In the write queue: never between a write's check and its commit, nor before a failed transaction's undo.
    this.#applying ??= this.db.afterWrites(() => this.#applyAll()).finally(() => (this.#applying = undefined))
  }

  async #applyAll(): Promise<void> {
    while (this.#pending.size > 0 || this.#everything) {
      const pending = this.#pending
      this.#pending = new Map()
      if (this.#everything) {
        // Commits may have gone unheard (a lost connection, or one too large to announce): every live instance is read back.
        for (const [collection, oids] of this.db.identity.storedOids()) {
          let ids = pending.get(collection)
          if (!ids) pending.set(collection, (ids = new Set()))
          for (const oid of oids) ids.add(oid)
        }
      }
      this.#everything = false
      if (this.db.closed) return
      try {
        await this.#apply(pending)
      } catch {
        // The store went away: the instances stay as they were; writes still check what they replace.
      }
    }
  }

  async #apply(pending: Map<string, Set<string>>): Promise<void> {
    const changes: ObjectChange[] = []
    const feed = feedOf(this.db)
    for (const [collection, idSet] of pending) {
      const meta = this.#metaOf(collection)
      if (meta === undefined) continue
      // Objects no instance here holds are read only for the change streams and live queries that use them.
      const wanted = feed.wanted(meta)
      const ids: string[] = []
      const live: Array<StoredObject | undefined> = []
      for (const id of idSet) {
        const obj = this.db.identity.peek(collection, id)
        if (obj === undefined && !wanted(id)) continue
        ids.push(id)
        live.push(obj)
      }
      if (ids.length === 0) continue
      // What each live instance showed before the read: one a local write changed meanwhile is newer than the read.
      const before = live.map((obj) => obj?.[STATE].record)
      const stored = await this.db.engine.getRecords(collection, ids)
      ids.forEach((oid, i) => {
        const obj = live[i]
        const record = stored[i] as ObjectRecord | undefined
        if (obj !== undefined && obj[STATE].record === before[i] && !sameRecord(before[i], record)) rebase(this.db, obj, record)
        if (obj !== undefined && sameRecord(before[i], record) && before[i] !== undefined) return // already known
        changes.push(remoteChange(meta, oid, obj, before[i], record))
      })
    }
    if (changes.length > 0) feedOf(this.db).remote(changes)
  }

  #metaOf(collection: string): ModelMeta | undefined {
    for (const meta of this.db.models()) if (meta.collection === collection) return meta
    return undefined
  }
}

/** The change another process made, as far as this one can tell: an object it never held is reported with every property. */
function remoteChange(meta: ModelMeta, oid: string, obj: StoredObject | undefined, previous: ObjectRecord | undefined, record: ObjectRecord | undefined): ObjectChange {
  if (record === undefined) return objectChange({ meta, oid, obj: obj as StoredObject, created: false, removed: true })
  const change = objectChange({ meta, oid, obj: obj as StoredObject, created: false, removed: false, record, previous: obj === undefined ? undefined : previous })
  if (obj === undefined) change.kind = 'updated'
  return change
}

function byCollection(changes: Change[]): Map<string, Change[]> {
  const out = new Map<string, Change[]>()
  for (const c of changes) {
    const group = out.get(c.meta.collection)
    if (group) group.push(c)
    else out.set(c.meta.collection, [c])
  }
  return out
}

/** Whether two records are the same stored record: the same bytes once encoded. */
function sameRecord(a: unknown, b: unknown): boolean {
  if (a === undefined || b === undefined) return a === b
  // encodeValue gives a view of the encoder's buffer, which the next encoding reuses: copy the first.
  return Buffer.from(encodeValue(a, 'a record')).equals(encodeValue(b, 'a record'))
}
