import { assertEncodable } from '../engine/plain-data.js'
import { ArgumentError, CorruptionError, NotFoundError } from '../errors.js'
import { modelHooks } from '../model/model-hooks.js'
import { STATE, type ObjectState } from '../model/object-state.js'
import { claim, DATA_MEMBER, foreignMembers, isForeign, mayClaim, META_MEMBER } from '../model/ownership.js'
import { validateState, writeValues } from '../model/records.js'
import { databaseFor } from '../model/registry.js'
import { MODEL_KIND, StoredObject, type ModelClass, type Props } from '../model/stored-object.js'
import { transactionOf } from '../model/transaction.js'
import { declaredType, discardStaged, stageData } from './raw-staging.js'
import { copyMeta, describe, noData, plainMeta, rawStateOf, storedRawOf, type RawState } from './raw-state.js'
import { toByteSource, type RawInput } from './sources.js'

/** Metadata of a raw object: any plain data, by name. */
export type RawMeta = Record<string, unknown>

const DEFAULT_CHUNK = 64 * 1024
const LOAD_CHUNK = 1024 * 1024

/**
 * Base class of models that store binary data (streamed, never held whole in memory) with metadata.
 * The free-form `meta()` dictionary holds any plain data; properties declared with `@Property` are
 * typed, validated and indexable like on any model, and `meta()` reads and writes them by name too.
 *
 * @example
 * ```ts
 * @Model()
 * class Image extends StoredRaw {
 *   @Property(Types.INTEGER) @Index() width?: number
 * }
 * const img = await Image.create(createReadStream('photo.jpg'), { format: 'jpeg', width: 1920 })
 * for await (const chunk of img.data(64 * 1024)) out.write(chunk)
 * ```
 */
export class StoredRaw extends StoredObject {
  static override readonly [MODEL_KIND] = 'raw' as const

  constructor(props?: object) {
    super(props)
  }

  /** Size of the stored data in bytes; undefined until saved with data. */
  get size(): number | undefined {
    return storedRawOf(this[STATE])?.size
  }

  /** Hex SHA-256 of the stored data; undefined until saved with data. */
  get sha256(): string | undefined {
    return storedRawOf(this[STATE])?.sha256
  }

  /**
   * The media type when known: the `contentType` meta, else the type of a known `format` meta
   * (`'jpeg'` gives `'image/jpeg'`), else the type recognised from the stored data's first bytes.
   */
  get contentType(): string | undefined {
    return declaredType(rawStateOf(this).meta) ?? storedRawOf(this[STATE])?.sniffed
  }

  /**
   * `meta()`: a copy of all metadata (declared properties included); `meta(key)`: one value;
   * `meta(key, value)`: sets it (`undefined` deletes it) and returns the object; `save()` stores it.
   */
  meta(): RawMeta
  meta(key: string): unknown
  meta(key: string, value: unknown): this
  meta(key?: string, ...value: unknown[]): unknown {
    const state = this[STATE]
    if (key === undefined && value.length === 0) {
      const all = plainMeta(rawStateOf(this).meta)
      for (const name of state.meta.properties.keys()) {
        if (state.values[name] !== undefined) all[name] = (this as any)[name]
      }
      return structuredClone(all)
    }
    checkKey(state, key)
    if (value.length === 0) {
      if (state.meta.properties.has(key!)) return (this as any)[key!]
      const v = rawStateOf(this).meta[key!]
      return v === null || typeof v !== 'object' ? v : structuredClone(v)
    }
    return this.setMeta({ [key!]: value[0] } as RawMeta)
  }

  /** Sets several metadata values (merged into the current ones; `undefined` deletes a key); returns the object. */
  setMeta(values: RawMeta): this {
    const state = this[STATE]
    if (values === null || typeof values !== 'object' || Array.isArray(values)) {
      throw new ArgumentError(`${describe(state)}: setMeta() takes an object of metadata, got ${values === null ? 'null' : Array.isArray(values) ? 'an array' : typeof values}`)
    }
    const free: Array<[string, unknown]> = []
    for (const key of Object.keys(values)) {
      checkKey(state, key)
      const value = values[key]
      if (state.meta.properties.has(key)) continue
      assertEncodable(value, `${describe(state)} meta ${JSON.stringify(key)}`)
      free.push([key, value === null || typeof value !== 'object' ? value : structuredClone(value)])
    }
    // Everything checked: now apply, declared properties through their accessors.
    for (const key of Object.keys(values)) if (state.meta.properties.has(key)) (this as any)[key] = values[key]
    if (free.length > 0) {
      claimMeta(this)
      const meta = rawStateOf(this).meta
      for (const [key, value] of free) {
        if (value === undefined) delete meta[key]
        else meta[key] = value
      }
      changed(this)
    }
    return this
  }

  /**
   * Gives new data (bytes, a Blob, a Node Readable, a web ReadableStream or an async iterable of
   * Uint8Array), stored by the next `save()`. The stored data stays readable until that save commits.
   */
  setData(input: RawInput): this {
    const state = this[STATE]
    const r = rawStateOf(this)
    const source = toByteSource(input, describe(state))
    claimData(this, r)
    r.source = source
    r.consumed = undefined
    changed(this)
    return this
  }

  /** The stored data in chunks of at most `chunkSize` bytes, streamed. */
  data(chunkSize: number = DEFAULT_CHUNK): AsyncIterable<Uint8Array> {
    if (!Number.isInteger(chunkSize) || chunkSize <= 0) {
      throw new ArgumentError(`${describe(this[STATE])}: data() takes a chunk size in bytes (a positive integer), got ${String(chunkSize)}`)
    }
    return readData(this, chunkSize)
  }

  /** The whole stored data as one Uint8Array (held in memory: prefer `data()` for large data). */
  async loadData(): Promise<Uint8Array> {
    const expected = storedRawOf(this[STATE])?.size ?? 0
    const chunks: Uint8Array[] = []
    let size = 0
    for await (const chunk of readData(this, LOAD_CHUNK)) {
      chunks.push(chunk)
      size += chunk.length
    }
    if (chunks.length === 1 && chunks[0]!.length === size) return chunks[0]!
    const out = new Uint8Array(size === expected ? expected : size)
    let at = 0
    for (const c of chunks) {
      out.set(c, at)
      at += c.length
    }
    return out
  }

  /** A real file holding the stored data on the Directory engine; undefined on other engines or without data. */
  path(): string | undefined {
    const state = this[STATE]
    const { engine } = databaseFor(state.meta)
    if (!engine.supports.rawPaths || storedRawOf(state) === undefined) return undefined
    return engine.rawPath(state.meta.collection, state.oid)
  }

  /**
   * Streams new data given with `setData()` into the engine first (outside the write queue), then
   * writes the object, its metadata and the data in one atomic write. If the source fails or the
   * save is refused, nothing is stored and the previous data stays.
   */
  override async save(): Promise<this> {
    const r = rawStateOf(this)
    const run = r.lock.then(() => saveRaw(this, r, () => super.save()))
    r.lock = run.catch(() => {})
    await run
    return this
  }

  /** Deletes the object, its metadata and its data in one atomic write. */
  override async remove(): Promise<void> {
    await super.remove()
    if (!inTransaction(this)) {
      const r = rawStateOf(this)
      r.source = undefined
      await discardStaged(r)
    }
  }

  /** Creates and saves an object with this data and metadata (declared properties may be given too). */
  static override create<T extends StoredObject>(this: ModelClass<T>, input: RawInput, meta?: RawMeta): Promise<T>
  /** @deprecated A raw object needs its data: `create(source, meta)`. This form throws ArgumentError. */
  static override create<T extends StoredObject>(this: ModelClass<T>, props?: Props<T>): Promise<T>
  static override async create<T extends StoredObject>(this: ModelClass<T>, input?: unknown, meta?: RawMeta): Promise<T> {
    const obj = new this() as unknown as StoredRaw
    try {
      if (input === undefined) throw new ArgumentError(`${this.name}.create() needs the data: bytes, a stream or an async iterable of Uint8Array`)
      obj.setData(input as RawInput)
      if (meta !== undefined) obj.setMeta(meta)
      await obj.save()
    } catch (err) {
      // Inside a transaction the new object was enlisted when constructed: it must not be written.
      transactionOf(obj[STATE].meta.db)?.forget(obj)
      throw err
    }
    return obj as unknown as T
  }
}

async function saveRaw(obj: StoredRaw, r: RawState, write: () => Promise<unknown>): Promise<void> {
  const state = obj[STATE]
  const db = databaseFor(state.meta)
  if (r.consumed !== undefined) throw new ArgumentError(r.consumed)
  if (r.source === undefined && r.staged === undefined && storedRawOf(state) === undefined) throw noData(state)
  const writer = transactionOf(db)
  // Refuse invalid properties before streaming what may be gigabytes.
  validateState(state, writeValues(state, foreignMembers(state, writer)))
  // Data given inside a running transaction is that transaction's to store.
  while (r.source !== undefined && !isForeign(state, DATA_MEMBER, writer)) {
    const source = r.source
    r.source = undefined
    let data
    try {
      data = await stageData(db.engine, obj, state.meta.collection, state.oid, source, r.meta)
    } catch (err) {
      if (r.source === undefined) {
        if (source.reusable) r.source = source
        else r.consumed = `${describe(state)}: the data given to setData() could not be stored (${(err as Error)?.message ?? err}); give it again with setData()`
      }
      throw err
    }
    await discardStaged(r)
    r.staged = data
  }
  try {
    await write()
  } catch (err) {
    if (r.staged !== undefined && !inTransaction(obj)) {
      const { source } = r.staged
      await discardStaged(r)
      if (r.source === undefined) {
        if (source.reusable) r.source = source
        else r.consumed = `${describe(state)}: the data given to setData() was streamed by a save that failed (${(err as Error)?.message ?? err}); give it again with setData()`
      }
    }
    throw err
  }
}

async function* readData(obj: StoredRaw, chunkSize: number): AsyncGenerator<Uint8Array> {
  const state = obj[STATE]
  const { engine } = databaseFor(state.meta)
  const info = storedRawOf(state)
  if (info === undefined) throw notFound(state)
  let seen = 0
  for await (const chunk of engine.readRaw(state.meta.collection, state.oid, { chunkSize })) {
    seen += chunk.length
    yield chunk
  }
  if (seen !== info.size && storedRawOf(state) === info) {
    throw new CorruptionError(`${describe(state)}: its stored data has ${seen} bytes, but ${info.size} were written`)
  }
  if (seen === 0 && info.size > 0 && storedRawOf(state) === undefined) throw notFound(state)
}

function checkKey(state: ObjectState, key: unknown): asserts key is string {
  if (typeof key !== 'string' || key === '') throw new ArgumentError(`${describe(state)}: a meta key must be a non-empty string, got ${key === '' ? 'an empty string' : typeof key}`)
  if (state.meta.relations.has(key)) throw new ArgumentError(`${describe(state)}: "${key}" is a relation, not metadata`)
}

/** The metadata is about to change: a running transaction takes it (see ownership.ts). */
function claimMeta(obj: StoredRaw): void {
  if (!mayClaim(obj[STATE])) return
  claim(obj, META_MEMBER, () => {
    const r = rawStateOf(obj)
    const before = copyMeta(r.meta)
    return () => {
      r.meta = copyMeta(before)
    }
  })
}

/** New data is about to be given: a running transaction takes it, with the data it will stage. */
function claimData(obj: StoredRaw, r: RawState): void {
  if (!mayClaim(obj[STATE])) return
  claim(obj, DATA_MEMBER, () => {
    const { source, consumed, staged } = r
    return () => {
      if (r.staged !== staged) void discardStaged(r)
      r.staged = staged
      r.source = source
      r.consumed = consumed
    }
  })
}

function changed(obj: StoredRaw): void {
  obj[STATE].version++
  modelHooks.changed(obj)
}

function inTransaction(obj: StoredRaw): boolean {
  return transactionOf(obj[STATE].meta.db) !== undefined
}

function notFound(state: ObjectState): NotFoundError {
  if (state.removed) return new NotFoundError(`${describe(state)} was removed: its data is gone`)
  if (state.record === undefined) return new NotFoundError(`${describe(state)} is not saved yet: it has no stored data`)
  return new NotFoundError(`${describe(state)} has no stored data`)
}
