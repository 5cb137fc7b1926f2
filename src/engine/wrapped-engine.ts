import { createHash } from 'node:crypto'
import { Engine, type EngineSnapshot, type EngineSupports, type Range, type Source, type StagedRaw, type StageRawOptions, type WriteOp } from './engine.js'

/** How stored entry keys map to the keys callers use (see `WrappedEngine.storedRange`). */
export interface StoredRange {
  range: Range
  back: (stored: string) => string
}

/**
 * An engine over another one that changes what is stored, not what is meant: values (records, entry
 * values), entry keys and raw data go through the transforms below on their way in and out, and
 * everything else is the inner engine's. The encrypted and compressed engines are made of it.
 * Every transform defaults to none.
 */
export abstract class WrappedEngine extends Engine {
  readonly inner: Engine
  readonly supports: EngineSupports
  /** Inner staged raw data by the token handed out (its size and digest are of the stored bytes). */
  readonly #staged = new Map<string, StagedRaw>()

  constructor(inner: Engine, supports: Partial<EngineSupports> = {}) {
    super()
    this.inner = inner
    const s = inner.supports
    this.supports = { persistent: s.persistent, rawPaths: s.rawPaths, readableFiles: s.readableFiles, syncReads: s.syncReads, syncRanges: s.syncRanges, backgroundReads: s.backgroundReads, snapshots: s.snapshots, ...supports }
  }

  /**
   * Whether the inner store already holds records (and, with `entries`, any entry): data written
   * without this wrapper, which it would misread.
   */
  protected async innerHolds(entries: boolean): Promise<boolean> {
    for await (const _ of this.inner.collections()) return true
    if (entries) for await (const _ of this.inner.keys({ limit: 1 })) return true
    return false
  }

  // Transforms --------------------------------------------------------------------------------

  /** The key an entry is stored under. */
  protected storedKey(key: string): string {
    return key
  }

  override listedKey(key: string): string {
    return this.inner.listedKey(this.storedKey(key))
  }

  /** The range to read in the inner engine for a range of entry keys, and each stored key as callers know it. */
  protected storedRange(range: Range): StoredRange {
    return { range, back: (k) => k }
  }

  /** Entries of the wrapper's own, never shown to callers. */
  protected hidden(_storedKey: string): boolean {
    return false
  }

  protected sealEntry(_storedKey: string, value: unknown): unknown {
    return value
  }

  protected openEntry(_storedKey: string, stored: unknown): unknown {
    return stored
  }

  protected sealRecord(_collection: string, _id: string, value: unknown): unknown {
    return value
  }

  protected openRecord(_collection: string, _id: string, stored: unknown): unknown {
    return stored
  }

  /** The bytes to store for raw data (the size and digest callers get are of `source`). */
  protected encodeRaw(_collection: string, _id: string, source: AsyncIterable<Uint8Array>, _options: StageRawOptions): AsyncIterable<Uint8Array> {
    return source
  }

  /** The raw data read back from the stored bytes, in chunks of at most `chunkSize`. */
  protected decodeRaw(_collection: string, _id: string, stored: (chunkSize: number) => AsyncIterable<Uint8Array>, chunkSize: number, _store: string): AsyncIterable<Uint8Array> {
    return stored(chunkSize)
  }

  // The engine -------------------------------------------------------------------------------

  protected _open(): Promise<void> {
    return this.inner.open()
  }

  protected _close(): Promise<void> {
    return this.inner.close()
  }

  protected _sync(): Promise<void> {
    return this.inner.sync()
  }

  #entry = (storedKey: string, stored: unknown): unknown => (stored === undefined ? undefined : this.openEntry(storedKey, stored))
  #record = (collection: string, id: string, stored: unknown): unknown => (stored === undefined ? undefined : this.openRecord(collection, id, stored))

  protected async _get(key: string): Promise<unknown> {
    const stored = this.storedKey(key)
    return this.#entry(stored, await this.inner.get(stored))
  }

  protected async _getMany(keys: string[]): Promise<unknown[]> {
    const stored = keys.map((k) => this.storedKey(k))
    const values = await this.inner.getMany(stored)
    return values.map((v, i) => this.#entry(stored[i]!, v))
  }

  protected _entries(range: Range): AsyncIterable<[string, unknown]> {
    const { range: stored, back } = this.storedRange(range)
    return this.#entriesOf(this.inner.entries(stored), back)
  }

  async *#entriesOf(items: AsyncIterable<[string, unknown]>, back: (k: string) => string): AsyncIterable<[string, unknown]> {
    for await (const [stored, value] of items) if (!this.hidden(stored)) yield [back(stored), this.#entry(stored, value)]
  }

  protected async *_keys(range: Range): AsyncIterable<string> {
    const { range: stored, back } = this.storedRange(range)
    for await (const key of this.inner.keys(stored)) if (!this.hidden(key)) yield back(key)
  }

  protected async _getRecord(collection: string, id: string): Promise<unknown> {
    return this.#record(collection, id, await this.inner.getRecord(collection, id))
  }

  protected async _getRecords(collection: string, ids: string[]): Promise<unknown[]> {
    const values = await this.inner.getRecords(collection, ids)
    return values.map((v, i) => this.#record(collection, ids[i]!, v))
  }

  protected _hasRecord(collection: string, id: string): Promise<boolean> {
    return this.inner.hasRecord(collection, id)
  }

  protected async *_records(collection: string, range: Range): AsyncIterable<[string, unknown]> {
    for await (const [id, value] of this.inner.records(collection, range)) yield [id, this.#record(collection, id, value)]
  }

  protected _recordIds(collection: string, range: Range): AsyncIterable<string> {
    return this.inner.recordIds(collection, range)
  }

  protected _collections(): AsyncIterable<string> {
    return this.inner.collections()
  }

  protected _countRecords(collection: string): Promise<number> {
    return this.inner.countRecords(collection)
  }

  protected override _getSync(key: string): unknown {
    const stored = this.storedKey(key)
    return this.#entry(stored, this.inner.getSync(stored))
  }

  protected override _getRecordSync(collection: string, id: string): unknown {
    return this.#record(collection, id, this.inner.getRecordSync(collection, id))
  }

  protected override *_entriesSync(range: Range): Iterable<[string, unknown]> {
    const { range: stored, back } = this.storedRange(range)
    for (const [s, value] of this.inner.entriesSync(stored)) if (!this.hidden(s)) yield [back(s), this.#entry(s, value)]
  }

  protected override *_keysSync(range: Range): Iterable<string> {
    const { range: stored, back } = this.storedRange(range)
    for (const s of this.inner.keysSync(stored)) if (!this.hidden(s)) yield back(s)
  }

  protected override *_recordsSync(collection: string, range: Range): Iterable<[string, unknown]> {
    for (const [id, value] of this.inner.recordsSync(collection, range)) yield [id, this.#record(collection, id, value)]
  }

  protected async _batch(ops: WriteOp[]): Promise<void> {
    const stored: WriteOp[] = ops.map((op) => {
      switch (op.type) {
        case 'put': {
          const key = this.storedKey(op.key)
          return Object.assign({}, op, { key, value: this.sealEntry(key, op.value ?? null) })
        }
        case 'del':
          return { type: 'del', key: this.storedKey(op.key) }
        case 'putRecord':
          return Object.assign({}, op, { value: this.sealRecord(op.collection, op.id, op.value) })
        case 'putRaw': {
          const inner = this.#staged.get(op.staged.token)
          return inner === undefined ? op : Object.assign({}, op, { staged: inner }) // an unknown token: the inner engine refuses it
        }
        default:
          return op
      }
    })
    await this.inner.batch(stored)
    for (const op of ops) if (op.type === 'putRaw') this.#staged.delete(op.staged.token)
  }

  protected async _stageRaw(collection: string, id: string, source: Source, options: StageRawOptions): Promise<StagedRaw> {
    const hash = createHash('sha256')
    let size = 0
    async function* measured(): AsyncGenerator<Uint8Array> {
      for await (const chunk of source as AsyncIterable<Uint8Array>) {
        hash.update(chunk)
        size += chunk.length
        yield chunk
      }
    }
    const staged = await this.inner.stageRaw(collection, id, this.encodeRaw(collection, id, measured(), options), options)
    this.#staged.set(staged.token, staged)
    return { token: staged.token, size, sha256: hash.digest('hex') }
  }

  protected async _discardRaw(staged: StagedRaw): Promise<void> {
    const inner = this.#staged.get(staged.token)
    this.#staged.delete(staged.token)
    if (inner !== undefined) await this.inner.discardRaw(inner)
  }

  protected _readRaw(collection: string, id: string, chunkSize: number): AsyncIterable<Uint8Array> {
    return this.decodeRaw(collection, id, (size) => this.inner.readRaw(collection, id, { chunkSize: size }), chunkSize, this.describe())
  }

  protected _hasRaw(collection: string, id: string): Promise<boolean> {
    return this.inner.hasRaw(collection, id)
  }

  protected _rawPath(collection: string, id: string): string | undefined {
    return this.supports.rawPaths ? this.inner.rawPath(collection, id) : undefined
  }

  protected override async _snapshot(): Promise<EngineSnapshot> {
    const view = await this.inner.snapshot()
    const self = this
    return {
      describe: () => `${this.describe()} at a snapshot`,
      collections: () => view.collections(),
      records: async function* (collection, range) {
        for await (const [id, v] of view.records(collection, range)) yield [id, self.#record(collection, id, v)] as [string, unknown]
      },
      entries: (range) => {
        const { range: stored, back } = this.storedRange(range ?? {})
        return this.#entriesOf(view.entries(stored), back)
      },
      hasRaw: (collection, id) => view.hasRaw(collection, id),
      readRaw: (collection, id, options) => this.decodeRaw(collection, id, (size) => view.readRaw(collection, id, { chunkSize: size }), options?.chunkSize ?? 64 * 1024, view.describe()),
      release: () => view.release(),
    }
  }
}
