import type { WriteOp } from '../engine/engine.js'
import type { Change } from '../model/change.js'
import type { Database, Feature } from '../model/database.js'
import type { IndexMeta, ModelMeta } from '../model/meta.js'
import { checkIndexDefinitions } from './index-keys.js'
import { applyExternalChanges, buildClaims, rebuildIndexes, recordExternalChanges, storedSignatures } from './index-rebuild.js'
import { checkUnique, claimEntry, freshClaims, keysRecordOf, pushIndexOps, readKeysRecord, writeKeysRecord, type IndexUpdate } from './index-writes.js'
import { keysRecordKey, signatureOf, type KeysRecord } from './layout.js'
import { claimUnique } from './unique-claims.js'
import { STATE } from '../model/object-state.js'
import { migrationsOf } from '../migrations/migrator.js'
import { feedOf } from '../changes/change-feed.js'
import { sharedStoreOf, type SharedStore } from '../coherence/shared-store.js'
import { ConflictError, ConstraintError } from '../errors.js'

const maintainers = new WeakMap<Database, IndexMaintainer>()

/** The index maintainer of an open database. */
export function maintainerOf(db: Database): IndexMaintainer {
  let m = maintainers.get(db)
  if (m === undefined) {
    m = new IndexMaintainer(db)
    maintainers.set(db, m)
  }
  return m
}

/**
 * Keeps every index exact: adds the entry changes of each atomic write to its batch, checks unique
 * indexes, and rebuilds indexes whose definition changed since the entries were written.
 */
export class IndexMaintainer implements Feature {
  readonly db: Database
  /** Per model: definitions checked, changed indexes rebuilt, external changes applied. */
  #ready = new Map<ModelMeta, Promise<void>>()
  /**
   * The keys live instances were last written with, so an update needs no read. Kept as stored, one
   * string per instance: a KeysRecord (an object and an array per index) made a bulk-loaded instance
   * retain a third more memory.
   */
  #indexed = new WeakMap<object, string>()
  #pending = new WeakMap<Change[], Array<[object, string]>>()
  /** Per change, the keys it took the object from and to, while the change feed wants them. */
  readonly #keys = new WeakMap<Change, { old: KeysRecord; next: KeysRecord }>()
  #opened: Promise<void> | undefined
  /** On a store shared by several processes: the index updates of each write in flight that claims unique keys. */
  readonly #claims = new WeakMap<Change[], IndexUpdate[]>()
  /** The store, if several processes share it. */
  readonly #shared: SharedStore | undefined

  constructor(db: Database) {
    this.db = db
    this.#shared = sharedStoreOf(db.engine)
    if (!maintainers.has(db)) maintainers.set(db, this)
  }

  /**
   * Makes the objects the engine found changed behind its back durable as pending work (until each
   * model has re-indexed them), then acknowledges them to the engine. Called when the database
   * opens, else before the first `ready()`.
   */
  open(): Promise<void> {
    if (this.#opened === undefined) {
      const { engine } = this.db
      const run = recordExternalChanges(engine, engine.externalChanges()).then(() => engine.acknowledgeExternalChanges())
      this.#opened = run
      run.catch(() => {
        if (this.#opened === run) this.#opened = undefined
      })
    }
    return this.#opened
  }

  /** Resolves once the model's stored objects are migrated to its version and its indexes match its definitions: before any index query. */
  ready(meta: ModelMeta): Promise<void> {
    const migrations = migrationsOf(this.db)
    const gate = migrations.waiting ? migrations.gate(meta) : undefined
    return gate === undefined ? this.indexesReady(meta) : gate.then(() => this.indexesReady(meta))
  }

  /**
   * Resolves once the model's indexes match its definitions. Runs once per model and database
   * (again after a failure), before any write on the model.
   */
  indexesReady(meta: ModelMeta): Promise<void> {
    let run = this.#ready.get(meta)
    if (run === undefined) {
      run = this.#makeReady(meta)
      this.#ready.set(meta, run)
      const failed = run
      run.catch(() => {
        if (this.#ready.get(meta) === failed) this.#ready.delete(meta)
      })
    }
    return run
  }

  async #makeReady(meta: ModelMeta): Promise<void> {
    checkIndexDefinitions(meta)
    await this.open()
    const { engine } = this.db
    const claims = this.#shared === undefined
    const outdated = async (): Promise<{ changed: IndexMeta[]; unclaimed: IndexMeta[]; removed: string[] }> => {
      const stored = await storedSignatures(engine, meta.collection)
      const changed: IndexMeta[] = []
      const unclaimed: IndexMeta[] = []
      for (const index of meta.indexes.values()) {
        const signature = stored.get(index.name)
        if (signature === signatureOf(index, claims)) continue
        // Built by this definition before unique indexes kept claims: only the claims are missing.
        if (claims && index.unique && signature === signatureOf(index, false)) unclaimed.push(index)
        else changed.push(index)
      }
      return { changed, unclaimed, removed: [...stored.keys()].filter((name) => !meta.indexes.has(name)) }
    }
    const first = await outdated()
    for (const index of first.unclaimed) await buildClaims(engine, meta, index)
    if (first.changed.length > 0 || first.removed.length > 0) {
      this.#indexed = new WeakMap()
      // Another process may have rebuilt them meanwhile: looked at again once alone.
      await this.#alone(async () => {
        const { changed, removed } = this.#shared ? await outdated() : first
        if (changed.length > 0 || removed.length > 0) await rebuildIndexes(this.db, meta, changed, removed)
      })
    }
    await applyExternalChanges(this.db, meta)
  }

  async prepare(changes: Change[], ops: WriteOp[]): Promise<void> {
    const metas = new Set(changes.map((c) => c.meta))
    await Promise.all([...metas].map((meta) => this.indexesReady(meta)))
    // A transaction may list one object twice (saved and read): its last change counts.
    const latest = new Map<string, Change>()
    for (const c of changes) if (c.meta.indexes.size > 0) latest.set(c.meta.collection + '\x00' + c.oid, c)
    if (latest.size === 0) return
    const work = [...latest.values()]

    const updates: IndexUpdate[] = work.map((c) => {
      // Other features ran first and may have moved the change time (a relation or raw data changed).
      if (c.record !== undefined) c.obj[STATE].changedAt = c.record.changed
      const written = c.created ? '' : this.#indexed.get(c.obj)
      return {
        meta: c.meta,
        oid: c.oid,
        old: (written === undefined ? undefined : readKeysRecord(written)) as KeysRecord,
        next: c.removed ? {} : keysRecordOf(c.meta, c.oid, c.indexSource ?? c.obj),
        created: c.created,
      }
    })
    const unread = updates.filter((u) => u.old === undefined)
    if (unread.length > 0) {
      const values = await this.db.engine.getMany(unread.map((u) => keysRecordKey(u.meta.collection, u.oid)))
      unread.forEach((u, i) => (u.old = readKeysRecord(values[i])))
    }
    // A store shared by several processes checks claimed unique keys in the batch itself (puts marked unique).
    const claims = this.#shared !== undefined ? new Set(freshClaims(updates).map(claimEntry)) : undefined
    if (claims === undefined) await claimUnique(this.db.engine, updates, ops)
    if (feedOf(this.db).watching) work.forEach((c, i) => this.#keys.set(c, { old: updates[i]!.old, next: updates[i]!.next }))
    const from = ops.length
    const written = updates.map((u) => pushIndexOps(u, ops) ?? writeKeysRecord(u.next))
    if (claims !== undefined && claims.size > 0) {
      for (let i = from; i < ops.length; i++) {
        const op = ops[i]!
        if (op.type === 'put' && claims.has(op.key)) op.unique = true
      }
      this.#claims.set(changes, updates)
    }
    this.#pending.set(
      changes,
      work.map((c, i) => [c.obj, written[i]!]),
    )
  }

  /** The index keys a committed change took the object from and to, kept while live queries watch. */
  keysWritten(change: Change): { old: KeysRecord; next: KeysRecord } | undefined {
    return this.#keys.get(change)
  }

  /** Forgets the keys an instance was last written with (a write changed them without it): the next save reads them. */
  forget(obj: object): void {
    this.#indexed.delete(obj)
  }

  /** Runs an index rebuild while no other process writes (on a store shared by several processes). */
  #alone<T>(fn: () => Promise<T>): Promise<T> {
    return this.#shared ? this.#shared.exclusively(fn) : fn()
  }

  /** A claimed unique key another process took first (the store refused the batch): which object holds it. */
  async explain(changes: Change[], err: unknown): Promise<unknown> {
    const updates = this.#claims.get(changes)
    this.#claims.delete(changes)
    if (!(err instanceof ConstraintError) || updates === undefined) return err
    try {
      await checkUnique(this.db.engine, updates)
    } catch (found) {
      return found
    }
    return new ConflictError(`${err.message}; the other object has let it go since: run the write again`)
  }

  committed(changes: Change[]): void {
    this.#claims.delete(changes)
    const written = this.#pending.get(changes)
    if (written === undefined) return
    this.#pending.delete(changes)
    for (const [obj, keys] of written) this.#indexed.set(obj, keys)
  }

  /**
   * Rebuilds every index of these models from the stored objects (`db.reindex()`), one model after
   * another; index queries on each wait for its rebuild from the start (not only once its turn comes).
   */
  async reindex(metas: ModelMeta[]): Promise<void> {
    const runs: Promise<void>[] = []
    let previous: Promise<void> = Promise.resolve()
    for (const meta of metas) {
      const earlier = this.#ready.get(meta)
      const before = previous
      const run = (async () => {
        await before.catch(() => {})
        await earlier?.catch(() => {})
        this.#indexed = new WeakMap()
        const stored = await storedSignatures(this.db.engine, meta.collection)
        const removed = [...stored.keys()].filter((name) => !meta.indexes.has(name))
        await this.#alone(() => rebuildIndexes(this.db, meta, [...meta.indexes.values()], removed))
        await this.open()
        await applyExternalChanges(this.db, meta)
      })()
      this.#ready.set(meta, run)
      run.catch(() => {
        if (this.#ready.get(meta) === run) this.#ready.delete(meta)
      })
      runs.push(run)
      previous = run
    }
    for (const run of runs) await run
  }
}
