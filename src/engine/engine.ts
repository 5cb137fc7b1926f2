import { ArgumentError, ClosedError, InvalidKeyError } from '../errors.js'
import { hasLoneSurrogate } from './plain-data.js'

/**
 * What an engine can do. Features and tests read this instead of checking `instanceof`.
 */
export interface EngineSupports {
  /** Data survives `close()` and a new engine on the same path. */
  persistent: boolean
  /** Raw data is a plain file whose path `rawPath()` returns. */
  rawPaths: boolean
  /** Each object is a human-readable file a person can open, diff and back up. */
  readableFiles: boolean
  /**
   * `getSync` and `getRecordSync` answer without a promise (LMDB's memory map, LevelDB's
   * `getSync`): the layer above reads through them where it can. Absent means false.
   */
  syncReads?: boolean
  /** `entriesSync`, `keysSync` and `recordsSync` iterate without promises (LMDB). Absent means false. */
  syncRanges?: boolean
  /**
   * `getRecords` reads on another thread (LevelDB's thread pool): the layer above reads large
   * batches through it even where `syncReads`, so that the store reads one batch while the main
   * thread decodes the one before. Absent means false.
   */
  backgroundReads?: boolean
  /** `snapshot()` gives a consistent read view while writes go on. Absent means false. */
  snapshots?: boolean
}

/**
 * What an engine held at one moment (`Engine.snapshot()`): every read sees exactly the batches that
 * had resolved when it was taken and none that came after, however long the reading takes, while
 * writes go on. Reads take the arguments, and follow the rules, of the engine's methods of the same
 * names. Call `release()` when done: until then the engine keeps what the view needs (LevelDB's
 * snapshot, LMDB's read transaction), and closing the engine ends the view.
 */
export interface EngineSnapshot {
  describe(): string
  collections(): AsyncIterable<string>
  records(collection: string, range?: Range): AsyncIterable<[string, unknown]>
  entries(range?: Range): AsyncIterable<[string, unknown]>
  hasRaw(collection: string, id: string): Promise<boolean>
  readRaw(collection: string, id: string, options?: ReadRawOptions): AsyncIterable<Uint8Array>
  release(): Promise<void>
}

/**
 * A range over ordered string keys (entries) or ids (records). Keys compare by UTF-8 bytes,
 * which is code point order. `prefix` combines with the other bounds.
 */
export interface Range {
  gt?: string
  gte?: string
  lt?: string
  lte?: string
  prefix?: string
  reverse?: boolean
  limit?: number
}

/**
 * Ordered key/value entries: index entries, links, bookkeeping. A put marked `unique` is an entry of
 * a unique index that the write claims: an engine shared by several processes (src/coherence/)
 * refuses the batch with ConstraintError if, once written, the key up to its last NUL has another
 * entry than those the batch writes. A put with a `target` is the reverse entry of a link the write
 * makes to that object: such an engine refuses the batch with RelationError if the target is no
 * longer stored (and the batch does not store it). Other engines ignore both (the database checked
 * them). A put marked `fresh` (entry or record) writes a key the writer knows was not stored: a new
 * object's record, index entries and keys record. An engine may then insert it without looking
 * for a row to replace, but the outcome must be a put's all the same if one is there.
 */
export type EntryOp = { type: 'put'; key: string; value?: unknown; unique?: boolean; target?: [collection: string, id: string]; fresh?: boolean } | { type: 'del'; key: string }
/** Records: one stored object, addressed by collection and id. */
export type RecordOp =
  | { type: 'putRecord'; collection: string; id: string; value: unknown; fresh?: boolean }
  | { type: 'delRecord'; collection: string; id: string }
/** Raw data staged with `stageRaw()` becomes the data of (collection, id); or is deleted. */
export type RawOp =
  | { type: 'putRaw'; collection: string; id: string; staged: StagedRaw }
  | { type: 'delRaw'; collection: string; id: string }
export type WriteOp = EntryOp | RecordOp | RawOp

/** Raw data written by `stageRaw()`, invisible until a batch's `putRaw` commits it. */
export interface StagedRaw {
  readonly token: string
  readonly size: number
  /** Hex SHA-256 of the bytes. */
  readonly sha256: string
}

export interface StageRawOptions {
  /** A file extension hint for engines that write plain files (e.g. `jpeg`). */
  extension?: string
}

export interface ReadRawOptions {
  /** Largest chunk yielded, in bytes. */
  chunkSize?: number
}

/** An object added, changed or removed behind the engine's back while it was closed. */
export interface ExternalChange {
  collection: string
  id: string
  kind: 'added' | 'changed' | 'removed'
}

/**
 * A stored record the engine cannot read back (a truncated or garbled file, a file deleted behind
 * its back), found at open or by a read since.
 */
export interface DamagedRecord {
  collection: string
  id: string
  /** The file holding the record, on engines that store records as files. */
  file?: string
  /** Why it cannot be read (the message of the `CorruptionError` a read of it throws). */
  reason: string
}

export type EngineStatus = 'new' | 'opening' | 'open' | 'closing' | 'closed'

export type Source = AsyncIterable<Uint8Array> | Iterable<Uint8Array>

const UNSAFE_NAME = /[/\\\0<>:"|?*\x00-\x1f]/

/**
 * The storage engine contract. Public methods check the state and arguments, then call the `_`
 * hooks, which always receive validated arguments (the abstract-level pattern).
 * A missing key, record or raw data reads as `undefined`.
 *
 * Writing an engine: extend this class, set `supports` and implement `describe()` and the `_` hooks
 * below; run the conformance suite of `stowage/testing` (`engineConformance`) against it. What every
 * hook may rely on and must do:
 * - It is called only while the engine is open (`_open` and `_close` aside), with its arguments
 *   checked by the public method: keys non-empty well-formed strings (`checkKey`), collections and
 *   ids safe names of at most `MAX_NAME_BYTES` UTF-8 bytes (`checkName`), ranges checked by shape
 *   only. A hook that finds something else wrong throws a `StowageError` subclass with its `code`
 *   (src/errors.ts) and changes nothing; the storage's own errors are translated (a damaged file:
 *   `CorruptionError` naming the store and what was read; the store held by another process:
 *   `LockedError`; an unusable path: `InvalidPathError`; the engine closed under a call: `ClosedError`).
 * - Values are plain data (plain-data.ts): they read back equal, with the same types (`-0`, `NaN`,
 *   bigints of any size, Dates, Uint8Arrays, `__proto__` as an own key), as a fresh copy on every
 *   read. Anything else is refused by `_batch` with `EncodingError` (`assertEncodable` does it).
 * - Keys and ids are ordered by their UTF-8 bytes, which is code point order (not JavaScript's
 *   UTF-16 order: '\uFFFD' < '😀').
 * - Calls are not serialised by this class: reads, iterations, batches and raw staging may all be in
 *   flight at once. Each batch is atomic, a read never sees half of one, and once a batch's promise
 *   has resolved every read sees it.
 */
export abstract class Engine {
  abstract readonly supports: EngineSupports
  #status: EngineStatus = 'new'
  #opening?: Promise<void>
  #closing?: Promise<void>

  get status(): EngineStatus {
    return this.#status
  }

  /** A short description for messages, e.g. `LevelEngine(./data)`. */
  abstract describe(): string

  async open(): Promise<void> {
    if (this.#status === 'open') return
    if (this.#status === 'opening') return this.#opening
    if (this.#status === 'closing') await this.#closing
    this.#status = 'opening'
    this.#opening = this._open().then(
      () => {
        this.#status = 'open'
      },
      (err) => {
        this.#status = 'closed'
        throw err
      },
    )
    return this.#opening
  }

  async close(): Promise<void> {
    if (this.#status === 'closed' || this.#status === 'new') {
      this.#status = 'closed'
      return
    }
    if (this.#status === 'closing') return this.#closing
    if (this.#status === 'opening') await this.#opening!.catch(() => {})
    this.#status = 'closing'
    this.#closing = this._close().finally(() => {
      this.#status = 'closed'
    })
    return this.#closing
  }

  /** Everything written so far is durable. */
  async sync(): Promise<void> {
    this.assertOpen('sync')
    return this._sync()
  }

  /**
   * Objects changed behind the engine's back while it was closed, found at open. They are reported
   * at every open until `acknowledgeExternalChanges()` is called (after the layer above, e.g. the
   * indexes, has taken them into account), so a crash in between loses none.
   */
  externalChanges(): ExternalChange[] {
    return []
  }

  async acknowledgeExternalChanges(): Promise<void> {
    this.assertOpen('acknowledgeExternalChanges')
  }

  /**
   * The records this engine knows it cannot read back, by collection and id. The Directory engine
   * lists what it found at open (damage found at an earlier open and not mended since included) and
   * what reads have found since; the LevelEngine what reads have found since it opened (a value
   * failing its checksum); an engine that cannot be damaged lists nothing.
   * A listed record still counts as stored (`hasRecord`, `countRecords`, `recordIds`); `getRecord`
   * of it throws `CorruptionError`, while `getRecords` gives `undefined` for it and `records()`
   * skips it, so that one damaged record never stops the reads of the others.
   * Writing or deleting the record through the engine mends it.
   */
  damaged(): DamagedRecord[] {
    return []
  }

  /**
   * An entry key as `keys()` over the whole of its prefix gives it back: the key itself, except where
   * a wrapper stores it transformed (an EncryptedEngine stores the keys of hashed indexes hashed, and
   * lists them so). `verify()` compares the entries it lists with the keys records through this.
   */
  listedKey(key: string): string {
    return key
  }

  async get(key: string): Promise<unknown> {
    this.assertOpen('get')
    checkKey(key)
    return this._get(key)
  }

  async getMany(keys: string[]): Promise<unknown[]> {
    this.assertOpen('getMany')
    if (!Array.isArray(keys)) throw new ArgumentError(`getMany() takes an array of keys, got ${typeof keys}`)
    keys.forEach(checkKey)
    return this._getMany(keys)
  }

  entries(range: Range = {}): AsyncIterable<[string, unknown]> {
    this.assertOpen('entries')
    return this._entries(checkRange(range))
  }

  keys(range: Range = {}): AsyncIterable<string> {
    this.assertOpen('keys')
    return this._keys(checkRange(range))
  }

  async getRecord(collection: string, id: string): Promise<unknown> {
    this.assertOpen('getRecord')
    checkName('collection', collection)
    checkName('id', id)
    return this._getRecord(collection, id)
  }

  async getRecords(collection: string, ids: string[]): Promise<unknown[]> {
    this.assertOpen('getRecords')
    checkName('collection', collection)
    if (!Array.isArray(ids)) throw new ArgumentError(`getRecords() takes an array of ids, got ${typeof ids}`)
    ids.forEach((id) => checkName('id', id))
    return this._getRecords(collection, ids)
  }

  async hasRecord(collection: string, id: string): Promise<boolean> {
    this.assertOpen('hasRecord')
    checkName('collection', collection)
    checkName('id', id)
    return this._hasRecord(collection, id)
  }

  /** The records of a collection in id order. */
  records(collection: string, range: Range = {}): AsyncIterable<[string, unknown]> {
    this.assertOpen('records')
    checkName('collection', collection)
    return this._records(collection, checkRange(range))
  }

  /** The ids of a collection's records in order, without decoding them. */
  /** The collections that hold at least one record, in order. */
  collections(): AsyncIterable<string> {
    this.assertOpen('collections')
    return this._collections()
  }

  recordIds(collection: string, range: Range = {}): AsyncIterable<string> {
    this.assertOpen('recordIds')
    checkName('collection', collection)
    return this._recordIds(collection, checkRange(range))
  }

  async countRecords(collection: string): Promise<number> {
    this.assertOpen('countRecords')
    checkName('collection', collection)
    return this._countRecords(collection)
  }

  /** `get`, synchronously: only where `supports.syncReads`. The same results and errors. */
  getSync(key: string): unknown {
    this.assertOpen('getSync')
    this.#assertSupported('syncReads', 'getSync')
    checkKey(key)
    return this._getSync(key)
  }

  /** `getRecord`, synchronously: only where `supports.syncReads`. The same results and errors. */
  getRecordSync(collection: string, id: string): unknown {
    this.assertOpen('getRecordSync')
    this.#assertSupported('syncReads', 'getRecordSync')
    checkName('collection', collection)
    checkName('id', id)
    return this._getRecordSync(collection, id)
  }

  /** `entries`, synchronously: only where `supports.syncRanges`. */
  entriesSync(range: Range = {}): Iterable<[string, unknown]> {
    this.assertOpen('entriesSync')
    this.#assertSupported('syncRanges', 'entriesSync')
    return this._entriesSync(checkRange(range))
  }

  /** `keys`, synchronously: only where `supports.syncRanges`. */
  keysSync(range: Range = {}): Iterable<string> {
    this.assertOpen('keysSync')
    this.#assertSupported('syncRanges', 'keysSync')
    return this._keysSync(checkRange(range))
  }

  /** `records`, synchronously: only where `supports.syncRanges`. */
  recordsSync(collection: string, range: Range = {}): Iterable<[string, unknown]> {
    this.assertOpen('recordsSync')
    this.#assertSupported('syncRanges', 'recordsSync')
    checkName('collection', collection)
    return this._recordsSync(collection, checkRange(range))
  }

  /** A consistent read view of the store as it is now: only where `supports.snapshots`. */
  async snapshot(): Promise<EngineSnapshot> {
    this.assertOpen('snapshot')
    this.#assertSupported('snapshots', 'snapshot')
    const view = await this._snapshot()
    return {
      describe: () => view.describe(),
      collections: () => view.collections(),
      records: (collection, range = {}) => {
        checkName('collection', collection)
        return view.records(collection, checkRange(range))
      },
      entries: (range = {}) => view.entries(checkRange(range)),
      hasRaw: async (collection, id) => {
        checkName('collection', collection)
        checkName('id', id)
        return view.hasRaw(collection, id)
      },
      readRaw: (collection, id, options = {}) => {
        checkName('collection', collection)
        checkName('id', id)
        const chunkSize = options.chunkSize ?? 64 * 1024
        if (!Number.isInteger(chunkSize) || chunkSize <= 0) throw new ArgumentError(`chunkSize must be a positive integer, got ${chunkSize}`)
        return view.readRaw(collection, id, { chunkSize })
      },
      release: () => view.release(),
    }
  }

  #assertSupported(feature: 'syncReads' | 'syncRanges' | 'snapshots', method: string): void {
    if (this.supports[feature] !== true) throw new ArgumentError(`${this.describe()} has no ${method}(): its supports.${feature} is not true`)
  }

  /** Applies every op or none of them. */
  async batch(ops: WriteOp[]): Promise<void> {
    this.assertOpen('batch')
    if (!Array.isArray(ops)) throw new ArgumentError(`batch() takes an array of operations, got ${typeof ops}`)
    for (const op of ops) checkOp(op)
    if (ops.length === 0) return
    return this._batch(ops)
  }

  put(key: string, value: unknown = null): Promise<void> {
    return this.batch([{ type: 'put', key, value }])
  }

  del(key: string): Promise<void> {
    return this.batch([{ type: 'del', key }])
  }

  putRecord(collection: string, id: string, value: unknown): Promise<void> {
    return this.batch([{ type: 'putRecord', collection, id, value }])
  }

  delRecord(collection: string, id: string): Promise<void> {
    return this.batch([{ type: 'delRecord', collection, id }])
  }

  /**
   * Streams bytes into a staging area. Nothing is visible until a batch with a `putRaw` op commits
   * the staged data; `discardRaw()` drops it. If the source fails, nothing is left behind and the
   * source's error is rethrown.
   */
  async stageRaw(collection: string, id: string, source: Source, options: StageRawOptions = {}): Promise<StagedRaw> {
    this.assertOpen('stageRaw')
    checkName('collection', collection)
    checkName('id', id)
    if (source == null || (typeof (source as any)[Symbol.asyncIterator] !== 'function' && typeof (source as any)[Symbol.iterator] !== 'function')) {
      throw new ArgumentError(`stageRaw() takes an iterable of bytes, got ${typeof source}`)
    }
    return this._stageRaw(collection, id, source, options)
  }

  async discardRaw(staged: StagedRaw): Promise<void> {
    this.assertOpen('discardRaw')
    return this._discardRaw(staged)
  }

  /** The raw data of (collection, id) in chunks of at most `chunkSize` bytes; empty if none. */
  readRaw(collection: string, id: string, options: ReadRawOptions = {}): AsyncIterable<Uint8Array> {
    this.assertOpen('readRaw')
    checkName('collection', collection)
    checkName('id', id)
    const chunkSize = options.chunkSize ?? 64 * 1024
    if (!Number.isInteger(chunkSize) || chunkSize <= 0) throw new ArgumentError(`chunkSize must be a positive integer, got ${chunkSize}`)
    return this._readRaw(collection, id, chunkSize)
  }

  /** Whether (collection, id) has committed raw data. */
  async hasRaw(collection: string, id: string): Promise<boolean> {
    this.assertOpen('hasRaw')
    checkName('collection', collection)
    checkName('id', id)
    return this._hasRaw(collection, id)
  }

  /** A real file holding the raw data, on engines that support `rawPaths`; else undefined. */
  rawPath(collection: string, id: string): string | undefined {
    this.assertOpen('rawPath')
    checkName('collection', collection)
    checkName('id', id)
    return this._rawPath(collection, id)
  }

  protected assertOpen(method: string): void {
    if (this.#status !== 'open') {
      throw new ClosedError(`${this.describe()} is ${this.#status === 'new' ? 'not open yet' : this.#status}: cannot call ${method}()`)
    }
  }

  /**
   * Opens the store, creating it if missing. Called by `open()` once per opening (concurrent
   * `open()` calls share one call), also again after a `_close()`: the engine may be reopened.
   * If it throws, it must first release whatever it acquired (files, locks, handles), since the
   * engine is then `closed` and may be opened again. Throws `LockedError` when another process holds
   * the store, `InvalidPathError` when its path cannot be used, `CorruptionError` when the store is
   * damaged or in a format this version cannot read (never starting a new store over it).
   */
  protected abstract _open(): Promise<void>
  /**
   * Closes the store. Before it resolves, every batch, `_stageRaw`, `_discardRaw` and `_sync`
   * started before `close()` has settled (their promises resolve as they would have, and what they
   * wrote is stored), and raw data staged but never committed is dropped, now or at the next open.
   * Iterations still running end or throw `ClosedError`; they never hang. It is also called when
   * `close()` came while opening and the opening failed: then there is nothing to release, and it
   * must resolve.
   */
  protected abstract _close(): Promise<void>
  /**
   * Makes every batch that resolved before `sync()` was called durable: it survives a crash of the
   * machine, not only of the process. An engine whose batches are durable when they resolve just
   * waits for those in flight; a non-persistent engine resolves.
   */
  protected abstract _sync(): Promise<void>
  /**
   * The entry under `key` (checked by `checkKey`), decoded; `undefined` if there is none, or if the
   * stored value is `undefined`. A value that cannot be decoded throws `CorruptionError` naming the key.
   */
  protected abstract _get(key: string): Promise<unknown>
  /**
   * The entries of `keys` (an array, each checked by `checkKey`; possibly empty, possibly with
   * repeats), in the same order, `undefined` for each missing one. Errors as `_get`.
   */
  protected abstract _getMany(keys: string[]): Promise<unknown[]>
  /**
   * The entries within `range`, as `[key, value]`, in UTF-8 byte order (descending if
   * `range.reverse` is truthy). `range` was checked, not normalised: every bound given applies
   * (`gt`, `gte`, `lt`, `lte` and `prefix` together give their intersection, possibly empty), a
   * `prefix` is a plain string prefix, and `limit` (an integer >= 0 or `Infinity`; absent: no limit)
   * caps the count after ordering and bounds, so `limit: 0` yields nothing. Only entries are listed,
   * never records, raw data or the engine's own bookkeeping.
   *
   * Must return at once, without I/O: errors (`CorruptionError`, `ClosedError`) surface while
   * iterating. Reading should be lazy (ranges of 100k entries are scanned); a consumer that stops
   * early (`return()`) releases what the iteration held, and iterations interleave independently.
   * Whether a write made during an iteration shows in it is not specified.
   */
  protected abstract _entries(range: Range): AsyncIterable<[string, unknown]>
  /** The keys of `_entries(range)`, the same rules, without decoding values. */
  protected abstract _keys(range: Range): AsyncIterable<string>
  /**
   * The record (collection, id) (both checked by `checkName`), decoded; `undefined` if there is
   * none. A record that cannot be read back (a value failing its checksum, a garbled or missing
   * file) is added to `damaged()` (and the engine's `onDamage`) and throws `CorruptionError` naming
   * it; one that reads back fine is taken off `damaged()`.
   */
  protected abstract _getRecord(collection: string, id: string): Promise<unknown>
  /**
   * The records of `ids` (an array of checked ids) in one collection, in order, `undefined` for
   * each missing one and for each damaged one (reported as `_getRecord` does, not thrown), so that
   * one damaged record never stops the reads of the others.
   */
  protected abstract _getRecords(collection: string, ids: string[]): Promise<unknown[]>
  /** Whether the record is stored, without decoding it: true for a damaged record too. */
  protected abstract _hasRecord(collection: string, id: string): Promise<boolean>
  /**
   * The records of one collection within `range` (bounds apply to ids), as `[id, record]`, with the
   * ordering, range and iteration rules of `_entries`. Never lists another collection, even one whose
   * name starts with this one's (`C` and `C1`). Damaged records are reported and skipped.
   */
  protected abstract _records(collection: string, range: Range): AsyncIterable<[string, unknown]>
  /** The ids of `_records(collection, range)`, without reading the records: damaged ones included. */
  protected abstract _recordIds(collection: string, range: Range): AsyncIterable<string>
  /** The collections holding records, in UTF-8 order; read once through, never held whole. */
  protected abstract _collections(): AsyncIterable<string>
  /** The number of records in the collection (0 for an unknown one), damaged ones included. */
  protected abstract _countRecords(collection: string): Promise<number>
  /**
   * Applies `ops` atomically: all of them or, if anything fails, none (entries, records and raw data
   * alike), and what it stored is all there after a crash at any moment. `ops` is a non-empty array
   * of ops whose `type`, keys and names were checked, and whose `putRaw` ops carry an object with a
   * string `token`; the values and the staged data were not checked.
   * - Ops apply in order: a later op on the same key, record or raw data wins. Deleting what does
   *   not exist is no error.
   * - A value that is not plain data throws `EncodingError` naming the entry (`entry "k"`) or the
   *   record (`C/id`), before anything is written.
   * - `putRaw` makes the staged data the raw data of (collection, id), replacing (and removing) what
   *   was there; the old data stays readable until the batch commits. A token unknown to this engine,
   *   already committed or discarded, or used twice in the batch throws a `StowageError` (the engines
   *   use `ArgumentError` or `NotFoundError`). If the batch fails, its staged data stays staged and
   *   can still be committed. `delRaw` removes the raw data.
   * - Writing or deleting a record takes it off `damaged()`.
   * - Batches may be called concurrently; each must land, atomically. Once the promise resolves
   *   every read (`_getSync` included) sees the batch, and it survives `close()`; surviving a crash of
   *   the machine may wait for `_sync()`.
   * - An engine may refuse what its storage cannot hold, before writing anything (the Directory
   *   engine: ids differing only in letter case, with `InvalidKeyError`).
   */
  protected abstract _batch(ops: WriteOp[]): Promise<void>
  /**
   * Streams `source` (an iterable or async iterable, not yet iterated) into a staging area and
   * returns its token, size and hex SHA-256. Each chunk must be a Uint8Array (else `ArgumentError`).
   * Nothing is visible (`_hasRaw`, `_readRaw`) until a batch's `putRaw` commits it; staged data does
   * not survive a reopen. If the source throws, whatever was written is removed and the source's own
   * error is rethrown. `options.extension` is a hint for engines that write files. `_close` waits for
   * stagings in flight.
   */
  protected abstract _stageRaw(collection: string, id: string, source: Source, options: StageRawOptions): Promise<StagedRaw>
  /**
   * Drops staged data; a later `putRaw` of it throws. `staged` is not checked at all: an unknown,
   * committed or malformed one is no error and changes nothing. Must not take the data from a batch
   * already committing it.
   */
  protected abstract _discardRaw(staged: StagedRaw): Promise<void>
  /**
   * The committed raw data of (collection, id) in non-empty chunks of at most `chunkSize` bytes (a
   * checked positive integer); nothing if there is none. Returns at once, errors surface while
   * iterating: data that does not match its recorded size or digest, or a file gone behind the
   * engine's back, throws `CorruptionError`. A reader sees one version: the data committed when it
   * started, or entirely the replacement. A reader that stops early releases what it held.
   */
  protected abstract _readRaw(collection: string, id: string, chunkSize: number): AsyncIterable<Uint8Array>
  /** Whether (collection, id) has committed raw data (staged data does not count). */
  protected abstract _hasRaw(collection: string, id: string): Promise<boolean>
  /**
   * Where `supports.rawPaths`: the path of a real file holding exactly the committed raw data, or
   * `undefined` if there is none. Else always `undefined`. Synchronous: no I/O.
   */
  protected abstract _rawPath(collection: string, id: string): string | undefined

  /**
   * `_get`, without a promise: an engine whose `supports.syncReads` is true overrides it and
   * `_getRecordSync` (the public method refuses with `ArgumentError` otherwise, before calling it).
   * The same results and errors as `_get`. It never waits: it sees every batch whose promise has
   * resolved and never half of one in flight, so an engine that can only give that view by waiting
   * (for a commit in progress) must not set `syncReads`.
   */
  protected _getSync(_key: string): unknown {
    throw new ArgumentError(`${this.describe()} cannot read synchronously`)
  }
  /** `_getRecord` without a promise, under the rules of `_getSync`; damaged records as `_getRecord`. */
  protected _getRecordSync(_collection: string, _id: string): unknown {
    throw new ArgumentError(`${this.describe()} cannot read synchronously`)
  }
  /**
   * `_entries` as a synchronous iterable: an engine whose `supports.syncRanges` is true overrides it,
   * `_keysSync` and `_recordsSync`. The same items in the same order as the async twin for every
   * range, and its errors, thrown by `next()`. A consumer that stops early (`break`, `return()`)
   * releases what the iteration held (a read transaction), so writes go on.
   */
  protected _entriesSync(_range: Range): Iterable<[string, unknown]> {
    throw new ArgumentError(`${this.describe()} cannot iterate synchronously`)
  }
  /**
   * A read view of the store as it is when called, for engines whose `supports.snapshots` is true
   * (the public method refuses otherwise, before calling it). Its methods receive checked arguments;
   * `readRaw` an options object with a checked `chunkSize`. Records it finds damaged are reported and
   * skipped as by `_records`. The view stays consistent until `release()` or the engine's close.
   */
  protected _snapshot(): Promise<EngineSnapshot> {
    throw new ArgumentError(`${this.describe()} cannot take snapshots`)
  }
  /** `_keys` as a synchronous iterable, under the rules of `_entriesSync`. */
  protected _keysSync(_range: Range): Iterable<string> {
    throw new ArgumentError(`${this.describe()} cannot iterate synchronously`)
  }
  /** `_records` as a synchronous iterable, under the rules of `_entriesSync`; damaged records skipped. */
  protected _recordsSync(_collection: string, _range: Range): Iterable<[string, unknown]> {
    throw new ArgumentError(`${this.describe()} cannot iterate synchronously`)
  }
}

export function checkKey(key: unknown): asserts key is string {
  if (typeof key !== 'string') throw new InvalidKeyError(`Keys must be strings, got ${describeValue(key)}`)
  if (key.length === 0) throw new InvalidKeyError('Keys must not be empty')
  // UTF-8 (LevelDB keys, file names) cannot hold a lone surrogate: two keys would collide.
  if (hasLoneSurrogate(key)) throw new InvalidKeyError(`Keys must be well-formed Unicode, got ${JSON.stringify(key)} with a lone surrogate`)
}

/**
 * The longest collection name or object id, in UTF-8 bytes. The Directory engine's longest file
 * name is `<id>.<extension of at most 16 characters>`: 217 bytes, within the 255 that common file
 * systems allow per name.
 */
export const MAX_NAME_BYTES = 200

/**
 * Collection names and object ids become file names on the Directory engine, so every engine
 * refuses the same unsafe ones, before any write: nothing that could leave the root or hide as a
 * dot file, and nothing over `MAX_NAME_BYTES` UTF-8 bytes.
 */
export function checkName(what: 'collection' | 'id', name: unknown): asserts name is string {
  if (what === 'collection' && name === lastCollection) return // a batch names one collection over and over
  // SIMPLE_NAME is ASCII only, so there the length is the byte length.
  if (typeof name === 'string' && name.length <= MAX_NAME_BYTES && SIMPLE_NAME.test(name)) {
    // Without a dot, a device name is 3 or 4 characters: oids skip that test.
    if (name.length > 4 || !WINDOWS_DEVICE.test(name)) {
      if (what === 'collection') lastCollection = name
      return
    }
  }
  const article = what === 'id' ? 'An' : 'A'
  if (typeof name !== 'string') throw new InvalidKeyError(`${article} ${what} must be a string, got ${describeValue(name)}`)
  if (name.length === 0) throw new InvalidKeyError(`${article} ${what} must not be empty`)
  if (hasLoneSurrogate(name)) throw new InvalidKeyError(`${article} ${what} must be well-formed Unicode, got ${describeValue(name)} with a lone surrogate`)
  const bytes = Buffer.byteLength(name)
  if (bytes > MAX_NAME_BYTES) {
    throw new InvalidKeyError(`${article} ${what} must be at most ${MAX_NAME_BYTES} bytes in UTF-8, got ${bytes}: ${describeValue(name)}`)
  }
  if (UNSAFE_NAME.test(name) || name.startsWith('.') || name.endsWith(' ') || name.endsWith('.')) {
    throw new InvalidKeyError(
      `Unsafe ${what} ${JSON.stringify(name)}: it must not contain / \\ NUL, control characters or <>:"|?*, nor start with "." or end with "." or a space`,
    )
  }
  if (WINDOWS_DEVICE.test(name)) {
    throw new InvalidKeyError(`Unsafe ${what} ${JSON.stringify(name)}: Windows reserves it for a device (CON, PRN, AUX, NUL, COM1-9, LPT1-9, with or without an extension), so it cannot name a file there`)
  }
}

/** Names that need no further check (but the one below): letters, digits, `_` and `-` only. */
const SIMPLE_NAME = /^[\w-]+$/
/** The last collection name found safe. */
let lastCollection: string | undefined
/** Windows device names, which no file may take, whatever its extension or letter case. */
const WINDOWS_DEVICE = /^(?:con|prn|aux|nul|com[0-9\u00b9\u00b2\u00b3]|lpt[0-9\u00b9\u00b2\u00b3])(?:\.|$)/i

function checkRange(range: Range): Range {
  if (range === null || typeof range !== 'object') throw new ArgumentError(`A range must be an object, got ${describeValue(range)}`)
  for (const bound of ['gt', 'gte', 'lt', 'lte', 'prefix'] as const) {
    const v = range[bound]
    if (v !== undefined && typeof v !== 'string') throw new InvalidKeyError(`Range bound ${bound} must be a string, got ${describeValue(v)}`)
  }
  if (range.limit !== undefined && !(Number.isInteger(range.limit) && range.limit >= 0) && range.limit !== Infinity) {
    throw new ArgumentError(`Range limit must be a non-negative integer, got ${range.limit}`)
  }
  return range
}

function checkOp(op: WriteOp): void {
  if (op === null || typeof op !== 'object') throw new ArgumentError(`A batch operation must be an object, got ${describeValue(op)}`)
  switch (op.type) {
    case 'put':
    case 'del':
      return checkKey(op.key)
    case 'putRecord':
    case 'delRecord':
    case 'delRaw':
      checkName('collection', op.collection)
      return checkName('id', op.id)
    case 'putRaw':
      checkName('collection', op.collection)
      checkName('id', op.id)
      if (!op.staged || typeof op.staged.token !== 'string') throw new ArgumentError('putRaw needs the StagedRaw returned by stageRaw()')
      return
    default:
      throw new ArgumentError(`Unknown batch operation type ${JSON.stringify((op as { type: unknown }).type)}`)
  }
}

export function describeValue(v: unknown): string {
  if (v === null) return 'null'
  if (Array.isArray(v)) return 'an array'
  if (typeof v === 'object') return `an object (${(v as object).constructor?.name ?? 'Object'})`
  if (typeof v === 'string') return JSON.stringify(v.length > 60 ? v.slice(0, 60) + '...' : v)
  return `${typeof v} ${String(v)}`
}
