import { checkName, Engine } from '../engine/engine.js'
import { LevelEngine } from '../engine/level/level-engine.js'
import { IndexMaintainer } from '../indexes/index-maintainer.js'
import { RelationFeature } from '../relations/index.js'
import { RawFeature } from '../raw/raw-feature.js'
import { Migrations, type MigrationProgress } from '../migrations/migrator.js'
import { ChangeFeed, type ChangeScope, feedOf } from '../changes/change-feed.js'
import { Coherence } from '../coherence/coherence.js'
import { EncryptedEngine, KEY_SLOT } from '../crypto/encrypted-engine.js'
import { COMPRESSION_MARK, CompressedEngine } from '../compression/compressed-engine.js'
import { ChangeStream, DEFAULT_BUFFER } from '../changes/change-stream.js'
import type { ChangeEvent } from '../changes/change-event.js'
import { AlreadyRegisteredError, ArgumentError, KeyError, ClosedError, ModelDefinitionError, NotFoundError, NotRegisteredError } from '../errors.js'
import type { Change, WriteContributor } from './change.js'
import { exportObject, importInto, type ExportOptions, type Exported } from './export-import.js'
import { IdentityMap } from './identity-map.js'
import { metaOf, type ModelMeta } from './meta.js'
import { modelHooks } from './model-hooks.js'
import { STATE, type ObjectState, type Reload } from './object-state.js'
import { withOid } from './oid.js'
import { foreignMembers } from './ownership.js'
import { applyRecord, readStored, recordInstance, revertProperties } from './records.js'
import { bind, unbind } from './registry.js'
import { assignProps, type ListOptions, type Props, type StoredObject } from './stored-object.js'
import { currentTransaction, running, Transaction, transactionOf, type MemberUndo } from './transaction.js'
import { SaveGroups } from './save-groups.js'
import { assertOwn, UnitOfWork, type WriteItem } from './unit-of-work.js'
import { endJob, jobIsFull } from './weak-refs.js'
import { WriteLog } from './write-log.js'
import { databaseStats, type StoreStats } from '../tools/stats.js'
import { verifyDatabase, type VerifyOptions, type VerifyReport } from '../tools/verify.js'
import { backupDatabase, type BackupSummary } from '../tools/backup.js'
import type { DumpOptions } from '../tools/dump.js'
import type { Writable } from 'node:stream'

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
  /**
   * When the stored objects of a model with a newer `version` are migrated. `'open'` (default): a
   * pass over them runs before `open()` returns (for a model registered later with `use()`, before
   * its first use). `'lazy'`: `open()` returns at once and the pass runs in the background; `get()`
   * of an object not migrated yet migrates it on the spot (in its own atomic write), while index
   * queries, `find()`, `all()`, `list()`, `count()` and writes of the model wait for the pass.
   */
  migrate?: 'open' | 'lazy'
  /** Called after each batch of a migration pass. */
  onMigrationProgress?: (progress: MigrationProgress) => void
  /**
   * A model whose store was written by a newer version of it (the app was downgraded): `'refuse'`
   * (default) fails with `VersionError`; `'read-only'` lets the app read its objects, and refuses
   * every write to it with `ReadOnlyError`.
   */
  newerVersions?: 'refuse' | 'read-only'
  /**
   * Stores records and raw data compressed (node:zlib), before any encryption. Chosen when a store
   * is made: a compressed store must be opened with it, and a store holding uncompressed records is
   * refused with it. Raw data already compressed (by its extension, or a trial of its first 64 KiB)
   * is stored as it is.
   */
  compression?: 'brotli' | 'gzip'
  /**
   * Encrypts the store (a new one) or opens an encrypted one: `key` is a 32-byte Uint8Array or a
   * passphrase. See the README's Encryption section for what is encrypted and what is not.
   */
  encryption?: {
    key: Uint8Array | string
    /**
     * Indexes (`'collection.index'`) whose keys stay in order, in the clear, so that ranges, prefixes
     * and sorting work on them; every other index stores keyed hashes of its keys (equality only).
     * The store keeps the list: left out, the store's is used; changed, the indexes that change form
     * are rebuilt at their model's first use.
     */
    ordered?: string[]
  }
}

/** The encrypted engine of a database (under its compression, if any). */
function encryptedEngineOf(engine: Engine, method: string): EncryptedEngine {
  const sealed = engine instanceof CompressedEngine ? engine.inner : engine
  if (!(sealed instanceof EncryptedEngine)) throw new ArgumentError(`${method}(): ${engine.describe()} is not encrypted (open it with { encryption: { key } } to encrypt a new store)`)
  return sealed
}

/** `encryption.ordered`, checked; undefined keeps the list the store was written with. */
function orderedIndexes(encryption: { ordered?: unknown }): string[] | undefined {
  const ordered = encryption.ordered
  if (ordered === undefined) return undefined
  if (!Array.isArray(ordered) || !ordered.every((name) => typeof name === 'string' && /^[^.]+\..+$/.test(name))) {
    throw new ArgumentError(`encryption.ordered takes an array of 'collection.index' names, got ${JSON.stringify(ordered)}`)
  }
  return ordered
}

/** The key of `encryption`, checked (a passphrase that is not empty, or exactly 32 bytes). */
function encryptionKey(encryption: unknown): Uint8Array | string {
  const key = (encryption as { key?: unknown } | null)?.key
  if (typeof key === 'string' ? key.length === 0 : !(key instanceof Uint8Array) || key.length !== 32) {
    throw new ArgumentError('encryption: { key } takes a 32-byte Uint8Array or a non-empty passphrase')
  }
  return key as Uint8Array | string
}

export interface ChangeStreamOptions {
  /** Events an iterator holds for a consumer that is behind before it gets `OverflowError` (default 10,000). */
  buffer?: number
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
  /**
   * The object's properties went back to its stored record: drop the feature's unsaved state too,
   * except for members in `keep` (changed by another running transaction, which owns them).
   */
  reverted?(obj: StoredObject, keep?: Set<string>): void
  /** Whether the object holds unsaved state of this feature (a relation change, data not saved yet). */
  hasChanges?(obj: StoredObject): boolean
  /** How to put back, as they are now, those of these members that this feature manages. */
  savepoint?(obj: StoredObject, members: string[]): MemberUndo[]
}

/**
 * The features every database runs, in this order. Coherence comes first (on a store shared by
 * several processes it takes the write lock before any feature reads the store), then migrations
 * (they drop the links of relations a model no longer has), indexes last: their keys are computed from the records as the
 * other features leave them (links dropped, change times moved); the change feed hears of a write
 * once every other feature has.
 */
const FEATURES: Array<new (db: Database) => Feature> = [Coherence, Migrations, RelationFeature, RawFeature, IndexMaintainer, ChangeFeed]

const DEFAULT_CACHE_MAX = 1000

/** Engines serving an open database: a second database on one engine would bypass its write queue. */
const enginesInUse = new WeakSet<Engine>()

/** Methods that only read: allowed while close() lets live queries finish. */
const READS = new Set(['get', 'has', 'count', 'list', 'all'])

/**
 * Where the engine reads in the background (`supports.backgroundReads`), a batch of more missing
 * objects than this is read through `getRecords`: the store reads it while the main thread decodes
 * the batch before (an index stream loads its next batch while the app takes the last one). Smaller
 * batches, the first of every stream among them, are read synchronously, without the trip to the
 * thread pool. LevelEngine at 1M articles: author lookups 13-23% and 1% ranges 24-29% faster
 * (`bench/peers/steady-reads.ts`).
 */
const SYNC_BATCH_MAX = 128

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
  /** Set when close() is called: new calls are refused, writes issued before still run. */
  #closing: Promise<void> | undefined
  /** Set while close() lets live queries finish their last re-runs. */
  #settling = false
  #closed = false
  /** Transactions whose function or commit is still running: close() waits for them. */
  readonly #running = new Set<Promise<unknown>>()
  /** import() and ensure() of one oid run one after another. */
  readonly #keys = new Map<string, Promise<unknown>>()
  readonly #log = new WriteLog()
  readonly #work: UnitOfWork
  /** Saves and removes outside transactions, written together while they wait for the queue. */
  readonly #groups: SaveGroups
  /** The engine reads records synchronously (`getRecordSync`): reads skip the promise and the thread pool. */
  readonly #syncReads: boolean
  /** The largest batch `loadMany` reads synchronously: SYNC_BATCH_MAX where the engine reads in the background. */
  readonly #syncBatchMax: number
  readonly #migrations: Migrations
  /** open() returned: models registered from now on are registered by use(). */
  #opened = false

  private constructor(engine: Engine, options: DatabaseOptions) {
    this.engine = engine
    this.options = options
    const max = options.cache?.max ?? DEFAULT_CACHE_MAX
    if (!Number.isInteger(max) || max < 0) throw new ArgumentError(`cache.max must be a non-negative integer, got ${max}`)
    this.#syncReads = engine.supports.syncReads === true
    this.#syncBatchMax = !this.#syncReads ? 0 : engine.supports.backgroundReads === true ? SYNC_BATCH_MAX : Infinity
    this.identity = new IdentityMap(max, this.#syncReads ? (state) => this.#reread(state) : undefined)
    this.features = FEATURES.map((Feature) => new Feature(this))
    this.#work = new UnitOfWork(this, this.#log)
    this.#groups = new SaveGroups(
      (write) => void this.#queue(write),
      (items) => this.#work.write(items),
    )
    this.#migrations = this.#feature(Migrations)
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
    if (options.migrate !== undefined && options.migrate !== 'open' && options.migrate !== 'lazy') {
      throw new ArgumentError(`Database.open(): migrate must be 'open' or 'lazy', got ${JSON.stringify(options.migrate)}`)
    }
    if (options.newerVersions !== undefined && options.newerVersions !== 'refuse' && options.newerVersions !== 'read-only') {
      throw new ArgumentError(`Database.open(): newerVersions must be 'refuse' or 'read-only', got ${JSON.stringify(options.newerVersions)}`)
    }
    if (options.engine !== undefined && enginesInUse.has(options.engine)) {
      throw new ArgumentError(
        `Database.open(): ${options.engine.describe()} already serves an open database; close that one first, or give each database its own engine (two write queues on one store would race)`,
      )
    }
    const given = options.engine ?? new LevelEngine(options.path!)
    const sealed = options.encryption === undefined ? given : new EncryptedEngine(given, encryptionKey(options.encryption), { ordered: orderedIndexes(options.encryption) })
    // Compression before encryption: the compressed engine is the outer one.
    const engine = options.compression === undefined ? sealed : new CompressedEngine(sealed, options.compression)
    enginesInUse.add(given)
    let db: Database | undefined
    try {
      await engine.open()
      // One read for both marks, only where a wrapper does not already handle them.
      const [slot, compressed] = engine === given ? await given.getMany([KEY_SLOT, COMPRESSION_MARK]) : engine instanceof CompressedEngine ? [undefined, undefined] : [undefined, await engine.get(COMPRESSION_MARK)]
      if (slot !== undefined && !(given instanceof EncryptedEngine)) {
        throw new KeyError('WRONG_KEY', `${engine.describe()} is encrypted: open it with Database.open({ encryption: { key } })`)
      }
      if (compressed !== undefined && !(given instanceof CompressedEngine)) {
        throw new ArgumentError(`${engine.describe()} is compressed (${String(compressed)}): open it with Database.open({ compression: ${JSON.stringify(compressed)} })`)
      }
      db = new Database(engine, options)
      for (const feature of db.features) await feature.open?.()
      db.use(...(options.models ?? []))
      if (options.migrate !== 'lazy') for (const meta of db.models()) await db.#migrations.register(meta)
      db.#opened = true
      return db
    } catch (err) {
      if (db !== undefined) await db.#abandon()
      enginesInUse.delete(given)
      await engine.close()
      throw err
    }
  }

  /** After a failed open: lets a migration write in flight end, and frees the models for another database. */
  async #abandon(): Promise<void> {
    this.#closed = true
    await this.#migrations.stop()
    await this.#writes
    for (const meta of this.#models.values()) if (meta.db === this) unbind(meta)
  }

  /** Registers more model classes; returns the database. */
  use(...models: Function[]): this {
    this.#assertOpen('use')
    for (const ctor of models) {
      const meta = typeof ctor === 'function' ? metaOf(ctor) : undefined
      if (meta === undefined) throw new ModelDefinitionError(`db.use(): ${typeof ctor === 'function' ? ctor.name : String(ctor)} is not a model class: decorate it with @Model(), or pass the class defineModel() returned`)
      if (meta.db === this) continue
      if (this.#opened && meta.versioning.formerly.length > 0) {
        // Live instances linking to the objects it moves would keep the old collection in their records.
        throw new ArgumentError(`db.use(${meta.ctor.name}): a model with formerly moves objects of other collections, which must happen before any object is read: give it to Database.open({ models })`)
      }
      if (meta.db !== undefined) {
        throw new AlreadyRegisteredError(`${meta.ctor.name} is already registered in another open database; close it first (a model is bound to one open database at a time)`)
      }
      const other = this.#models.get(meta.collection)
      if (other !== undefined && other !== meta) {
        throw new ModelDefinitionError(`${meta.ctor.name} and ${other.ctor.name} both use the collection "${meta.collection}"; give one @Model({ collection })`)
      }
      for (const registered of this.#models.values()) {
        const [mover, moved] = meta.versioning.formerly.includes(registered.collection) ? [meta, registered] : registered.versioning.formerly.includes(meta.collection) ? [registered, meta] : []
        if (mover !== undefined) {
          throw new ModelDefinitionError(`${mover.ctor.name} lists "${moved!.collection}" in formerly, but ${moved!.ctor.name} uses that collection: one collection, one model`)
        }
      }
      this.#models.set(meta.collection, meta)
      bind(meta, this)
      void this.#migrations.register(meta).catch(() => {}) // its first use waits for it, and throws its error
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

  /**
   * One event per committed write of this database (a save, a remove, a transaction), in commit
   * order, listing each object it created, changed or removed: async-iterable, `subscribe()`, and
   * an Observable. `buffer`: how many events an iterator may hold for a consumer that is behind
   * (default 10,000) before it gets `OverflowError`.
   */
  changes(options: ChangeStreamOptions = {}): ChangeStream<ChangeEvent> {
    return this.changesWhere(undefined, options)
  }

  /**
   * `changes()` narrowed to the objects of one collection, or to one object: events left empty are
   * skipped. On a store shared with other processes, their commits are read back only for what
   * some stream or live query listens to.
   */
  changesWhere(scope: ChangeScope | undefined, options: ChangeStreamOptions = {}): ChangeStream<ChangeEvent> {
    this.#assertOpen('changes')
    if (options === null || typeof options !== 'object') throw new ArgumentError('changes() takes { buffer? }')
    const buffer = options.buffer ?? DEFAULT_BUFFER
    if (!Number.isInteger(buffer) || buffer < 1) throw new ArgumentError(`changes(): buffer must be a positive integer, got ${buffer}`)
    const feed = feedOf(this)
    return new ChangeStream((deliver, end) => feed.listen(deliver, end, scope), buffer)
  }

  /**
   * Changes the key of an encrypted store: the data key is wrapped with `newKey` in one atomic
   * write, so it is instant whatever the store's size, and from then on only `newKey` opens it.
   */
  async rekey(newKey: Uint8Array | string): Promise<void> {
    this.#assertOpen('rekey')
    const engine = encryptedEngineOf(this.engine, 'rekey')
    encryptionKey({ key: newKey })
    await this.#enqueue(() => engine.rekey(newKey))
  }

  /**
   * Re-encrypts the whole store under a new random data key (when the data key may have leaked, not
   * only the key that wraps it), wrapped by `newKey` if given, else by the current key. Writes wait
   * while it runs; reads go on. Crash-safe: killed at any moment, the store opens with exactly one of
   * the two keys, nothing lost, and `reencrypt()` again takes up where it stopped. Indexes stored
   * with keyed hashes are rebuilt (their keys were hashed with the old data key).
   */
  async reencrypt(newKey?: Uint8Array | string): Promise<void> {
    this.#assertOpen('reencrypt')
    const engine = encryptedEngineOf(this.engine, 'reencrypt')
    if (newKey !== undefined) encryptionKey({ key: newKey })
    await this.#enqueue(async () => {
      let rebuilt: Promise<unknown> = Promise.resolve()
      // Index queries wait from the moment the keys switch: the hashed indexes' entries are stale until rebuilt.
      await engine.reencrypt(newKey, (hashed) => {
        const metas = this.models().filter((meta) => [...meta.indexes.keys()].some((index) => hashed.includes(`${meta.collection}.${index}`)))
        rebuilt = Promise.all(this.features.map((feature) => feature.reindex?.(metas)))
      })
      await rebuilt
    })
  }

  /** Everything written so far is durable on disk. */
  async sync(): Promise<void> {
    this.#assertOpen('sync')
    await this.#writes
    await this.engine.sync()
  }

  /**
   * Lets every write issued before it finish (saves, removes, and transactions already running),
   * then unbinds the models and closes the engine. Calls made after it throw ClosedError.
   */
  close(): Promise<void> {
    if (this.#closing !== undefined) return this.#closing
    if (this.#transaction() !== undefined) {
      return Promise.reject(new ArgumentError('db.close() inside a transaction of that database would wait for the transaction forever; close it after the transaction'))
    }
    this.#closing = (async () => {
      await this.#migrations.stop()
      while (this.#running.size > 0) await Promise.allSettled([...this.#running])
      await this.#writes
      // Live queries re-run for the writes above (reads only) before they end.
      this.#settling = true
      try {
        await feedOf(this).settle()
      } finally {
        this.#settling = false
      }
      feedOf(this).close()
      this.#closed = true
      for (const meta of this.#models.values()) if (meta.db === this) unbind(meta)
      this.identity.rehydrateAll()
      this.identity.clear()
      try {
        await this.engine.close()
      } finally {
        enginesInUse.delete(this.engine)
      }
    })()
    return this.#closing
  }

  get closed(): boolean {
    return this.#closed
  }

  /** A number that changes whenever the collection's records or index entries change (what queries keep about them is then stale). */
  lastChanged(collection: string): number {
    return this.#log.lastChanged(collection)
  }

  /**
   * The collection's records or index entries changed outside a committed write of this database (an
   * index rebuilt, another process's commit heard): what queries keep about it is stale.
   */
  changedOutside(collection: string): void {
    this.#log.rewritten(collection)
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
   * one atomic batch when fn resolves. Changes made inside belong to the transaction until it ends
   * (see ownership.ts): if fn throws or the write is refused, nothing is written, exactly those
   * changes are undone on the live instances, and the error is rethrown.
   */
  async transaction<R>(fn: () => Promise<R> | R): Promise<R> {
    if (this.#transaction() !== undefined) return fn() // nested: joins the outer one
    this.#assertOpen('transaction')
    const tx = new Transaction(this)
    const run = this.#runTransaction(tx, fn)
    const tracked = run.catch(() => {})
    this.#running.add(tracked)
    try {
      return await run
    } finally {
      this.#running.delete(tracked)
    }
  }

  async #runTransaction<R>(tx: Transaction, fn: () => Promise<R> | R): Promise<R> {
    let result: R
    running.count++
    let failed = true
    try {
      result = await currentTransaction.run(tx, fn)
      failed = false
    } finally {
      tx.done = true
      // AsyncLocalStorage slows every promise while enabled: keep it enabled only during transactions.
      if (--running.count === 0) currentTransaction.disable()
      if (failed) await this.#rollBack(tx)
    }
    const items: WriteItem[] = []
    for (const obj of tx.saves) items.push({ obj, remove: false, times: tx.times.get(obj), tx })
    for (const obj of tx.seen) items.push({ obj, remove: false, ifChanged: true, tx })
    for (const obj of tx.removes) items.push({ obj, remove: true, tx })
    await this.#commit(tx, items)
    return result
  }

  /** Writes a transaction's items in one batch, then frees what it owned; undoes its changes if refused. */
  async #commit(tx: Transaction, items: WriteItem[]): Promise<void> {
    try {
      if (this.#migrations.restricted) await this.#writable(new Set(items.map((item) => item.obj[STATE].meta)))
      await this.#enqueue(async () => {
        await this.#work.write(items)
        this.#work.release(tx)
      })
    } catch (err) {
      await this.#rollBack(tx)
      throw err
    }
  }

  /** After a failed transaction: see `UnitOfWork.undo`. Runs in the write queue, so no write of them is in flight. */
  async #rollBack(tx: Transaction): Promise<void> {
    await this.#enqueue(async () => this.#work.undo(tx)).catch(() => {})
  }

  /**
   * Puts the object back as stored (`obj.revert()`), after the writes already queued. Changes that
   * another running transaction made stay: they are that transaction's to commit or undo.
   */
  async revert(obj: StoredObject): Promise<void> {
    this.#assertOpen('revert')
    const tx = this.#transaction()
    await this.#enqueue(async () => {
      const state = obj[STATE]
      assertOwn(this, state)
      if (state.record === undefined) {
        throw new NotFoundError(`${state.meta.ctor.name} ${state.oid} ${state.removed ? 'was removed' : 'was never saved'}: there is no stored state to revert to`)
      }
      const keep = foreignMembers(state, tx)
      if (keep === undefined) applyRecord(state, state.record)
      else revertProperties(state, keep)
      for (const feature of this.features) feature.reverted?.(obj, keep)
      this.#work.settle(obj)
    })
    if (tx !== undefined) {
      tx.saves.delete(obj)
      tx.times.delete(obj)
    }
  }

  /**
   * Assigns props and saves (`obj.update()`). Outside a transaction it is one: a refused update
   * (a wrong relation target, a ValidationError, a unique key) leaves nothing of itself on the
   * instance. Inside one, the assignment is undone if it throws, and the transaction writes it.
   */
  async update<T extends StoredObject>(obj: T, props: Props<T>): Promise<void> {
    this.#assertOpen('update')
    if (this.#transaction() !== undefined) {
      this.#guarded(obj, props !== null && typeof props === 'object' ? Object.keys(props) : [], () => assignProps(obj, props))
      await obj.save()
      return
    }
    if (obj[STATE].meta.kind === 'raw') {
      // A raw object's save() streams data first: the full transaction runs it.
      return this.transaction(async () => {
        assignProps(obj, props)
        await obj.save()
      })
    }
    // A transaction of one write, without AsyncLocalStorage: the assignment is synchronous.
    const tx = new Transaction(this)
    running.count++
    running.claimant = tx
    try {
      assignProps(obj, props)
    } catch (err) {
      this.#work.undo(tx) // synchronous: nothing of it is in flight
      throw err
    } finally {
      running.claimant = undefined
      running.count--
    }
    await this.#commit(tx, [{ obj, remove: false, tx }])
  }

  /** Runs fn, which changes these members of obj; if it throws, they go back as they were. */
  #guarded<T>(obj: StoredObject, members: string[], fn: () => T): T {
    const state = obj[STATE]
    const values = members.filter((m) => state.meta.properties.has(m)).map((m) => [m, state.values[m]] as const)
    const undos = this.features.flatMap((f) => f.savepoint?.(obj, members) ?? [])
    try {
      return fn()
    } catch (err) {
      for (const [m, v] of values) state.values[m] = v
      for (const undo of undos) undo()
      throw err
    }
  }

  // ---- reads -------------------------------------------------------------------------------

  /** The live instance of (meta, oid), loading it if needed; undefined if not stored. */
  load(meta: ModelMeta, oid: string): Promise<StoredObject | undefined> {
    if (this.#closed) return Promise.reject(new ClosedError('The database is closed: cannot call get()'))
    if (this.#migrations.waiting) {
      const gate = this.#migrations.gate(meta)
      if (gate !== undefined) return this.options.migrate === 'lazy' ? this.#migrations.readDuringPass(meta, oid) : gate.then(() => this.load(meta, oid))
    }
    const live = this.identity.lookup(meta.collection, oid)
    if (live !== undefined) {
      if (running.count > 0) this.#transaction()?.see(live)
      return jobIsFull() ? endJob().then(() => live) : Promise.resolve(live)
    }
    this.identity.reads.store++
    return this.#syncReads ? this.#loadNow(meta, oid) : this.#loadStored(meta, oid)
  }

  /** `#loadStored`, reading synchronously: no write can commit during the read, unless it is in flight already. */
  #loadNow(meta: ModelMeta, oid: string): Promise<StoredObject | undefined> {
    const tx = this.#transaction()
    const created = tx?.findCreated(meta.collection, oid)
    if (created !== undefined) return Promise.resolve(created)
    if (this.#log.inflight(meta.collection, oid)) return this.#loadStored(meta, oid) // waits for the write
    let obj: StoredObject | undefined
    try {
      const record = this.engine.getRecordSync(meta.collection, oid)
      obj = record === undefined ? undefined : this.instantiate(meta, oid, record)
    } catch (err) {
      return Promise.reject(err)
    }
    if (obj !== undefined) tx?.see(obj)
    return jobIsFull() ? endJob().then(() => obj) : Promise.resolve(obj)
  }

  async #loadStored(meta: ModelMeta, oid: string): Promise<StoredObject | undefined> {
    const tx = this.#transaction()
    const created = tx?.findCreated(meta.collection, oid)
    if (created !== undefined) return created
    const obj = await this.#readOne(meta, oid, true)
    if (obj !== undefined) tx?.see(obj)
    if (jobIsFull()) await endJob()
    return obj
  }

  /** Reads (meta, oid) from the engine, again if a write changed it while the read was in flight. */
  async #readOne(meta: ModelMeta, oid: string, recent: boolean): Promise<StoredObject | undefined> {
    for (;;) {
      const since = this.#log.beginRead()
      try {
        const record = await this.engine.getRecord(meta.collection, oid)
        const obj = this.#fromRead(meta, oid, record, since, recent)
        if (obj !== null) return obj
      } finally {
        this.#log.endRead()
      }
      await this.#log.idle()
    }
  }

  /**
   * The live instance for a record a read brought back: the existing instance, or a new one; null
   * when the object was written after the read began (the record may be stale: read it again).
   */
  #fromRead(meta: ModelMeta, oid: string, record: unknown, since: number, recent: boolean): StoredObject | undefined | null {
    const live = this.identity.get(meta.collection, oid)
    if (live !== undefined) return live
    if (this.#log.stale(meta.collection, oid, since)) return null
    return record === undefined ? undefined : this.instantiate(meta, oid, record, recent)
  }

  async loadMany(meta: ModelMeta, oids: string[]): Promise<(StoredObject | undefined)[]> {
    this.#assertOpen('get')
    if (this.#migrations.waiting) await this.#migrations.gate(meta)
    const result: (StoredObject | undefined)[] = new Array(oids.length)
    let missing: number[] = []
    for (let i = 0; i < oids.length; i++) {
      result[i] = this.identity.lookup(meta.collection, oids[i]!)
      if (result[i] === undefined) missing.push(i)
    }
    this.identity.reads.store += missing.length
    if (missing.length > 0 && missing.length <= this.#syncBatchMax) missing = this.#readNow(meta, oids, missing, result)
    if (missing.length > 0) {
      const again: number[] = []
      const since = this.#log.beginRead()
      try {
        const records = await this.engine.getRecords(meta.collection, missing.map((i) => oids[i]!))
        missing.forEach((i, n) => {
          const obj = this.#fromRead(meta, oids[i]!, records[n], since, true)
          if (obj === null) again.push(i)
          else result[i] = obj
        })
      } finally {
        this.#log.endRead()
      }
      for (const i of again) result[i] = await this.#readOne(meta, oids[i]!, true)
    }
    const tx = this.#transaction()
    if (tx !== undefined) for (const obj of result) if (obj !== undefined) tx.see(obj)
    if (jobIsFull()) await endJob()
    return result
  }

  /**
   * Reads the objects at positions `missing` of `oids` synchronously into `result`. Returns the
   * positions left to read asynchronously: those a batch being written holds, and, from the first
   * read that fails on, the rest (the asynchronous read gives a damaged record as missing).
   */
  #readNow(meta: ModelMeta, oids: string[], missing: number[], result: (StoredObject | undefined)[]): number[] {
    const later: number[] = []
    for (let n = 0; n < missing.length; n++) {
      const i = missing[n]!
      const oid = oids[i]!
      if (this.#log.inflight(meta.collection, oid)) {
        later.push(i)
        continue
      }
      let record: unknown
      try {
        record = this.engine.getRecordSync(meta.collection, oid)
      } catch {
        return later.concat(missing.slice(n))
      }
      if (record !== undefined) result[i] = this.instantiate(meta, oid, record)
    }
    return later
  }

  /** The stored record of a dehydrated instance (identity-map.ts), read again. */
  #reread(state: ObjectState): ReturnType<Reload> {
    const record = this.engine.getRecordSync(state.meta.collection, state.oid)
    return record === undefined ? undefined : readStored(state.meta, state.oid, record)
  }

  /** The live instance for a stored record: the existing one, or a new one registered in the identity map. */
  instantiate(meta: ModelMeta, oid: string, record: unknown, recent = true): StoredObject {
    const live = this.identity.get(meta.collection, oid)
    if (live !== undefined) return live
    const obj = recordInstance(meta, oid, record)
    obj[STATE].db = this
    this.identity.add(meta.collection, oid, obj, recent)
    return obj
  }

  async has(meta: ModelMeta, oid: string): Promise<boolean> {
    this.#assertOpen('has')
    if (this.#migrations.waiting) await this.#migrations.gate(meta)
    if (this.identity.get(meta.collection, oid) !== undefined) return true
    return this.engine.hasRecord(meta.collection, oid)
  }

  async count(meta: ModelMeta): Promise<number> {
    this.#assertOpen('count')
    if (this.#migrations.waiting) await this.#migrations.gate(meta)
    return this.engine.countRecords(meta.collection)
  }

  /**
   * Every stored object of the model in oid (creation) order, streamed. The engine's iterator reads
   * a snapshot: an object written since it began is read again, so a removed one is skipped and a
   * changed one comes with its new values.
   */
  async *all(meta: ModelMeta): AsyncGenerator<StoredObject> {
    this.#assertOpen('all')
    if (this.#migrations.waiting) await this.#migrations.gate(meta)
    const since = this.#log.beginRead()
    try {
      for await (const [oid, record] of this.engine.records(meta.collection)) {
        const obj = this.#fromRead(meta, oid, record, since, false)
        const current = obj === null ? await this.#readOne(meta, oid, false) : obj
        if (current !== undefined) yield current
        if (jobIsFull()) await endJob()
      }
    } finally {
      this.#log.endRead()
    }
  }

  async list(meta: ModelMeta, options: ListOptions = {}): Promise<StoredObject[]> {
    this.#assertOpen('list')
    if (this.#migrations.waiting) await this.#migrations.gate(meta)
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

  /**
   * The stored object, or a new one saved with that oid. Calls for one oid run one after another, so
   * they share one instance; in two overlapping transactions the second to commit a new object gets
   * ConflictError.
   */
  async ensure(meta: ModelMeta, oid: string, props?: object): Promise<StoredObject> {
    this.#assertOpen('ensure')
    checkName('id', oid)
    return this.#oneAtATime(meta, oid, async () => {
      const existing = await this.load(meta, oid)
      if (existing !== undefined) return existing
      const obj = createWithOid(meta, oid, props)
      try {
        await obj.save()
      } catch (err) {
        this.#transaction()?.forget(obj)
        throw err
      }
      return obj
    })
  }

  /** Runs fn after every earlier call for the same (meta, oid) settled. */
  async #oneAtATime<T>(meta: ModelMeta, oid: string, fn: () => Promise<T>): Promise<T> {
    const key = meta.collection + '\0' + oid
    const run = (this.#keys.get(key) ?? Promise.resolve()).then(fn, fn)
    const tail = run.catch(() => {})
    this.#keys.set(key, tail)
    try {
      return await run
    } finally {
      if (this.#keys.get(key) === tail) this.#keys.delete(key)
    }
  }

  // ---- writes ------------------------------------------------------------------------------

  async save(obj: StoredObject, times?: Record<string, number>): Promise<void> {
    this.#assertOpen('save')
    const tx = this.#transaction()
    if (tx !== undefined) return tx.save(obj, times)
    if (this.#migrations.restricted) await this.#writable([obj[STATE].meta])
    await this.#groups.add({ obj, remove: false, times })
  }

  async remove(obj: StoredObject): Promise<void> {
    this.#assertOpen('remove')
    const tx = this.#transaction()
    if (tx !== undefined) {
      assertOwn(this, obj[STATE])
      return tx.remove(obj)
    }
    if (this.#migrations.restricted) await this.#writable([obj[STATE].meta])
    await this.#groups.add({ obj, remove: true })
  }

  exportObject(obj: StoredObject, options: ExportOptions): Exported {
    return exportObject(this, obj, options)
  }

  /**
   * Merges an export into the stored object (or a new one) and saves it. Imports of one oid run one
   * after another; outside a transaction an import is one, so a refused import leaves nothing of
   * itself on the live instance.
   */
  async importObject(meta: ModelMeta, exported: Exported): Promise<StoredObject> {
    this.#assertOpen('import')
    const oid = exported !== null && typeof exported === 'object' && typeof exported.oid === 'string' ? exported.oid : undefined
    const run = async (): Promise<StoredObject> => {
      if (this.#transaction() === undefined) return this.transaction(() => this.#importInTransaction(meta, exported, oid))
      return this.#importInTransaction(meta, exported, oid)
    }
    return oid === undefined ? run() : this.#oneAtATime(meta, oid, run)
  }

  async #importInTransaction(meta: ModelMeta, exported: Exported, oid: string | undefined): Promise<StoredObject> {
    const existing = oid !== undefined ? await this.load(meta, oid) : undefined
    let created: StoredObject | undefined
    const merge = () => importInto(meta, existing, exported, (id) => (created = createWithOid(meta, id, undefined)))
    let merged: ReturnType<typeof merge>
    try {
      merged = existing === undefined ? merge() : this.#guarded(existing, [...meta.properties.keys(), ...meta.relations.keys()], merge)
    } catch (err) {
      // A new object made for the import was enlisted in the transaction when constructed.
      if (created !== undefined) this.#transaction()?.forget(created)
      throw err
    }
    await this.save(merged.obj, merged.times)
    return merged.obj
  }

  /** Runs a write after every earlier one; a failed write does not stop later ones. */
  /** Writes a batch of a migration pass: through the write queue, without waiting for the models' migrations (it is part of them). */
  writeMigrated(items: WriteItem[]): Promise<void> {
    return this.#enqueue(() => this.#work.write(items))
  }

  /** Waits until every model of these items may be written (its migration done), and refuses read-only ones. */
  async #writable(metas: Iterable<ModelMeta>): Promise<void> {
    for (const meta of metas) {
      if (this.#migrations.waiting) await this.#migrations.gate(meta)
      this.#migrations.assertWritable(meta)
    }
  }

  #enqueue<T>(write: () => Promise<T>): Promise<T> {
    this.#groups.close()
    return this.#queue(write)
  }

  /** `#enqueue` for a group of saves, which stays open to later saves. */
  #queue<T>(write: () => Promise<T>): Promise<T> {
    const run = this.#writes.then(write)
    this.#writes = run.catch(() => {})
    return run
  }

  /** The running feature of that class (by class, not by its place in FEATURES). */
  #feature<F extends Feature>(kind: new (db: Database) => F): F {
    return this.features.find((feature): feature is F => feature instanceof kind)!
  }

  #transaction(): Transaction | undefined {
    return transactionOf(this)
  }

  #registered(ctor: Function): ModelMeta {
    const meta = metaOf(ctor)
    if (meta === undefined || meta.db !== this) throw new NotRegisteredError(`${ctor?.name ?? ctor} is not registered in this database`)
    return meta
  }

  /**
   * Refuses new calls once close() was called, except inside a transaction that was already running,
   * and reads while close() lets live queries finish.
   */
  #assertOpen(method: string): void {
    if (this.#closing !== undefined && !(this.#settling && READS.has(method)) && (this.#closed || this.#transaction() === undefined)) {
      throw new ClosedError(`The database is closed: cannot call ${method}()`)
    }
  }

  // ---- operating the store (src/tools) -------------------------------------------------------

  /** Per collection: objects, approximate bytes, index entries and distinct keys; the identity map's sizes. */
  stats(): Promise<StoreStats> {
    this.#assertOpen('stats')
    return databaseStats(this)
  }

  /** Runs `fn` in the write queue, after every write issued before it (for features that change live instances). */
  afterWrites<T>(fn: () => Promise<T>): Promise<T> {
    return this.#enqueue(fn)
  }

  /**
   * On a store several processes share (PostgresEngine): resolves once every commit another process
   * made before the call shows on this process's live instances and its change events are delivered.
   * Elsewhere it resolves at once.
   */
  async catchUp(): Promise<void> {
    this.#assertOpen('catchUp')
    await this.#feature(Coherence).catchUp()
  }

  /** Checks indexes, links, raw data and records against each other and the models; `repair` fixes what can be derived. */
  verify(options: VerifyOptions = {}): Promise<VerifyReport> {
    this.#assertOpen('verify')
    return verifyDatabase(this, options, (write) => this.#enqueue(write))
  }

  /** A consistent dump of the store, taken while the app goes on writing where the engine has snapshots, to a file, a directory or a stream. */
  backup(target: string | Writable, options: DumpOptions = {}): Promise<BackupSummary> {
    this.#assertOpen('backup')
    return backupDatabase(this, target, options, (write) => this.#enqueue(write))
  }
}

// The class refers to itself (open() makes one), so a bundler may name it `_Database`: it keeps its export's name.
Object.defineProperty(Database, 'name', { value: 'Database' })

/** A new, unsaved instance with a given oid (for ensure and import). */
function createWithOid(meta: ModelMeta, oid: string, props: object | undefined): StoredObject {
  const obj = withOid(oid, () => new (meta.ctor as new (props?: object) => StoredObject)(props))
  obj[STATE].extra.chosenOid = true
  return obj
}

modelHooks.constructed = (obj) => {
  const tx = transactionOf(obj[STATE].meta.db)
  if (tx !== undefined) tx.save(obj)
}

modelHooks.changed = (obj) => {
  const state = obj[STATE]
  const db = state.meta.db as Database | undefined
  if (db === undefined) return
  if (state.record !== undefined) db.identity.pin(obj)
  const tx = transactionOf(db)
  if (tx !== undefined) tx.save(obj)
}
