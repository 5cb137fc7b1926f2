import { randomBytes } from 'node:crypto'
import { readFile as readFileCallback, statSync } from 'node:fs'
import { mkdir, opendir, readdir, stat } from 'node:fs/promises'
import { dirname, join, relative, resolve } from 'node:path'
import { promisify } from 'node:util'
import { ClassicLevel } from 'classic-level'
import { ArgumentError, ClosedError, CorruptionError, InvalidPathError } from '../../errors.js'
import { Engine } from '../engine.js'
import { levelError, translated } from '../level/level-errors.js'
import type { LevelStore } from '../level/level-errors.js'
import { openLevelStore } from '../level/level-store-files.js'
import { assertEncodable } from '../plain-data.js'
import type { DamagedRecord, EngineSnapshot, EngineSupports, ExternalChange, Range, Source, StagedRaw, StageRawOptions, WriteOp } from '../engine.js'
import { ensureDir, fsyncDir, isNotFound, isTempName, tempPath, TEMP_PREFIX, unlinkIfExists, writeTemp } from './atomic-file.js'
import type { WrittenTemp } from './atomic-file.js'
import { applyJournal, parseJournal } from './journal.js'
import type { JournalRecord } from './journal.js'
import { decodeJson, encodeJson } from './json-codec.js'
import { entryKey, journalKey, levelRange, manifestKey, manifestPrefix, NS, rawKey } from './keys.js'
import type { LevelRange } from './keys.js'
import { mapLimit } from './map-limit.js'
import { openRaw, rawExtension, streamRaw, streamToFile } from './raw-files.js'
import type { RawMeta } from './raw-files.js'
import { acknowledgeChanges, fileStamp, reconcile, RECORD_EXT } from './reconcile.js'
import { caseCollision, collectionCaseCollision, FoldedIds, foldName } from './case-folding.js'
import { DamageList } from '../damage-list.js'
import type { FileStamp } from './reconcile.js'
import { DirectoryViews } from './snapshots.js'

/** The directory inside the root holding the level store; collection names cannot start with '.'. */
const INDEX_DIR = '.stowage'
const PAGE = 64
const MISSING = Symbol('missing')
/** The callback readFile is about twice as fast as fs/promises' for small files (Node 20). */
const readFile = promisify(readFileCallback)

type Db = ClassicLevel<Buffer, string>
type LevelOp = { type: 'put'; key: Buffer; value: string } | { type: 'del'; key: Buffer }

interface StagedFile {
  path: string
  ext: string
  size: number
  sha256: string
}

interface RecordTarget {
  collection: string
  id: string
  /** The pretty JSON to write; undefined deletes the record. */
  text?: string
}

export interface DirectoryEngineOptions {
  /**
   * Called with each damaged record file found: at open (every one not mended since, also those
   * found at an earlier open), and by reads since. `damaged()` lists them all. Should not throw.
   */
  onDamage?: (damage: DamagedRecord) => void
}

interface RawTarget {
  collection: string
  id: string
  token?: string
  staged?: StagedFile
}

/**
 * Stores each record as a readable JSON file `<root>/<collection>/<id>.json` and raw data as a
 * plain file `<root>/<collection>/<id>.<ext>`; entries, the record manifest and the write-ahead
 * journal live in a classic-level store at `<root>/.stowage/index`.
 *
 * A batch is atomic across files and the level store: new files are written to fsynced temp files,
 * then ONE synchronous level batch commits the entries, the manifest and a journal record listing
 * the renames and unlinks; then the files are moved into place and the journal record is cleared.
 * A crash before the level commit leaves only temp files (removed at open); after it, the journal
 * is replayed at open. Reads in this process see the committed state at once: record contents of
 * a batch being applied are served from memory until their files are in place.
 *
 * A record file that cannot be read back (truncated, garbled, deleted behind the store's back) is
 * damaged: it is reported (`damaged()`, `onDamage`), `getRecord` of it throws `CorruptionError`
 * naming the file, and `getRecords` and `records()` skip it, so the other records read on. Record
 * files added or changed while the store was closed are read at open to find damage, which is
 * remembered until the file changes again or the store rewrites or deletes the record.
 *
 * @example
 * const engine = new DirectoryEngine('./Data')
 * await engine.open()
 * await engine.putRecord('notes', 'n1', { title: 'Hello', at: new Date() }) // ./Data/notes/n1.json
 */
export class DirectoryEngine extends Engine {
  readonly supports: EngineSupports = { persistent: true, rawPaths: true, readableFiles: true, snapshots: true }
  readonly root: string
  #db?: Db
  #changes: ExternalChange[] = []
  readonly #damage: DamageList
  /** The inner level store as its errors name it (made on first use). */
  #store: LevelStore | undefined
  #counts = new Map<string, number>()
  #raws = new Map<string, RawMeta>()
  /** Stored ids a case-insensitive file system could confuse with a new one. */
  #folded = new FoldedIds()
  #staged = new Map<string, StagedFile>()
  /** Record contents committed in the level store whose files are not in place yet (null: deleted). */
  #pending = new Map<string, string | null>()
  #pendingRaw = new Set<string>()
  /** Set while a level commit is in flight: record reads wait so they never see half of it. */
  #committing?: Promise<void>
  #applying?: Promise<void>
  #inflight?: Promise<void>
  #queue: Promise<void> = Promise.resolve()
  #stagings = new Set<Promise<unknown>>()
  #journalPending = false
  #seq = 0
  readonly #views: DirectoryViews

  constructor(root: string, options: DirectoryEngineOptions = {}) {
    super()
    if (typeof root !== 'string' || root.length === 0) throw new ArgumentError(`DirectoryEngine takes a root directory path, got ${JSON.stringify(root)}`)
    if (options === null || typeof options !== 'object') throw new ArgumentError(`DirectoryEngine options must be an object, got ${typeof options}`)
    if (options.onDamage !== undefined && typeof options.onDamage !== 'function') {
      throw new ArgumentError(`DirectoryEngine onDamage must be a function, got ${typeof options.onDamage}`)
    }
    this.root = resolve(root)
    this.#damage = new DamageList(options.onDamage)
    this.#views = new DirectoryViews(this.root, INDEX_DIR)
  }

  describe(): string {
    return `DirectoryEngine(${this.root})`
  }

  /**
   * Record files added, changed or removed by hand while the store was closed, found at this open or
   * an earlier one whose changes were never acknowledged.
   */
  override externalChanges(): ExternalChange[] {
    return this.#changes.map((c) => ({ ...c }))
  }

  /** Record files that cannot be read back: found at open (see the class comment) or by a read since. */
  override damaged(): DamagedRecord[] {
    return this.#damage.list()
  }

  override async acknowledgeExternalChanges(): Promise<void> {
    this.assertOpen('acknowledgeExternalChanges')
    const changes = this.#changes
    await this.#read(acknowledgeChanges(this.#db!, changes), () => 'acknowledging external changes')
    this.#changes = this.#changes.filter((c) => !changes.includes(c))
  }

  protected async _open(): Promise<void> {
    await this.#prepareRoot()
    const location = join(this.root, INDEX_DIR, 'index')
    try {
      await ensureDir(join(this.root, INDEX_DIR))
    } catch (err) {
      throw new InvalidPathError(`${this.describe()} cannot create its index directory ${join(this.root, INDEX_DIR)}: ${(err as Error).message}`, { cause: err })
    }
    const db: Db = new ClassicLevel<Buffer, string>(location, { keyEncoding: 'buffer', valueEncoding: 'utf8' })
    // Refuses a store without CURRENT; LockedError, CorruptionError... naming the store.
    await openLevelStore(db, db, this.#levelStore())
    try {
      await this.#replayJournals(db)
      await this.#removeLeftovers()
      this.#raws = await loadRaws(db)
      this.#folded = new FoldedIds()
      for (const key of this.#raws.keys()) this.#folded.add(...splitRecordKey(key))
      const { changes, counts, damaged } = await reconcile(db, this.root, INDEX_DIR, (collection, id) => this.#folded.add(collection, id))
      this.#changes = changes
      this.#counts = counts
      this.#damage.clear()
      for (const d of damaged) this.#damage.add(d)
    } catch (err) {
      await db.close().catch(() => {})
      throw this.#levelError(err, 'opening it')
    }
    this.#db = db
  }

  protected async _close(): Promise<void> {
    await Promise.all(this.#stagings)
    await this.#queue
    await this.#views.endAll()
    for (const staged of this.#staged.values()) await unlinkIfExists(staged.path).catch(() => {})
    this.#staged.clear()
    const db = this.#db
    this.#db = undefined
    await db?.close()
  }

  protected async _sync(): Promise<void> {
    // Every batch is durable when it resolves (fsynced files, synchronous level commit).
    await this.#queue
  }

  // Entries ------------------------------------------------------------------------------------

  protected async _get(key: string): Promise<unknown> {
    const text = await this.#read(this.#level.get(entryKey(key)), () => `reading entry ${JSON.stringify(key)}`)
    return text === undefined ? undefined : this.#decodeEntry(key, text)
  }

  protected async _getMany(keys: string[]): Promise<unknown[]> {
    const texts = await this.#read(this.#level.getMany(keys.map(entryKey)), () => `reading ${keys.length} entries (${JSON.stringify(keys[0])}...)`)
    return texts.map((text, i) => (text === undefined ? undefined : this.#decodeEntry(keys[i]!, text)))
  }

  protected async *_entries(range: Range): AsyncIterable<[string, unknown]> {
    for await (const [key, text] of this.#scan('entries', levelRange(NS.entry, range), true)) {
      const k = key.toString('utf8', 1)
      yield [k, this.#decodeEntry(k, text!)]
    }
  }

  protected async *_keys(range: Range): AsyncIterable<string> {
    for await (const [key] of this.#scan('keys', levelRange(NS.entry, range), false)) yield key.toString('utf8', 1)
  }

  // Records ------------------------------------------------------------------------------------

  protected async _getRecord(collection: string, id: string): Promise<unknown> {
    const value = await this.#loadRecord(collection, id)
    return value === MISSING ? undefined : value
  }

  protected async _getRecords(collection: string, ids: string[]): Promise<unknown[]> {
    return mapLimit(ids, 16, async (id) => {
      try {
        const value = await this.#loadRecord(collection, id)
        return value === MISSING ? undefined : value
      } catch (err) {
        if (err instanceof CorruptionError) return undefined // damaged: reported, the others read on
        throw err
      }
    })
  }

  protected async _hasRecord(collection: string, id: string): Promise<boolean> {
    if (this.#committing) await this.#committing
    return (await this.#read(this.#level.get(manifestKey(collection, id)), () => `looking up record ${collection}/${id}`)) !== undefined
  }

  protected async *_records(collection: string, range: Range): AsyncIterable<[string, unknown]> {
    const prefixBytes = Buffer.byteLength(manifestPrefix(collection))
    for await (const keys of this.#pages('records', levelRange(manifestPrefix(collection), range))) {
      const ids = keys.map((k) => k.toString('utf8', prefixBytes))
      // Read a page of files concurrently, then yield in order; an error surfaces at its record.
      const values = await Promise.allSettled(ids.map((id) => this.#loadRecord(collection, id)))
      for (let i = 0; i < ids.length; i++) {
        const v = values[i]!
        if (v.status === 'rejected') {
          if (v.reason instanceof CorruptionError) continue // damaged: reported, the others read on
          throw v.reason
        }
        if (v.value !== MISSING) yield [ids[i]!, v.value] // MISSING: deleted since the page was read
      }
    }
  }

  protected async *_recordIds(collection: string, range: Range): AsyncIterable<string> {
    const prefixBytes = Buffer.byteLength(manifestPrefix(collection))
    for await (const keys of this.#pages('recordIds', levelRange(manifestPrefix(collection), range))) {
      for (const k of keys) yield k.toString('utf8', prefixBytes)
    }
  }

  protected async *_collections(): AsyncIterable<string> {
    if (this.#committing) await this.#committing
    const names = [...this.#counts].filter(([, n]) => n > 0).map(([name]) => name)
    yield* names.sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)))
  }

  protected async _countRecords(collection: string): Promise<number> {
    if (this.#committing) await this.#committing
    return this.#counts.get(collection) ?? 0
  }

  // Raw data -----------------------------------------------------------------------------------

  protected _stageRaw(collection: string, id: string, source: Source, options: StageRawOptions): Promise<StagedRaw> {
    // close() waits for stagings in flight, like batches.
    const p = this.#stage(collection, id, source, options)
    const done = p.catch(() => {})
    this.#stagings.add(done)
    void done.then(() => this.#stagings.delete(done))
    return p
  }

  async #stage(collection: string, id: string, source: Source, options: StageRawOptions): Promise<StagedRaw> {
    // checkName keeps ids within 200 bytes and extensions are at most 16 characters: the name fits.
    const ext = rawExtension(options.extension)
    const dir = join(this.root, collection)
    await ensureDir(dir)
    const token = randomBytes(16).toString('hex')
    const path = tempPath(dir, 'stage', token)
    const { size, sha256 } = await streamToFile(path, source)
    if (!this.#db) {
      await unlinkIfExists(path)
      throw new ClosedError(`${this.describe()} was closed while raw data for ${collection}/${id} was being staged`)
    }
    this.#staged.set(token, { path, ext, size, sha256 })
    return { token, size, sha256 }
  }

  protected _discardRaw(staged: StagedRaw): Promise<void> {
    // In the write queue, so a batch that already took this staged data is never robbed of its file.
    return this.#exclusive(async () => {
      const file = this.#staged.get(staged?.token)
      if (!file) return
      this.#staged.delete(staged.token)
      await unlinkIfExists(file.path)
    })
  }

  protected async *_readRaw(collection: string, id: string, chunkSize: number): AsyncIterable<Uint8Array> {
    const key = recordKey(collection, id)
    for (;;) {
      await this.#rawSettled(key)
      const meta = this.#raws.get(key)
      if (!meta) return
      const path = join(this.root, collection, meta.f)
      const fh = await openRaw(path)
      // A batch may have replaced or deleted the data between the lookup and the open: look again.
      if (this.#raws.get(key) !== meta) {
        await fh?.close()
        continue
      }
      if (!fh) throw new CorruptionError(`Raw data file ${path} is missing (expected ${meta.s} bytes): deleted outside the store`)
      yield* streamRaw(fh, path, meta, chunkSize)
      return
    }
  }

  protected async _hasRaw(collection: string, id: string): Promise<boolean> {
    if (this.#committing) await this.#committing
    return this.#raws.has(recordKey(collection, id))
  }

  protected _rawPath(collection: string, id: string): string | undefined {
    const meta = this.#raws.get(recordKey(collection, id))
    return meta && join(this.root, collection, meta.f)
  }

  /** A read view (snapshots.ts), taken in the write queue: between batches, every file in place. */
  protected override _snapshot(): Promise<EngineSnapshot> {
    return this.#exclusive(async () => {
      const db = this.#level
      if (this.#journalPending) await this.#replayJournals(db)
      const collections = [...this.#counts].filter(([, n]) => n > 0).map(([name]) => name)
      collections.sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)))
      return this.#views.take({
        db,
        label: `a snapshot of ${this.describe()}`,
        collections,
        assertOpen: (method) => this.assertOpen(method),
        read: (p, doing) => this.#read(p, doing),
        decodeEntry: (key, text) => this.#decodeEntry(key, text),
        damaged: (collection, id, path, err) => void this.#damaged(collection, id, path, err),
      })
    })
  }

  // Writes -------------------------------------------------------------------------------------

  protected _batch(ops: WriteOp[]): Promise<void> {
    return this.#exclusive(() => {
      const p = this.#write(ops)
      this.#inflight = p.then(
        () => {},
        () => {},
      )
      return p
    })
  }

  /** Runs `fn` after every write queued before it, and before any queued after it. */
  #exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(fn)
    this.#queue = run.then(
      () => {},
      () => {},
    )
    return run
  }

  async #write(ops: WriteOp[]): Promise<void> {
    const db = this.#level
    if (this.#journalPending) await this.#replayJournals(db)

    // 1. Validate and encode everything before writing anything.
    const levelOps: LevelOp[] = []
    const records = new Map<string, RecordTarget>()
    const raws = new Map<string, RawTarget>()
    for (const op of ops) {
      switch (op.type) {
        case 'put':
          assertEncodable(op.value, `entry ${JSON.stringify(op.key)}`)
          levelOps.push({ type: 'put', key: entryKey(op.key), value: encodeJson(op.value, `entry ${JSON.stringify(op.key)}`) })
          break
        case 'del':
          levelOps.push({ type: 'del', key: entryKey(op.key) })
          break
        case 'putRecord':
          assertEncodable(op.value, `record ${op.collection}/${op.id}`)
          records.set(recordKey(op.collection, op.id), {
            collection: op.collection,
            id: op.id,
            text: encodeJson(op.value, `record ${op.collection}/${op.id}`, true),
          })
          break
        case 'delRecord':
          records.set(recordKey(op.collection, op.id), { collection: op.collection, id: op.id })
          break
        case 'putRaw': {
          const staged = this.#staged.get(op.staged.token)
          if (!staged) {
            throw new ArgumentError(`putRaw for ${op.collection}/${op.id}: staged raw data ${op.staged.token} is unknown, already committed or discarded`)
          }
          raws.set(recordKey(op.collection, op.id), { collection: op.collection, id: op.id, token: op.staged.token, staged })
          break
        }
        case 'delRaw':
          raws.set(recordKey(op.collection, op.id), { collection: op.collection, id: op.id })
          break
      }
    }
    await this.#refuseCaseCollisions(db, [...records.values(), ...raws.values()])
    const tokens = new Set<string>()
    for (const r of raws.values()) {
      if (!r.token) continue
      if (tokens.has(r.token)) throw new ArgumentError(`Staged raw data ${r.token} is used by two putRaw operations in one batch`)
      tokens.add(r.token)
    }

    // 2. Write new record files as fsynced temp files; nothing is visible yet.
    const recordList = [...records.values()]
    const dirs = new Set<string>() // every directory the batch changes, fsynced after the moves
    const newEntries = new Set<string>() // directories that get a temp file or a new file
    for (const r of recordList) {
      dirs.add(r.collection)
      if (r.text !== undefined) newEntries.add(r.collection)
    }
    for (const r of raws.values()) {
      dirs.add(r.collection)
      if (r.staged) {
        newEntries.add(r.collection)
        newEntries.add(this.#rel(dirname(r.staged.path)))
      }
    }
    for (const dir of newEntries) await ensureDir(join(this.root, dir))
    const temps = await this.#writeTemps(recordList)

    // 3. One synchronous level batch: entries, manifest, raw metadata and the journal record.
    const journal: JournalRecord = { renames: [], unlinks: [], dirs: [...new Set([...dirs, ...newEntries])] }
    let before: (string | undefined)[]
    try {
      before = await db.getMany(recordList.map((r) => manifestKey(r.collection, r.id)))
    } catch (err) {
      await this.#removeTemps(temps)
      throw this.#levelError(err, `reading the manifest of ${recordList.length} records to write`)
    }
    recordList.forEach((r, i) => {
      const file = `${r.collection}/${r.id}${RECORD_EXT}`
      const temp = temps[i]
      if (temp) {
        journal.renames.push([this.#rel(temp.path), file])
        const stamp: FileStamp = { s: temp.size, t: temp.mtimeMs }
        levelOps.push({ type: 'put', key: manifestKey(r.collection, r.id), value: JSON.stringify(stamp) })
      } else {
        journal.unlinks.push(file)
        levelOps.push({ type: 'del', key: manifestKey(r.collection, r.id) })
      }
    })
    for (const [key, r] of raws) {
      const old = this.#raws.get(key)
      if (r.staged) {
        const meta: RawMeta = { f: `${r.id}.${r.staged.ext}`, s: r.staged.size, h: r.staged.sha256 }
        journal.renames.push([this.#rel(r.staged.path), `${r.collection}/${meta.f}`])
        if (old && old.f !== meta.f) journal.unlinks.push(`${r.collection}/${old.f}`)
        levelOps.push({ type: 'put', key: rawKey(r.collection, r.id), value: JSON.stringify(meta) })
      } else if (old) {
        journal.unlinks.push(`${r.collection}/${old.f}`)
        levelOps.push({ type: 'del', key: rawKey(r.collection, r.id) })
      }
    }
    // The temp files' directory entries must be durable before the commit that points at them.
    try {
      await mapLimit([...newEntries], 8, (dir) => fsyncDir(join(this.root, dir)))
    } catch (err) {
      await this.#removeTemps(temps)
      throw err
    }
    const hasFiles = journal.renames.length > 0 || journal.unlinks.length > 0
    const jkey = journalKey(this.#seq++)
    if (hasFiles) levelOps.push({ type: 'put', key: jkey, value: JSON.stringify(journal) })

    let committed!: () => void
    this.#committing = new Promise((r) => (committed = r))
    try {
      await db.batch(levelOps, { sync: true })
    } catch (err) {
      this.#committing = undefined
      committed()
      await this.#removeTemps(temps)
      throw this.#levelError(err, `writing a batch of ${ops.length} operations`)
    }

    // 4. Committed: this process sees the new state at once (contents from memory until moved).
    recordList.forEach((r, i) => {
      const key = recordKey(r.collection, r.id)
      if (this.#damage.size > 0) this.#damage.delete(r.collection, r.id) // rewritten or deleted: mended
      if (r.text !== undefined) this.#folded.add(r.collection, r.id)
      else if (!this.#raws.has(key)) this.#folded.delete(r.collection, r.id)
      this.#pending.set(key, r.text ?? null)
      const delta = (r.text !== undefined ? 1 : 0) - (before[i] !== undefined ? 1 : 0)
      if (delta !== 0) this.#counts.set(r.collection, (this.#counts.get(r.collection) ?? 0) + delta)
    })
    for (const [key, r] of raws) {
      this.#pendingRaw.add(key)
      if (r.staged) {
        this.#raws.set(key, { f: `${r.id}.${r.staged.ext}`, s: r.staged.size, h: r.staged.sha256 })
        this.#folded.add(r.collection, r.id)
        this.#staged.delete(r.token!)
      } else {
        this.#raws.delete(key)
      }
    }
    let applied!: () => void
    this.#applying = new Promise((r) => (applied = r))
    this.#committing = undefined
    committed()

    // 5. Move the files into place, then clear the journal record. If this fails, the journal stays
    //    and is applied again before the next batch or at the next open; reads keep the overlay.
    try {
      if (hasFiles) {
        await this.#views.preserve(journal)
        await applyJournal(this.root, journal)
        await db.batch([{ type: 'del', key: jkey }, ...this.#placedStamps(recordList)])
      }
      this.#pending.clear()
      this.#pendingRaw.clear()
    } catch (err) {
      this.#journalPending = true
      throw err
    } finally {
      this.#applying = undefined
      applied()
    }
  }

  /**
   * Refuses a new id whose files would be the files of another stored id on a case-insensitive file
   * system (where one would overwrite the other), and two such ids in one batch. Ids already stored
   * are left alone: they may come from a case-sensitive system, or from before this check.
   */
  async #refuseCaseCollisions(db: Db, targets: Array<{ collection: string; id: string; text?: string; staged?: unknown }>): Promise<void> {
    const inBatch = new Map<string, string>()
    const collections = new Map<string, string>()
    const suspects: Array<{ collection: string; id: string; others: string[] }> = []
    for (const t of targets) {
      if (t.text === undefined && t.staged === undefined) continue // a removal
      const twinCollection = this.#folded.collectionTwin(t.collection) ?? collections.get(foldName(t.collection))
      if (twinCollection !== undefined && twinCollection !== t.collection) throw collectionCaseCollision(t.collection, twinCollection)
      collections.set(foldName(t.collection), t.collection)
      const folded = `${t.collection}\0${foldName(t.id)}`
      const twin = inBatch.get(folded)
      if (twin !== undefined && twin !== t.id) throw caseCollision(t.collection, t.id, twin)
      inBatch.set(folded, t.id)
      const others = this.#folded.suspects(t.collection, t.id)
      if (others.length > 0) suspects.push({ collection: t.collection, id: t.id, others })
    }
    const stored = async (collection: string, id: string) =>
      this.#raws.has(recordKey(collection, id)) || (await this.#read(db.get(manifestKey(collection, id)), () => `looking up record ${collection}/${id}`)) !== undefined
    for (const s of suspects) {
      if (await stored(s.collection, s.id)) continue
      for (const other of s.others) if (await stored(s.collection, other)) throw caseCollision(s.collection, s.id, other)
    }
  }

  /**
   * Full stamps (ctime included) of the record files a batch just put in place. Synchronous stats:
   * a few µs each, where each asynchronous one waits ~40 µs for the thread pool (+20% per batch).
   */
  #placedStamps(records: RecordTarget[]): LevelOp[] {
    const ops: LevelOp[] = []
    for (const r of records) {
      if (r.text === undefined) continue
      let stats
      try {
        stats = statSync(join(this.root, r.collection, r.id + RECORD_EXT))
      } catch {
        continue // the committed stamp (size and mtime) stays: the batch itself succeeded
      }
      ops.push({ type: 'put', key: manifestKey(r.collection, r.id), value: JSON.stringify(fileStamp(stats)) })
    }
    return ops
  }

  async #writeTemps(records: RecordTarget[]): Promise<(WrittenTemp | undefined)[]> {
    const results = await mapLimit(records, 32, async (r) => {
      if (r.text === undefined) return { temp: undefined }
      try {
        return { temp: await writeTemp(join(this.root, r.collection), r.text) }
      } catch (err) {
        return { temp: undefined, err }
      }
    })
    const temps = results.map((r) => r.temp)
    const failed = results.find((r) => 'err' in r)
    if (failed) {
      await this.#removeTemps(temps)
      throw failed.err
    }
    return temps
  }

  async #removeTemps(temps: (WrittenTemp | undefined)[]): Promise<void> {
    for (const t of temps) if (t) await unlinkIfExists(t.path).catch(() => {})
  }

  /** Applies the journal records a crash (or a failed apply) left, oldest first. */
  async #replayJournals(db: Db): Promise<void> {
    const prefix = Buffer.from(NS.journal)
    const end = Buffer.from(String.fromCharCode(NS.journal.charCodeAt(0) + 1))
    const left = await db.iterator({ gte: prefix, lt: end }).all()
    for (const [key, text] of left) {
      let record: JournalRecord
      try {
        record = parseJournal(text)
      } catch (err) {
        throw new CorruptionError(`${this.describe()}: journal record ${key.toString()} in ${join(this.root, INDEX_DIR)} is garbled`, { cause: err })
      }
      await this.#views.preserve(record)
      await applyJournal(this.root, record)
      await db.del(key)
    }
    this.#pending.clear()
    this.#pendingRaw.clear()
    this.#journalPending = false
  }

  // Helpers ------------------------------------------------------------------------------------

  get #level(): Db {
    if (!this.#db) throw new ClosedError(`${this.describe()} is not open`)
    return this.#db
  }

  /** The level store, as the errors of level-errors.ts name it. */
  #levelStore(): LevelStore {
    if (this.#store === undefined) {
      const location = join(this.root, INDEX_DIR, 'index')
      this.#store = { engine: this.describe(), location, repair: `LevelEngine.repair(${JSON.stringify(location)})` }
    }
    return this.#store
  }

  /** A failure of the level store while `doing` something, as a Stowage error (a damaged file: CorruptionError). */
  #levelError(err: unknown, doing: string): unknown {
    return levelError(err, this.#levelStore(), doing)
  }

  /** A read of the level store, its failure translated. */
  #read<T>(p: Promise<T>, doing: () => string): Promise<T> {
    return translated(p, this.#levelStore(), doing)
  }

  async #prepareRoot(): Promise<void> {
    let isDir: boolean
    try {
      isDir = (await stat(this.root)).isDirectory()
    } catch (err) {
      if (!isNotFound(err)) throw new InvalidPathError(`${this.describe()} cannot use ${this.root}: ${(err as Error).message}`, { cause: err })
      try {
        await mkdir(this.root, { recursive: true })
        return
      } catch (err2) {
        throw new InvalidPathError(`${this.describe()} cannot create its root directory ${this.root}: ${(err2 as Error).message}`, { cause: err2 })
      }
    }
    if (!isDir) throw new InvalidPathError(`${this.describe()} cannot use ${this.root} as its root: it is a file, not a directory`)
  }

  /** Temp and staged files left by a crash (dot files with our prefix in collection directories). */
  async #removeLeftovers(): Promise<void> {
    await this.#views.removeLeftovers()
    // Directories are read as streams: a collection of a million files is never listed whole.
    for (const top of await readdir(this.root, { withFileTypes: true })) {
      if (!top.isDirectory() || top.name === INDEX_DIR) continue
      for await (const entry of await opendir(join(this.root, top.name), { bufferSize: 256 })) {
        if (entry.name.startsWith(TEMP_PREFIX) && isTempName(entry.name) && !entry.isDirectory()) await unlinkIfExists(join(this.root, top.name, entry.name))
      }
    }
  }

  /**
   * A record's value, or MISSING. Waits for an in-flight commit so it never sees half a batch.
   * A record file that cannot be read back is added to the damage list, and its CorruptionError
   * thrown; one that reads is taken off it (it was mended by hand while open).
   */
  async #loadRecord(collection: string, id: string, retry = true): Promise<unknown> {
    if (this.#committing) await this.#committing
    const key = recordKey(collection, id)
    const path = join(this.root, collection, id + RECORD_EXT)
    if (this.#pending.has(key)) {
      const text = this.#pending.get(key)
      return text == null ? MISSING : decodeJson(text, `Record file ${path}`)
    }
    let text: string
    try {
      text = await readFile(path, 'utf8')
    } catch (err) {
      if (!isNotFound(err)) throw err
      if ((await this.#read(this.#level.get(manifestKey(collection, id)), () => `looking up record ${collection}/${id}`)) === undefined) return MISSING
      // Listed but missing: either a batch is creating it right now, or it was deleted by hand.
      if (retry && this.#inflight) {
        await this.#inflight
        return this.#loadRecord(collection, id, false)
      }
      throw this.#damaged(collection, id, path, new CorruptionError(`Record file ${path} is missing but listed in the store's manifest: deleted outside the store`))
    }
    let value: unknown
    try {
      value = decodeJson(text, `Record file ${path}`)
    } catch (err) {
      throw this.#damaged(collection, id, path, err as CorruptionError)
    }
    if (this.#damage.size > 0) this.#damage.delete(collection, id)
    return value
  }

  #damaged(collection: string, id: string, file: string, err: CorruptionError): CorruptionError {
    this.#damage.add({ collection, id, file, reason: err.message })
    return err
  }

  async #rawSettled(key: string): Promise<void> {
    if (this.#committing) await this.#committing
    if (this.#pendingRaw.has(key) && this.#applying) await this.#applying
  }

  /** Keys of a range in pages, re-checking the state between pages. */
  async *#pages(method: string, range: LevelRange): AsyncGenerator<Buffer[]> {
    let remaining = range.limit
    const bounds: Omit<LevelRange, 'limit'> = { ...range }
    for (;;) {
      const n = remaining < 0 ? PAGE : Math.min(PAGE, remaining)
      if (n === 0) return
      this.assertOpen(method)
      const keys = await this.#read(this.#level.keys(Object.assign({}, bounds, { limit: n })).all(), () => `reading the ids listed for ${method}()`)
      if (keys.length === 0) return
      yield keys
      if (keys.length < n) return
      if (remaining > 0) remaining -= keys.length
      const last = keys[keys.length - 1]!
      if (range.reverse) {
        delete bounds.lte
        bounds.lt = last
      } else {
        delete bounds.gte
        bounds.gt = last
      }
    }
  }

  async *#scan(method: string, range: LevelRange, values: boolean): AsyncGenerator<[Buffer, string | undefined]> {
    this.assertOpen(method)
    const it = this.#level.iterator(Object.assign({}, range, { values }))
    try {
      for (;;) {
        this.assertOpen(method)
        const batch = await this.#read(it.nextv(128), () => `reading the entries listed for ${method}()`)
        if (batch.length === 0) return
        for (const entry of batch) yield entry
      }
    } finally {
      await it.close().catch(() => {})
    }
  }

  #decodeEntry(key: string, text: string): unknown {
    return decodeJson(text, `Entry ${JSON.stringify(key)} in ${join(this.root, INDEX_DIR, 'index')}`)
  }

  #rel(path: string): string {
    return relative(this.root, path).split('\\').join('/')
  }
}

function recordKey(collection: string, id: string): string {
  return `${collection}\0${id}`
}

function splitRecordKey(key: string): [collection: string, id: string] {
  const nul = key.indexOf('\0')
  return [key.slice(0, nul), key.slice(nul + 1)]
}

async function loadRaws(db: Db): Promise<Map<string, RawMeta>> {
  const out = new Map<string, RawMeta>()
  for await (const [key, text] of db.iterator(levelRange(NS.raw, {}))) {
    out.set(key.toString('utf8', 1), JSON.parse(text) as RawMeta)
  }
  return out
}
