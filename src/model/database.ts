import { checkName, Engine, type WriteOp } from '../engine/engine.js'
import { LevelEngine } from '../engine/level/level-engine.js'
import { IndexMaintainer } from '../indexes/index-maintainer.js'
import { RelationFeature } from '../relations/index.js'
import { RawFeature } from '../raw/raw-feature.js'
import { AlreadyRegisteredError, ArgumentError, ClosedError, ModelDefinitionError, NotFoundError, NotRegisteredError } from '../errors.js'
import type { Change, WriteContributor } from './change.js'
import { exportObject, importInto, type ExportOptions, type Exported } from './export-import.js'
import { IdentityMap } from './identity-map.js'
import { metaOf, type ModelMeta } from './meta.js'
import { modelHooks } from './model-hooks.js'
import { STATE, type ObjectState } from './object-state.js'
import { withOid } from './oid.js'
import { applyRecord, buildRecord, recordInstance, validateState } from './records.js'
import { bind, unbind } from './registry.js'
import type { ListOptions, StoredObject } from './stored-object.js'
import { currentTransaction, Transaction } from './transaction.js'

export interface IndexProgress {
  model: string
  index: string
  done: number
  total: number
}

export interface DatabaseOptions {
  /** A directory for the default LevelDB engine. */
  path?: string
  /** The engine to use instead (MemoryEngine, DirectoryEngine, LevelEngine...). */
  engine?: Engine
  /** Model classes to register. */
  models?: Function[]
  /** `max`: how many recently used objects the LRU keeps strongly referenced (default 1000). */
  cache?: { max?: number }
  /** Called while an index is rebuilt (a new or changed index on existing data, or `reindex()`). */
  onIndexProgress?: (progress: IndexProgress) => void
}

/** A part of the store that takes part in every write (indexes, relations, raw data). */
export interface Feature extends WriteContributor {
  /**
   * Objects that must be saved in the same write as these changes (e.g. unsaved objects they link
   * to). Called until no feature returns an object not yet in the write.
   */
  cascade?(changes: Change[]): StoredObject[]
  /** Rebuilds derived data (e.g. index entries) of these models from the stored objects. */
  reindex?(metas: ModelMeta[]): Promise<void>
  /** Runs once when the database opens, before it is returned (e.g. to keep what the engine found at open). */
  open?(): Promise<void>
  /** The object's properties went back to its stored record: drop the feature's unsaved state too. */
  reverted?(obj: StoredObject): void
  /** Whether the object holds unsaved state of this feature (a relation change, data not saved yet). */
  hasChanges?(obj: StoredObject): boolean
}

/**
 * The features every database runs, in this order. Indexes come last: their keys are computed from
 * the records as the other features leave them (links dropped, change times moved).
 */
const FEATURES: Array<new (db: Database) => Feature> = [RelationFeature, RawFeature, IndexMaintainer]

interface WriteItem {
  obj: StoredObject
  remove: boolean
  /** Only written if it differs from its stored record (objects merely read in a transaction). */
  ifChanged?: boolean
  /** Update times to record instead of now (import). */
  times?: Record<string, number>
}

const DEFAULT_CACHE_MAX = 1000

/**
 * An open store: the engine, the registered models, one live instance per object, and a single
 * queue through which every atomic write passes (so index diffs and unique checks never race).
 */
export class Database {
  readonly engine: Engine
  readonly options: Readonly<DatabaseOptions>
  readonly identity: IdentityMap
  readonly features: Feature[]
  readonly #models = new Map<string, ModelMeta>()
  #writes: Promise<unknown> = Promise.resolve()
  #closed = false
  readonly #ensuring = new Map<string, Promise<StoredObject>>()

  private constructor(engine: Engine, options: DatabaseOptions) {
    this.engine = engine
    this.options = options
    const max = options.cache?.max ?? DEFAULT_CACHE_MAX
    if (!Number.isInteger(max) || max < 0) throw new ArgumentError(`cache.max must be a non-negative integer, got ${max}`)
    this.identity = new IdentityMap(max)
    this.features = FEATURES.map((Feature) => new Feature(this))
  }

  /**
   * Opens a database.
   *
   * @example
   * ```ts
   * const db = await Database.open({ path: './data', models: [Account] })
   * ```
   */
  static async open(options: DatabaseOptions = {}): Promise<Database> {
    if (options === null || typeof options !== 'object') throw new ArgumentError('Database.open() takes an options object')
    if (options.engine !== undefined && options.path !== undefined) throw new ArgumentError('Database.open(): give either path or engine, not both')
    if (options.engine !== undefined && !(options.engine instanceof Engine)) {
      throw new ArgumentError('Database.open(): engine must be a Stowage engine (MemoryEngine, DirectoryEngine, LevelEngine)')
    }
    if (options.engine === undefined && (typeof options.path !== 'string' || options.path === '')) {
      throw new ArgumentError('Database.open(): give a path (a directory for the LevelDB store) or an engine')
    }
    if (options.models !== undefined && !Array.isArray(options.models)) throw new ArgumentError('Database.open(): models must be an array of model classes')
    const engine = options.engine ?? new LevelEngine(options.path!)
    await engine.open()
    try {
      const db = new Database(engine, options)
      for (const feature of db.features) await feature.open?.()
      db.use(...(options.models ?? []))
      return db
    } catch (err) {
      await engine.close()
      throw err
    }
  }

  /** Registers more model classes; returns the database. */
  use(...models: Function[]): this {
    this.#assertOpen('use')
    for (const ctor of models) {
      const meta = typeof ctor === 'function' ? metaOf(ctor) : undefined
      if (meta === undefined) throw new ModelDefinitionError(`db.use(): ${typeof ctor === 'function' ? ctor.name : String(ctor)} is not a @Model() class`)
      if (meta.db === this) continue
      if (meta.db !== undefined) {
        throw new AlreadyRegisteredError(`${meta.ctor.name} is already registered in another open database; close it first (a model is bound to one open database at a time)`)
      }
      const other = this.#models.get(meta.collection)
      if (other !== undefined && other !== meta) {
        throw new ModelDefinitionError(`${meta.ctor.name} and ${other.ctor.name} both use the collection "${meta.collection}"; give one @Model({ collection })`)
      }
      this.#models.set(meta.collection, meta)
      bind(meta, this)
    }
    return this
  }

  /** The registered models. */
  models(): ModelMeta[] {
    return [...this.#models.values()]
  }

  /** The registered model of a collection, if any. */
  model(collection: string): ModelMeta | undefined {
    return this.#models.get(collection)
  }

  /** Everything written so far is durable on disk. */
  async sync(): Promise<void> {
    this.#assertOpen('sync')
    await this.#writes
    await this.engine.sync()
  }

  /** Waits for writes in progress, unbinds the models and closes the engine. Later calls throw ClosedError. */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    await this.#writes
    for (const meta of this.#models.values()) if (meta.db === this) unbind(meta)
    this.identity.clear()
    await this.engine.close()
  }

  get closed(): boolean {
    return this.#closed
  }

  /** Rebuilds every index (of the given models, or all) from the stored objects. */
  async reindex(models?: Function[]): Promise<void> {
    this.#assertOpen('reindex')
    const metas = models === undefined ? this.models() : models.map((m) => this.#registered(m))
    await this.#enqueue(async () => {
      for (const feature of this.features) await feature.reindex?.(metas)
    })
  }

  /**
   * Runs fn; every save and remove inside, and every object created or changed inside, is written in
   * one atomic batch when fn resolves. If fn throws or the write is refused, nothing is written, the
   * stored objects the transaction changed are reverted, and the error is rethrown.
   */
  async transaction<R>(fn: () => Promise<R> | R): Promise<R> {
    this.#assertOpen('transaction')
    const outer = currentTransaction.getStore()
    if (outer !== undefined && outer.db === this) return fn()
    const tx = new Transaction(this)
    let result: R
    openTransactions++
    let failed = true
    try {
      result = await currentTransaction.run(tx, fn)
      failed = false
    } finally {
      // AsyncLocalStorage slows every promise while enabled: keep it enabled only during transactions.
      if (--openTransactions === 0) currentTransaction.disable()
      if (failed) await this.#rollBack(tx)
    }
    const items: WriteItem[] = []
    for (const obj of tx.saves) items.push({ obj, remove: false, times: tx.times.get(obj) })
    for (const obj of tx.seen) items.push({ obj, remove: false, ifChanged: true })
    for (const obj of tx.removes) items.push({ obj, remove: true })
    try {
      await this.#enqueue(() => this.#write(items))
    } catch (err) {
      await this.#rollBack(tx)
      throw err
    }
    return result
  }

  /**
   * After a failed transaction: stored objects saved, assigned or removed inside go back to their
   * stored state, and so do objects read inside that were clean then and changed in place since.
   * Objects created inside stay as they are, unsaved.
   */
  async #rollBack(tx: Transaction): Promise<void> {
    const changed = (obj: StoredObject) => {
      const state = obj[STATE]
      return state.version !== state.savedVersion || buildRecord(state, 0).changed || this.features.some((f) => f.hasChanges?.(obj))
    }
    const objs = [...tx.saves, ...[...tx.removes].filter(changed), ...[...tx.seenClean].filter((obj) => tx.seen.has(obj) && changed(obj))]
    await this.#enqueue(async () => {
      for (const obj of objs) if (obj[STATE].record !== undefined && !obj[STATE].removed) this.#revert(obj)
    }).catch(() => {})
  }

  /** Puts the object back as stored (`obj.revert()`), after the writes already queued. */
  async revert(obj: StoredObject): Promise<void> {
    this.#assertOpen('revert')
    const tx = this.#transaction()
    await this.#enqueue(async () => {
      const state = obj[STATE]
      this.#assertOwn(state)
      if (state.record === undefined) {
        throw new NotFoundError(`${state.meta.ctor.name} ${state.oid} ${state.removed ? 'was removed' : 'was never saved'}: there is no stored state to revert to`)
      }
      this.#revert(obj)
    })
    if (tx !== undefined) {
      tx.saves.delete(obj)
      tx.times.delete(obj)
    }
  }

  #revert(obj: StoredObject): void {
    applyRecord(obj[STATE], obj[STATE].record)
    for (const feature of this.features) feature.reverted?.(obj)
    this.identity.unpin(obj)
  }

  // ---- reads -------------------------------------------------------------------------------

  /** The live instance of (meta, oid), loading it if needed; undefined if not stored. */
  load(meta: ModelMeta, oid: string): Promise<StoredObject | undefined> {
    if (this.#closed) return Promise.reject(new ClosedError('The database is closed: cannot call get()'))
    const live = this.identity.get(meta.collection, oid)
    if (live !== undefined) {
      if (openTransactions > 0) this.#transaction()?.see(live)
      return Promise.resolve(live)
    }
    return this.#loadStored(meta, oid)
  }

  async #loadStored(meta: ModelMeta, oid: string): Promise<StoredObject | undefined> {
    const tx = this.#transaction()
    const created = tx?.findCreated(meta.collection, oid)
    if (created !== undefined) return created
    const record = await this.engine.getRecord(meta.collection, oid)
    if (record === undefined) return undefined
    const obj = this.instantiate(meta, oid, record)
    tx?.see(obj)
    return obj
  }

  async loadMany(meta: ModelMeta, oids: string[]): Promise<(StoredObject | undefined)[]> {
    this.#assertOpen('get')
    const result: (StoredObject | undefined)[] = new Array(oids.length)
    const missing: number[] = []
    for (let i = 0; i < oids.length; i++) {
      result[i] = this.identity.get(meta.collection, oids[i]!)
      if (result[i] === undefined) missing.push(i)
    }
    if (missing.length > 0) {
      const records = await this.engine.getRecords(meta.collection, missing.map((i) => oids[i]!))
      missing.forEach((i, n) => {
        if (records[n] !== undefined) result[i] = this.instantiate(meta, oids[i]!, records[n])
      })
    }
    const tx = this.#transaction()
    if (tx !== undefined) for (const obj of result) if (obj !== undefined) tx.see(obj)
    return result
  }

  /** The live instance for a stored record: the existing one, or a new one registered in the identity map. */
  instantiate(meta: ModelMeta, oid: string, record: unknown, recent = true): StoredObject {
    const live = this.identity.get(meta.collection, oid)
    if (live !== undefined) return live
    const obj = recordInstance(meta, oid, record)
    this.identity.add(meta.collection, oid, obj, recent)
    return obj
  }

  async has(meta: ModelMeta, oid: string): Promise<boolean> {
    this.#assertOpen('has')
    if (this.identity.get(meta.collection, oid) !== undefined) return true
    return this.engine.hasRecord(meta.collection, oid)
  }

  async count(meta: ModelMeta): Promise<number> {
    this.#assertOpen('count')
    return this.engine.countRecords(meta.collection)
  }

  /** Every stored object of the model in oid (creation) order, streamed. */
  async *all(meta: ModelMeta): AsyncGenerator<StoredObject> {
    this.#assertOpen('all')
    for await (const [oid, record] of this.engine.records(meta.collection)) {
      yield this.instantiate(meta, oid, record, false)
    }
  }

  async list(meta: ModelMeta, options: ListOptions = {}): Promise<StoredObject[]> {
    this.#assertOpen('list')
    if (options === null || typeof options !== 'object') throw new ArgumentError('list() takes { start?, count? }')
    const start = options.start ?? 0
    const count = options.count ?? Infinity
    if (!Number.isInteger(start) || start < 0) throw new ArgumentError(`list(): start must be a non-negative integer, got ${start}`)
    if (count !== Infinity && (!Number.isInteger(count) || count < 0)) throw new ArgumentError(`list(): count must be a non-negative integer, got ${count}`)
    if (count === 0) return []
    const oids: string[] = []
    let skipped = 0
    for await (const oid of this.engine.recordIds(meta.collection, { limit: count === Infinity ? Infinity : start + count })) {
      if (skipped < start) skipped++
      else oids.push(oid)
    }
    return (await this.loadMany(meta, oids)).filter((o): o is StoredObject => o !== undefined)
  }

  async ensure(meta: ModelMeta, oid: string, props?: object): Promise<StoredObject> {
    this.#assertOpen('ensure')
    checkName('id', oid)
    const key = meta.collection + '/' + oid
    const pending = this.#ensuring.get(key)
    if (pending !== undefined) return pending
    const run = (async () => {
      const existing = await this.load(meta, oid)
      if (existing !== undefined) return existing
      const obj = createWithOid(meta, oid, props)
      await obj.save()
      return obj
    })()
    this.#ensuring.set(key, run)
    try {
      return await run
    } finally {
      this.#ensuring.delete(key)
    }
  }

  // ---- writes ------------------------------------------------------------------------------

  async save(obj: StoredObject, times?: Record<string, number>): Promise<void> {
    this.#assertOpen('save')
    const tx = this.#transaction()
    if (tx !== undefined) return tx.save(obj, times)
    await this.#enqueue(() => this.#write([{ obj, remove: false, times }]))
  }

  async remove(obj: StoredObject): Promise<void> {
    this.#assertOpen('remove')
    const tx = this.#transaction()
    if (tx !== undefined) return tx.remove(obj)
    await this.#enqueue(() => this.#write([{ obj, remove: true }]))
  }

  exportObject(obj: StoredObject, options: ExportOptions): Exported {
    return exportObject(this, obj, options)
  }

  async importObject(meta: ModelMeta, exported: Exported): Promise<StoredObject> {
    this.#assertOpen('import')
    const existing = exported && typeof exported === 'object' && typeof exported.oid === 'string' ? await this.load(meta, exported.oid) : undefined
    const { obj, times } = importInto(meta, existing, exported, (oid) => createWithOid(meta, oid, undefined))
    await this.save(obj, times)
    return obj
  }

  /** Runs a write after every earlier one; a failed write does not stop later ones. */
  #enqueue<T>(write: () => Promise<T>): Promise<T> {
    const run = this.#writes.then(write)
    this.#writes = run.catch(() => {})
    return run
  }

  async #write(items: WriteItem[]): Promise<void> {
    if (this.#closed && items.length > 0) throw new ClosedError('The database is closed')
    const now = Date.now()
    const changes: Change[] = []
    const versions: number[] = []
    const included = new Set<StoredObject>()
    const include = (item: WriteItem): void => {
      if (included.has(item.obj)) return // one change per object and write
      included.add(item.obj)
      const state = item.obj[STATE]
      this.#assertOwn(state)
      if (item.remove) {
        if (state.record === undefined) {
          state.removed = true
          return
        }
        changes.push({ meta: state.meta, oid: state.oid, obj: item.obj, removed: true, created: false, previous: state.record })
        versions.push(state.version)
        return
      }
      validateState(state)
      const built = buildRecord(state, now, item.times)
      if (item.ifChanged && !built.changed) return
      changes.push({ meta: state.meta, oid: state.oid, obj: item.obj, removed: false, created: state.record === undefined, record: built.record, previous: state.record })
      versions.push(state.version)
    }
    for (const item of items) include(item)
    for (let grew = true; grew; ) {
      grew = false
      for (const feature of this.features) {
        for (const obj of feature.cascade?.(changes) ?? []) {
          if (included.has(obj)) continue
          include({ obj, remove: false })
          grew = true
        }
      }
    }
    if (changes.length === 0) return

    // Index functions may read update times: show them the ones being written, undo on failure.
    const undo = changes.map((c) => {
      const state = c.obj[STATE]
      const before = { updates: state.updates, changedAt: state.changedAt }
      if (c.record !== undefined) {
        state.updates = c.record.updates // built fresh for this write; never mutated in place
        state.changedAt = c.record.changed
      }
      return before
    })
    try {
      const ops: WriteOp[] = changes.map((c) =>
        c.removed
          ? { type: 'delRecord', collection: c.meta.collection, id: c.oid }
          : { type: 'putRecord', collection: c.meta.collection, id: c.oid, value: c.record },
      )
      for (const feature of this.features) await feature.prepare(changes, ops)
      await this.engine.batch(ops)
    } catch (err) {
      changes.forEach((c, i) => Object.assign(c.obj[STATE], undo[i]))
      throw err
    }
    changes.forEach((c, i) => {
      const state = c.obj[STATE]
      if (c.removed) {
        state.removed = true
        state.record = undefined
        this.identity.delete(c.meta.collection, c.oid)
      } else {
        state.record = c.record
        state.removed = false
        state.savedVersion = versions[i]!
        this.identity.add(c.meta.collection, c.oid, c.obj)
        if (state.version === state.savedVersion) this.identity.unpin(c.obj)
      }
    })
    for (const feature of this.features) feature.committed?.(changes)
  }

  #transaction(): Transaction | undefined {
    if (openTransactions === 0) return undefined
    const tx = currentTransaction.getStore()
    return tx !== undefined && tx.db === this ? tx : undefined
  }

  #registered(ctor: Function): ModelMeta {
    const meta = metaOf(ctor)
    if (meta === undefined || meta.db !== this) throw new NotRegisteredError(`${ctor?.name ?? ctor} is not registered in this database`)
    return meta
  }

  /** Refuses an object of a model this database has not registered. */
  #assertOwn(state: ObjectState): void {
    if (state.meta.db !== this) throw new NotRegisteredError(`${state.meta.ctor.name} ${state.oid} belongs to a model not registered in this database`)
  }

  #assertOpen(method: string): void {
    if (this.#closed) throw new ClosedError(`The database is closed: cannot call ${method}()`)
  }
}

/** A new, unsaved instance with a given oid (for ensure and import). */
function createWithOid(meta: ModelMeta, oid: string, props: object | undefined): StoredObject {
  return withOid(oid, () => new (meta.ctor as new (props?: object) => StoredObject)(props))
}

/** Transactions running in this process, of any database. */
let openTransactions = 0

modelHooks.constructed = (obj) => {
  if (openTransactions === 0) return
  const tx = currentTransaction.getStore()
  if (tx !== undefined && tx.db === obj[STATE].meta.db) tx.save(obj)
}

modelHooks.changed = (obj) => {
  const state = obj[STATE]
  const db = state.meta.db as Database | undefined
  if (db === undefined) return
  if (state.record !== undefined) db.identity.pin(obj)
  if (openTransactions === 0) return
  const tx = currentTransaction.getStore()
  if (tx !== undefined && tx.db === db) tx.save(obj)
}
