import type { RootDatabase, Transaction } from 'lmdb'
import { ArgumentError, CorruptionError, InvalidKeyError, InvalidPathError } from '../../errors.js'
import { DAMAGED, DamageList } from '../damage-list.js'
import { Engine } from '../engine.js'
import type { DamagedRecord, EngineSnapshot, EngineSupports, Range, Source, StagedRaw, StageRawOptions, WriteOp } from '../engine.js'
import { ENTRY, ENTRY_END, FORMAT_KEY, pointerKey, recordKey, recordPrefix, SHAPES_KEY, stagingKey } from '../level/level-keys.js'
import type { RawInfo } from '../level/level-raw.js'
import { decodeValue, encodeValue, PLAIN, type Named } from '../level/msgpack-codec.js'
import { RecordShapes } from '../level/record-shapes.js'
import { decodeSealed, encodeSealed } from '../level/sealed-values.js'
import { lmdbError } from './lmdb-errors.js'
import { lmdbRange, overLimit, utf8Keys, type LmdbRange } from './lmdb-keys.js'
import { LmdbRaw } from './lmdb-raw.js'
import { checkStorePath } from './lmdb-store-files.js'
import { OpenReaders } from './open-readers.js'
import { OwnerLock } from './owner-lock.js'
import { InFlight } from '../in-flight.js'

type Db = RootDatabase<Buffer, string | Uint8Array>

/**
 * Read methods of the lmdb-js database under an LmdbEngine, for inspecting a store. Declared here so
 * that the package's declarations do not depend on lmdb's own.
 */
export interface LmdbInspector {
  /** The keys in order, from `start` (inclusive) to `end` (exclusive). */
  getKeys(range?: { start?: string; end?: string; limit?: number }): Iterable<string>
  /** The stored bytes of a key. */
  getBinary(key: string): Uint8Array | undefined
}

export interface LmdbEngineOptions {
  /** Bytes per stored chunk of raw data (default 256 KiB, as on the LevelEngine). */
  rawChunkSize?: number
  /**
   * Called with each record found damaged by a read (a value failing its checksum or not decoding).
   * `damaged()` lists them all, until the record is written or deleted again. Should not throw.
   */
  onDamage?: (damage: DamagedRecord) => void
  /**
   * Bytes of address space the store's file is mapped over when it opens (default 16 GiB; on
   * Windows, lmdb-js's 128 KiB). The file takes only what it holds, and the map grows past this
   * size when the store outgrows it; but lmdb-js keeps each earlier map until the store closes,
   * and the pages read or written through them stay resident: a store grown from 128 KiB to
   * 130 MB kept 275 MB of its file in RSS. Lower it where the process's address space is limited.
   */
  mapSize?: number
}

/**
 * The layout of an LmdbEngine store: the LevelEngine's keys and sealed values, in one LMDB file.
 * Format 2 writes records with the store's table of record shapes (record-shapes.ts); format 1, with
 * records as plain msgpack maps, is still read and written as it is.
 */
const FORMAT = 2
const FORMATS = [1, 2]
const DEFAULT_CHUNK = 256 * 1024
const DEFAULT_MAP_SIZE = 16 * 2 ** 30
/**
 * Write transactions: abortable (1), committed before `transactionSync` returns (2), and, where
 * lmdb-js overlaps syncs (not on Windows), with the flush outside the write lock (0x10000). The flush
 * still runs before `transactionSync` returns, on the committing thread (lmdb-js's LMDB releases the
 * lock, then syncs: strace counts one fdatasync per commit), so an acknowledged write survives a
 * power loss; each write costs one disk flush (bench/single-saves.ts). Without the flag the flush
 * runs inside the lock; nothing in lmdb-js defers it without giving up crash safety (MDB_NOSYNC can
 * leave a torn store after a power loss).
 */
export const TXN_FLUSH_LATER = 0x10003
const TXN_FLUSH_NOW = 0x3
/**
 * lmdb is loaded when an engine opens, so that apps that never use LMDB never load its native addon;
 * named through a constant, which bundlers do not follow, so that bundles leave it out: like
 * classic-level, it loads its addon from node_modules at run time.
 */
const LMDB_PACKAGE = 'lmdb'

/**
 * An engine over one LMDB file (lmdb-js): a memory-mapped B+tree whose reads are synchronous
 * (`supports.syncReads` and `syncRanges`). The path names the store's file (e.g. `./db.lmdb`);
 * LMDB keeps its lock file beside it (`<path>-lock`), and Stowage its owner lock (`<path>-owner`),
 * so that one process at a time holds the store. Every `batch()` is one LMDB write transaction.
 * Keys and values are laid out as on the LevelEngine: UTF-8 keys in code point order, msgpack
 * values sealed with a CRC-32 (LMDB keeps no checksums of its pages: the seal tells a damaged page
 * from data), raw data in chunks.
 *
 * LMDB refuses keys over about 2 KB (1978 bytes with 4 KiB pages): an entry key over that limit
 * (an index entry of a very long value) is refused with InvalidKeyError, nothing of its batch written.
 *
 * @example
 * const db = await Database.open({ engine: new LmdbEngine('./db.lmdb'), models: [Account] })
 */
export class LmdbEngine extends Engine {
  readonly supports: EngineSupports = { persistent: true, rawPaths: false, readableFiles: false, syncReads: true, syncRanges: true, snapshots: true }
  /** The store's file. */
  readonly path: string
  /** describe(), which names the store in every error of a read. */
  readonly #label: string
  readonly #chunkSize: number
  readonly #mapSize: number | undefined
  /** Records found damaged by reads since open. */
  readonly #damage: DamageList
  readonly #inflight = new InFlight()
  #db!: Db
  #raw!: LmdbRaw
  #readers!: OpenReaders
  #lock: OwnerLock | undefined
  #maxKey = 0
  #txnFlags = TXN_FLUSH_NOW
  /** The store's record shapes (format 2); undefined for a store of plain records (format 1). */
  #shapes: RecordShapes | undefined

  constructor(path: string, options: LmdbEngineOptions = {}) {
    super()
    if (typeof path !== 'string' || path.length === 0) throw new InvalidPathError(`LmdbEngine takes the path of its store file, got ${JSON.stringify(path)}`)
    if (options === null || typeof options !== 'object') throw new ArgumentError(`LmdbEngine options must be an object, got ${options === null ? 'null' : typeof options}`)
    const chunkSize = options.rawChunkSize ?? DEFAULT_CHUNK
    if (!Number.isInteger(chunkSize) || chunkSize <= 0) throw new ArgumentError(`LmdbEngine rawChunkSize must be a positive integer, got ${String(chunkSize)}`)
    if (options.mapSize !== undefined && !(Number.isSafeInteger(options.mapSize) && options.mapSize > 0)) {
      throw new ArgumentError(`LmdbEngine mapSize must be a positive integer (bytes), got ${String(options.mapSize)}`)
    }
    if (options.onDamage !== undefined && typeof options.onDamage !== 'function') {
      throw new ArgumentError(`LmdbEngine onDamage must be a function, got ${typeof options.onDamage}`)
    }
    this.path = path
    this.#label = `LmdbEngine(${path})`
    this.#chunkSize = chunkSize
    this.#mapSize = options.mapSize ?? (process.platform === 'win32' ? undefined : DEFAULT_MAP_SIZE)
    this.#damage = new DamageList(options.onDamage)
  }

  describe(): string {
    return this.#label
  }

  /**
   * The store's keys and stored bytes while the engine is open (the layout is the LevelEngine's:
   * see level-keys.ts), to inspect a store; undefined while closed.
   */
  get db(): LmdbInspector | undefined {
    // Keys are written and read as strings (utf8Keys); the Uint8Array in Db is for cut range bounds.
    return this.status === 'open' ? (this.#db as unknown as LmdbInspector) : undefined
  }

  protected async _open(): Promise<void> {
    const store = this.describe()
    checkStorePath(this.path, store)
    const lock = OwnerLock.acquire(`${this.path}-owner`, store)
    let db: Db | undefined
    try {
      const { open } = (await import(LMDB_PACKAGE)) as typeof import('lmdb')
      const overlappingSync = process.platform !== 'win32'
      try {
        db = open<Buffer, string | Uint8Array>(this.path, { noSubdir: true, encoding: 'binary', keyEncoder: utf8Keys, overlappingSync, compression: false, cache: false, ...(this.#mapSize !== undefined && { mapSize: this.#mapSize }) } as object)
      } catch (err) {
        throw lmdbError(err, store, 'opening it')
      }
      this.#db = db
      this.#txnFlags = overlappingSync ? TXN_FLUSH_LATER : TXN_FLUSH_NOW
      this.#maxKey = (db as unknown as { maxKeySize: number }).maxKeySize
      this.#readers = new OpenReaders(() => this.describe())
      this.#raw = new LmdbRaw(db, { chunkSize: this.#chunkSize, write: (fn) => this.#write(fn, 'writing raw data'), readers: this.#readers })
      this.#checkFormat()
      // This process holds the store alone (the owner lock): staged uploads left by a crash are orphans.
      this.#raw.deleteOrphans()
      this.#lock = lock
    } catch (err) {
      await db?.close().catch(() => {})
      lock.release()
      throw err
    }
  }

  /** A new store gets the format marker; a store without one that holds data is not Stowage's. */
  #checkFormat(): void {
    const stored = this.#db.getBinary(FORMAT_KEY)
    if (stored === undefined) {
      for (const _ of this.#db.getKeys({ limit: 1 })) {
        throw new InvalidPathError(`${this.describe()} cannot open ${this.path}: it is an LMDB database that Stowage did not write (it has no Stowage format marker)`)
      }
      this.#write(() => this.#db.putSync(FORMAT_KEY, encodeValue(FORMAT, FORMAT_KEY)), 'writing its format')
      this.#shapes = new RecordShapes(undefined, this.#label)
      return
    }
    let format: unknown
    try {
      format = decodeValue(stored, FORMAT_KEY)
    } catch (err) {
      throw new CorruptionError(`${this.describe()}: ${(err as Error).message}`, { cause: err })
    }
    if (!FORMATS.includes(format as number)) throw new CorruptionError(`${this.describe()} holds data in format ${String(format)}; this version reads formats ${FORMATS.join(' and ')}`)
    if (format === FORMAT) this.#shapes = new RecordShapes(this.#db.getBinary(SHAPES_KEY), this.#label)
  }

  protected async _close(): Promise<void> {
    await this.#inflight.drained()
    this.#readers.endAll()
    try {
      await this.#db.close()
    } finally {
      this.#lock?.release()
      this.#lock = undefined
    }
  }

  protected async _sync(): Promise<void> {
    // Every commit was flushed before it returned (TXN_FLUSH_LATER); this flushes anything else, off the main thread.
    const synced = new Promise<void>((resolve, reject) => {
      ;(this.#db as unknown as { sync(cb: (err?: Error) => void): void }).sync((err) => (err ? reject(lmdbError(err, this.describe(), 'syncing it')) : resolve()))
    })
    await this.#inflight.track(synced)
  }

  override damaged(): DamagedRecord[] {
    return this.#damage.list()
  }

  protected override _getSync(key: string): unknown {
    const full = ENTRY + key
    if (overLimit(full, this.#maxKey)) return undefined // too long to be stored
    const bytes = this.#read(() => this.#db.getBinaryFast(full), () => `reading ${entryName(key)}`)
    return bytes === undefined ? undefined : this.#decode(full, bytes, () => entryName(key))
  }

  protected override _getRecordSync(collection: string, id: string): unknown {
    const record = this.#readRecord(collection, id)
    if (record === DAMAGED) throw this.#damage.errorFor(collection, id, this.describe())
    return record
  }

  protected override _entriesSync(range: Range): Iterable<[string, unknown]> {
    return this.#range(lmdbRange(ENTRY, ENTRY_END, range, this.#maxKey), true, (k, v) => {
      const key = k.slice(1)
      return [key, this.#decode(k, v!, () => entryName(key))]
    })
  }

  protected override _keysSync(range: Range): Iterable<string> {
    return this.#range(lmdbRange(ENTRY, ENTRY_END, range, this.#maxKey), false, (k) => k.slice(1))
  }

  protected override _recordsSync(collection: string, range: Range): Iterable<[string, unknown]> {
    const base = recordPrefix(collection)
    return this.#range(lmdbRange(base, recordEnd(collection), range, this.#maxKey), true, (k, v) => {
      const id = k.slice(base.length)
      const record = this.#decodeRecord(collection, id, k, v!)
      return record === DAMAGED ? DAMAGED : [id, record] // reported and skipped
    })
  }

  protected async _get(key: string): Promise<unknown> {
    return this._getSync(key)
  }

  protected async _getMany(keys: string[]): Promise<unknown[]> {
    return keys.map((key) => this._getSync(key))
  }

  protected async *_entries(range: Range): AsyncIterable<[string, unknown]> {
    yield* this._entriesSync(range)
  }

  protected async *_keys(range: Range): AsyncIterable<string> {
    yield* this._keysSync(range)
  }

  protected async _getRecord(collection: string, id: string): Promise<unknown> {
    return this._getRecordSync(collection, id)
  }

  protected async _getRecords(collection: string, ids: string[]): Promise<unknown[]> {
    return ids.map((id) => {
      const record = this.#readRecord(collection, id)
      return record === DAMAGED ? undefined : record // reported; the others read on
    })
  }

  protected async _hasRecord(collection: string, id: string): Promise<boolean> {
    return this.#read(() => this.#db.doesExist(recordKey(collection, id)), () => `looking up record ${collection}/${id}`)
  }

  protected async *_records(collection: string, range: Range): AsyncIterable<[string, unknown]> {
    yield* this._recordsSync(collection, range)
  }

  protected _collections(): AsyncIterable<string> {
    return this.#collections()
  }

  async *#collections(transaction?: Transaction): AsyncGenerator<string> {
    // Record keys are r<collection>\0<id>: one seek per collection, past all its records.
    let from = 'r'
    for (;;) {
      const start = from
      const keys = this.#read(() => [...this.#db.getKeys({ start, end: 's', limit: 1, ...(transaction && { transaction }) })], 'listing the collections') as unknown as string[]
      if (keys.length === 0) return
      const key = String(keys[0])
      const collection = key.slice(1, key.indexOf('\u0000'))
      yield collection
      from = recordEnd(collection)
    }
  }

  protected async *_recordIds(collection: string, range: Range): AsyncIterable<string> {
    const base = recordPrefix(collection)
    yield* this.#range(lmdbRange(base, recordEnd(collection), range, this.#maxKey), false, (k) => k.slice(base.length))
  }

  protected async _countRecords(collection: string): Promise<number> {
    const options = { start: recordPrefix(collection), end: recordEnd(collection) }
    return this.#read(() => this.#db.getKeysCount(options), `counting the records of ${collection}`)
  }

  protected async _batch(ops: WriteOp[]): Promise<void> {
    const db = this.#db
    /** Shapes in the table this batch wrote. */
    let written = 0
    this.#write(() => {
      // Raw ops read the current pointers inside the transaction: later ops see earlier ones.
      let usedTokens: Set<string> | undefined
      for (const op of ops) {
        switch (op.type) {
          case 'put': {
            const key = ENTRY + op.key
            if (overLimit(key, this.#maxKey)) {
              throw new InvalidKeyError(
                `${this.describe()} cannot store ${entryName(op.key)}: it is ${Buffer.byteLength(key) - 1} bytes in UTF-8, and LMDB keys hold at most ${this.#maxKey - 1} (an index of very long values?)`,
              )
            }
            db.putSync(key, encodeSealed(key, op.value, () => entryName(op.key)))
            break
          }
          case 'del': {
            const key = ENTRY + op.key
            if (!overLimit(key, this.#maxKey)) db.removeSync(key)
            break
          }
          case 'putRecord': {
            const key = recordKey(op.collection, op.id)
            if (this.#damage.size > 0) this.#damage.delete(op.collection, op.id)
            db.putSync(key, encodeSealed(key, op.value, `record ${op.collection}/${op.id}`, this.#shapes ?? PLAIN))
            break
          }
          case 'delRecord':
            if (this.#damage.size > 0) this.#damage.delete(op.collection, op.id)
            db.removeSync(recordKey(op.collection, op.id))
            break
          case 'putRaw':
          case 'delRaw': {
            const key = pointerKey(op.collection, op.id)
            const previous = this.#raw.pointer(op.collection, op.id)
            if (previous) this.#raw.deleteChunks(previous)
            if (op.type === 'delRaw') {
              db.removeSync(key)
            } else {
              usedTokens ??= new Set()
              if (usedTokens.has(op.staged.token)) throw new ArgumentError(`Staged raw data ${op.staged.token} is committed twice in one batch`)
              usedTokens.add(op.staged.token)
              const info: RawInfo = this.#raw.stagedInfo(op.staged, op.collection, op.id)
              db.putSync(key, encodeValue(info, `raw data pointer of ${op.collection}/${op.id}`))
              db.removeSync(stagingKey(info.token))
            }
            break
          }
        }
      }
      const shapes = this.#shapes?.unsaved()
      if (shapes !== undefined) {
        db.putSync(SHAPES_KEY, shapes.bytes)
        written = shapes.count
      }
    }, `writing a batch of ${ops.length} operation${ops.length === 1 ? '' : 's'}`)
    if (written > 0) this.#shapes!.saved(written)
  }

  protected _stageRaw(collection: string, id: string, source: Source, _options: StageRawOptions): Promise<StagedRaw> {
    return this.#inflight.track(this.#raw.stage(collection, id, source))
  }

  protected async _discardRaw(staged: StagedRaw): Promise<void> {
    this.#raw.deleteToken(staged.token)
  }

  protected _readRaw(collection: string, id: string, chunkSize: number): AsyncIterable<Uint8Array> {
    return this.#raw.read(collection, id, chunkSize)
  }

  protected async _hasRaw(collection: string, id: string): Promise<boolean> {
    return this.#read(() => this.#db.doesExist(pointerKey(collection, id)), () => `looking up the raw data of ${collection}/${id}`)
  }

  /** One LMDB read transaction, passed to every read of the view; the engine's close ends it. */
  protected override async _snapshot(): Promise<EngineSnapshot> {
    this.#readers.assertOpen()
    const txn = this.#db.useReadTransaction()
    const release = this.#readers.add(() => txn.done())
    const label = `a snapshot of ${this.describe()}`
    return {
      describe: () => label,
      collections: () => this.#collections(txn),
      records: async function* (this: LmdbEngine, collection: string, range: Range = {}) {
        const base = recordPrefix(collection)
        yield* this.#range(
          lmdbRange(base, recordEnd(collection), range, this.#maxKey),
          true,
          (k, v) => {
            const id = k.slice(base.length)
            const record = this.#decodeRecord(collection, id, k, v!)
            return record === DAMAGED ? DAMAGED : [id, record]
          },
          txn,
        ) as Generator<[string, unknown]>
      }.bind(this),
      entries: async function* (this: LmdbEngine, range: Range = {}) {
        yield* this.#range(lmdbRange(ENTRY, ENTRY_END, range, this.#maxKey), true, (k, v) => [k.slice(1), this.#decode(k, v!, () => entryName(k.slice(1)))] as [string, unknown], txn)
      }.bind(this),
      hasRaw: async (collection, id) =>
        this.#read(() => (this.#db.getBinary as (key: string, options: object) => Buffer | undefined)(pointerKey(collection, id), { transaction: txn }) !== undefined, () => `looking up the raw data of ${collection}/${id}`),
      readRaw: (collection, id, options = {}) => this.#raw.read(collection, id, options.chunkSize ?? 64 * 1024, txn),
      release: async () => release(),
    }
  }

  protected _rawPath(): string | undefined {
    return undefined
  }

  /** Runs `fn` in one write transaction: all of its writes are committed, or none if it throws. */
  #write(fn: () => void, doing: string): void {
    try {
      this.#db.transactionSync(fn, this.#txnFlags)
    } catch (err) {
      throw lmdbError(err, this.describe(), doing)
    }
  }

  #read<T>(fn: () => T, doing: Named): T {
    try {
      return fn()
    } catch (err) {
      throw lmdbError(err, this.describe(), typeof doing === 'string' ? doing : doing())
    }
  }

  /** Iterates a range, ending its cursor when the iteration stops or the engine closes. */
  *#range<T>(range: LmdbRange | undefined, values: boolean, map: (key: string, value?: Buffer) => T | typeof DAMAGED, transaction?: Transaction): Generator<T> {
    if (range === undefined) return
    this.#readers.assertOpen()
    const options = transaction === undefined ? range : Object.assign({}, range, { transaction })
    const it = (values ? this.#db.getRange(options) : this.#db.getKeys(options))[Symbol.iterator]() as Iterator<{ key: string; value: Buffer } | string>
    const end = this.#readers.add(() => it.return?.())
    try {
      for (;;) {
        this.#readers.assertOpen()
        const next = it.next()
        if (next.done) return
        const item = values ? map((next.value as { key: string }).key, (next.value as { value: Buffer }).value) : map(next.value as string)
        if (item !== DAMAGED) yield item as T
      }
    } finally {
      end()
    }
  }

  /** A stored record, undefined if there is none, or DAMAGED (reported). */
  #readRecord(collection: string, id: string): unknown {
    const key = recordKey(collection, id)
    let bytes: Uint8Array | undefined
    try {
      bytes = this.#db.getBinaryFast(key)
    } catch (err) {
      throw lmdbError(err, this.describe(), `reading record ${collection}/${id}`)
    }
    return bytes === undefined ? undefined : this.#decodeRecord(collection, id, key, bytes)
  }

  /** A record's value, or DAMAGED (reported) when it fails its checksum or does not decode. */
  #decodeRecord(collection: string, id: string, key: string, bytes: Uint8Array): unknown {
    try {
      const record = decodeSealed(key, bytes, () => `record ${collection}/${id}`, this.#label, false, this.#shapes ?? PLAIN)
      this.#damage.readFine(collection, id)
      return record
    } catch (err) {
      return this.#damage.failed(collection, id, err)
    }
  }

  #decode(key: string, bytes: Uint8Array, where: Named): unknown {
    return decodeSealed(key, bytes, where, this.#label, false)
  }

}

/** What a record's decoder gives for a damaged record (reported, skipped by bulk reads). */

const entryName = (key: string): string => `entry ${JSON.stringify(key)}`
const recordEnd = (collection: string): string => `r${collection}\u0001`
