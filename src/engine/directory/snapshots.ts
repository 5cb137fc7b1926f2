import { copyFile, link, mkdir, readFile, rm } from 'node:fs/promises'
import type { FileHandle } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import type { ClassicLevel } from 'classic-level'
import { ClosedError, CorruptionError } from '../../errors.js'
import type { EngineSnapshot, Range } from '../engine.js'
import { isNotFound } from './atomic-file.js'
import type { JournalRecord } from './journal.js'
import { decodeJson } from './json-codec.js'
import { levelRange, manifestPrefix, NS, rawKey } from './keys.js'
import { openRaw, streamRaw } from './raw-files.js'
import type { RawMeta } from './raw-files.js'
import { RECORD_EXT } from './reconcile.js'

type Db = ClassicLevel<Buffer, string>
type LevelSnapshot = ReturnType<Db['snapshot']>

/** What a view needs of its engine. */
export interface ViewSource {
  db: Db
  label: string
  /** The collections holding records when the view is taken, in order. */
  collections: string[]
  /** Throws ClosedError once the engine is closing. */
  assertOpen(method: string): void
  /** A read of the level store, its failure translated to a Stowage error. */
  read<T>(p: Promise<T>, doing: () => string): Promise<T>
  decodeEntry(key: string, text: string): unknown
  /** Reports a damaged record file found by a read of the live file. */
  damaged(collection: string, id: string, path: string, err: CorruptionError): void
}

const PAGE = 64

/**
 * Consistent read views of a Directory store while writes go on, without pausing them.
 *
 * A view is the level store's own snapshot (entries, the record manifest and raw metadata as they
 * were) plus the record and raw files as they were. The engine never changes a committed file in
 * place: a batch replaces or removes files only by the renames and unlinks of its journal record
 * (journal.ts), and the engine takes a view only between batches, when every file matches the level
 * store. So before a journal record is applied while views are open, `preserve()` hard-links each
 * file it will replace or remove into each view's directory (`.stowage/snapshots/<n>/<collection>/
 * <file>`), once per view and file: the first link keeps the version the view saw. A view reads a
 * file where it lives, then looks whether it was preserved meanwhile (preservation finishes before
 * the rename starts, so a read that may have caught the new file always finds the link) and reads
 * the link instead if so.
 *
 * Writers pay one link() per file they touch for the first time while a view is open, whatever the
 * file's size: nothing is copied (copying pre-images would cost writers the bytes of every object
 * they change, raw data included) and nothing waits for the reader (pausing writes for the whole
 * read, as before, stopped the app for minutes on a large store). The links hold the old versions'
 * disk space until the view is released. On a file system without hard links, pre-images are copied.
 * A link shares its file's contents, so a file edited in place behind the store's back (never by
 * the engine) changes in the view too: raw data then fails its size or SHA-256 check when read.
 * Views end with `release()`, the engine's close, or a crash (their directory is removed at open).
 */
export class DirectoryViews {
  readonly dir: string
  readonly #root: string
  readonly #views = new Set<DirectoryView>()
  #next = 0

  constructor(root: string, indexDir: string) {
    this.#root = root
    this.dir = join(root, indexDir, 'snapshots')
  }

  /** Removes what views left behind (a crash, or a kill, while one was open). */
  removeLeftovers(): Promise<void> {
    return rm(this.dir, { recursive: true, force: true })
  }

  /** A view of the store as it is now: call only between batches, with every file in place. */
  take(source: ViewSource): EngineSnapshot {
    const view = new DirectoryView(this.#root, join(this.dir, String(this.#next++)), source, source.db.snapshot(), (v) => this.#views.delete(v))
    this.#views.add(view)
    return view.api()
  }

  /** Keeps, for every open view, the files `journal` is about to replace or remove. */
  async preserve(journal: JournalRecord): Promise<void> {
    if (this.#views.size === 0) return
    const files = [...journal.renames.map(([, to]) => to), ...journal.unlinks]
    for (const view of this.#views) await view.preserve(files)
  }

  /** Ends every view (the engine is closing). */
  async endAll(): Promise<void> {
    await Promise.all([...this.#views].map((v) => v.release()))
  }
}

class DirectoryView {
  /** Files preserved for this view, relative to the root: the link's path, or null if there was no file. */
  readonly #preserved = new Map<string, string | null>()
  readonly #made = new Set<string>()
  #released = false

  constructor(
    readonly root: string,
    readonly dir: string,
    readonly source: ViewSource,
    readonly snapshot: LevelSnapshot,
    readonly onRelease: (view: DirectoryView) => void,
  ) {}

  async preserve(files: string[]): Promise<void> {
    for (const rel of files) {
      if (this.#released) return
      if (this.#preserved.has(rel)) continue
      const to = join(this.dir, rel)
      const parent = dirname(to)
      if (!this.#made.has(parent)) {
        await mkdir(parent, { recursive: true })
        this.#made.add(parent)
      }
      this.#preserved.set(rel, (await keep(join(this.root, rel), to)) ? to : null)
    }
  }

  async release(): Promise<void> {
    if (this.#released) return
    this.#released = true
    this.onRelease(this)
    await this.snapshot.close().catch(() => {})
    await rm(this.dir, { recursive: true, force: true })
  }

  api(): EngineSnapshot {
    const { label } = this.source
    return {
      describe: () => label,
      collections: () => this.#collections(),
      records: (collection, range = {}) => this.#records(collection, range),
      entries: (range = {}) => this.#entries(range),
      hasRaw: async (collection, id) => (await this.#rawMeta(collection, id)) !== undefined,
      readRaw: (collection, id, options = {}) => this.#readRaw(collection, id, options.chunkSize ?? 64 * 1024),
      release: () => this.release(),
    }
  }

  #check(method: string): void {
    this.source.assertOpen(method)
    if (this.#released) throw new ClosedError(`${this.source.label} was released`)
  }

  async *#collections(): AsyncGenerator<string> {
    this.#check('collections')
    yield* this.source.collections
  }

  async *#entries(range: Range): AsyncGenerator<[string, unknown]> {
    for await (const [key, text] of this.#scan('entries', levelRange(NS.entry, range), true)) {
      const k = key.toString('utf8', 1)
      yield [k, this.source.decodeEntry(k, text!)]
    }
  }

  async *#records(collection: string, range: Range): AsyncGenerator<[string, unknown]> {
    const prefix = manifestPrefix(collection)
    const prefixBytes = Buffer.byteLength(prefix)
    let page: string[] = []
    const flush = async function* (this: DirectoryView): AsyncGenerator<[string, unknown]> {
      // A page of files read concurrently, yielded in order; damaged ones skipped.
      const values = await Promise.all(page.map((id) => this.#record(collection, id)))
      for (let i = 0; i < page.length; i++) if (values[i] !== DAMAGED) yield [page[i]!, values[i]]
      page = []
    }
    for await (const [key] of this.#scan('records', levelRange(prefix, range), false)) {
      page.push(key.toString('utf8', prefixBytes))
      if (page.length >= PAGE) yield* flush.call(this)
    }
    yield* flush.call(this)
  }

  /** A record as the view saw it, or DAMAGED (its file was missing or garbled then). */
  async #record(collection: string, id: string): Promise<unknown> {
    const rel = `${collection}/${id}${RECORD_EXT}`
    const live = join(this.root, rel)
    let text = this.#preserved.has(rel) ? undefined : await readText(live)
    let path = live
    if (this.#preserved.has(rel)) {
      const kept = this.#preserved.get(rel)!
      if (kept === null) return DAMAGED
      path = kept
      text = await readText(kept)
    }
    if (text === undefined) {
      if (path === live) this.source.damaged(collection, id, live, new CorruptionError(`Record file ${live} is missing but listed in the store's manifest: deleted outside the store`))
      return DAMAGED
    }
    try {
      return decodeJson(text, `Record file ${path}`)
    } catch (err) {
      if (path === live) this.source.damaged(collection, id, live, err as CorruptionError)
      return DAMAGED
    }
  }

  async #rawMeta(collection: string, id: string): Promise<RawMeta | undefined> {
    this.#check('hasRaw')
    const text = await this.source.read(this.source.db.get(rawKey(collection, id), { snapshot: this.snapshot }), () => `looking up the raw data of ${collection}/${id} in ${this.source.label}`)
    return text === undefined ? undefined : (JSON.parse(text) as RawMeta)
  }

  async *#readRaw(collection: string, id: string, chunkSize: number): AsyncGenerator<Uint8Array> {
    const meta = await this.#rawMeta(collection, id)
    if (meta === undefined) return
    const rel = `${collection}/${meta.f}`
    let path = join(this.root, rel)
    let fh: FileHandle | undefined
    if (!this.#preserved.has(rel)) fh = await openRaw(path)
    if (this.#preserved.has(rel)) {
      await fh?.close()
      const kept = this.#preserved.get(rel)!
      fh = kept === null ? undefined : await openRaw(kept)
      path = kept ?? path
    }
    if (!fh) throw new CorruptionError(`Raw data file ${path} is missing (expected ${meta.s} bytes): deleted outside the store`)
    yield* streamRaw(fh, path, meta, chunkSize)
  }

  async *#scan(method: string, range: ReturnType<typeof levelRange>, values: boolean): AsyncGenerator<[Buffer, string | undefined]> {
    this.#check(method)
    const it = this.source.db.iterator(Object.assign({}, range, { values, snapshot: this.snapshot }))
    try {
      for (;;) {
        this.#check(method)
        const batch = await this.source.read(it.nextv(128), () => `reading ${method} in ${this.source.label}`)
        if (batch.length === 0) return
        yield* batch
      }
    } finally {
      await it.close().catch(() => {})
    }
  }
}

const DAMAGED = Symbol('damaged')

/** Keeps the file at `from` as `to` (a hard link, or a copy where links fail); false if there is no file. */
async function keep(from: string, to: string): Promise<boolean> {
  try {
    await link(from, to)
    return true
  } catch (err) {
    if (isNotFound(err)) return false
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'EEXIST') return true
    if (code !== 'EXDEV' && code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EMLINK') throw err
  }
  try {
    await copyFile(from, to)
    return true
  } catch (err) {
    if (isNotFound(err)) return false
    throw err
  }
}

async function readText(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8')
  } catch (err) {
    if (isNotFound(err)) return undefined
    throw err
  }
}
