import { createHash } from 'node:crypto'
import { Engine, type EngineSnapshot, type EngineSupports, type Range, type Source, type StagedRaw, type StageRawOptions, type WriteOp } from '../engine/engine.js'
import { CorruptionError, KeyError } from '../errors.js'
import { decodeValue, encodeValue } from '../engine/level/msgpack-codec.js'
import { chunkContext, decrypt, encrypt } from './cipher.js'
import { entryPrefix, signatureKey } from '../indexes/layout.js'
import { IndexKeyHasher } from './index-keys.js'
import { newKeySlot, openKeySlot, rewrapSlot, type KeySlot, type UserKey } from './store-key.js'

/** Where an encrypted store keeps its key slot (the data key wrapped by the user's key), in the clear. */
export const KEY_SLOT = 'crypt\x00slot'

/** Raw data is encrypted in frames: 4-byte big-endian length, then the sealed chunk. */
const FRAME_HEADER = 4
/** Plaintext bytes per raw frame. */
const RAW_FRAME = 64 * 1024

/**
 * Any engine, encrypted: every record, entry value and raw data chunk goes to the inner engine sealed
 * with AES-256-GCM under the store's data key (see store-key.ts and cipher.ts), authenticated with
 * the place it is stored at. Collection names, ids and entry keys (index keys among them) are not
 * encrypted: see the README's threat model. `Database.open({ encryption: { key } })` makes one.
 */
export class EncryptedEngine extends Engine {
  readonly inner: Engine
  readonly supports: EngineSupports
  #key: UserKey
  #dataKey: Buffer | undefined
  /** The ordered indexes asked for; undefined: those the store was written with. */
  readonly #askedOrdered: string[] | undefined
  #indexKeys: IndexKeyHasher | undefined
  /** Inner staged raw data by the token handed out (its size and digest are of the ciphertext). */
  readonly #staged = new Map<string, StagedRaw>()

  /** `ordered`: `collection.index` names whose keys stay in order, in the clear (the others are hashed). */
  constructor(inner: Engine, key: UserKey, options: { ordered?: string[] } = {}) {
    super()
    this.inner = inner
    this.#key = key
    this.#askedOrdered = options.ordered === undefined ? undefined : [...new Set(options.ordered)].sort()
    const s = inner.supports
    this.supports = { persistent: s.persistent, rawPaths: false, readableFiles: false, syncReads: s.syncReads, syncRanges: s.syncRanges, snapshots: s.snapshots }
  }

  describe(): string {
    return `${this.inner.describe()}, encrypted`
  }

  /** Opens the inner engine and its key slot: the wrong key is refused before anything else is read or written. */
  protected async _open(): Promise<void> {
    await this.inner.open()
    try {
      const [slot] = await this.inner.getMany([KEY_SLOT])
      if (slot !== undefined) {
        this.#dataKey = openKeySlot(this.#key, slot)
        const stored = orderedOf(slot)
        const ordered = this.#askedOrdered ?? stored
        if (!sameList(ordered, stored)) await this.#changeOrdered(slot as StoredSlot, stored, ordered)
        this.#indexKeys = new IndexKeyHasher(this.#dataKey, ordered)
        return
      }
      if (await hasData(this.inner)) {
        throw new KeyError('NOT_ENCRYPTED', `${this.inner.describe()} holds data that is not encrypted: open it without a key, or copy it into a new encrypted store`)
      }
      const made = newKeySlot(this.#key)
      const ordered = this.#askedOrdered ?? []
      await this.inner.batch([{ type: 'put', key: KEY_SLOT, value: { ...made.slot, ordered } }])
      this.#dataKey = made.dataKey
      this.#indexKeys = new IndexKeyHasher(this.#dataKey, ordered)
    } catch (err) {
      await this.inner.close()
      throw err
    }
  }

  /**
   * Wraps the data key with a new user key, in one atomic write of the key slot: from then on only
   * the new key opens the store, and no data is rewritten.
   */
  async rekey(newKey: UserKey): Promise<void> {
    this.assertOpen('rekey')
    const [slot] = await this.inner.getMany([KEY_SLOT])
    await this.inner.batch([{ type: 'put', key: KEY_SLOT, value: { ...rewrapSlot(this.#key, slot as KeySlot, newKey), ordered: orderedOf(slot) } }])
    this.#key = newKey
  }

  /**
   * The store keeps which indexes are ordered (a hashed and an ordered index store different keys).
   * Asked for another list, the indexes that change form lose their signatures and entries, so they
   * are rebuilt in their new form when their model is first used.
   */
  async #changeOrdered(slot: StoredSlot, stored: string[], ordered: string[]): Promise<void> {
    const changed = [...stored.filter((n) => !ordered.includes(n)), ...ordered.filter((n) => !stored.includes(n))]
    // Signatures first (a crash from here on leaves the old list stored: the next open does it again),
    // then the entries in their old form, then the new list.
    const indexes = changed.map((name) => [name.slice(0, name.indexOf('.')), name.slice(name.indexOf('.') + 1)] as const)
    await this.inner.batch(indexes.map(([collection, index]) => ({ type: 'del', key: signatureKey(collection, index) })))
    for (const [collection, index] of indexes) {
      for (;;) {
        const ops: WriteOp[] = []
        for await (const key of this.inner.keys({ prefix: entryPrefix(collection, index), limit: 1000 })) ops.push({ type: 'del', key })
        if (ops.length === 0) break
        await this.inner.batch(ops)
      }
    }
    await this.inner.batch([{ type: 'put', key: KEY_SLOT, value: { ...slot, ordered } }])
  }

  protected async _close(): Promise<void> {
    this.#dataKey = undefined
    await this.inner.close()
  }

  protected _sync(): Promise<void> {
    return this.inner.sync()
  }

  // Values ------------------------------------------------------------------------------------

  #seal(place: string, value: unknown, what: () => string): Buffer {
    return encrypt(this.#dataKey!, place, encodeValue(value, what))
  }

  #open(place: string, stored: unknown, what: string): unknown {
    if (stored === undefined) return undefined
    if (stored === null && place.startsWith('e\0')) return null // an entry without a value (see _batch)
    if (!(stored instanceof Uint8Array)) throw new CorruptionError(`${this.describe()}: ${what} is stored in the clear in an encrypted store`)
    return decodeValue(decrypt(this.#dataKey!, place, stored, `${this.describe()}: ${what}`), what)
  }

  /** An entry value, authenticated with the key it is stored under (an index entry's hashed key). */
  #entry = (storedKey: string, stored: unknown): unknown => (storedKey === KEY_SLOT ? stored : this.#open(`e\0${storedKey}`, stored, `entry ${JSON.stringify(storedKey)}`))
  #record = (collection: string, id: string, stored: unknown): unknown => this.#open(`r\0${collection}\0${id}`, stored, `record ${collection}/${id}`)

  protected async _get(key: string): Promise<unknown> {
    const stored = this.#indexKeys!.stored(key)
    return this.#entry(stored, await this.inner.get(stored))
  }

  protected async _getMany(keys: string[]): Promise<unknown[]> {
    const stored = keys.map((k) => this.#indexKeys!.stored(k))
    const values = await this.inner.getMany(stored)
    return values.map((v, i) => this.#entry(stored[i]!, v))
  }

  protected _entries(range: Range): AsyncIterable<[string, unknown]> {
    const { range: stored, back } = this.#indexKeys!.range(range)
    return this.#entriesOf(this.inner.entries(stored), back)
  }

  async *#entriesOf(items: AsyncIterable<[string, unknown]>, back: (k: string) => string): AsyncIterable<[string, unknown]> {
    for await (const [stored, value] of items) {
      if (stored === KEY_SLOT) continue
      yield [back(stored), this.#entry(stored, value)]
    }
  }

  protected _keys(range: Range): AsyncIterable<string> {
    const { range: stored, back } = this.#indexKeys!.range(range)
    return mapAsync(filterAsync(this.inner.keys(stored), (k) => k !== KEY_SLOT), back)
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
    const stored = this.#indexKeys!.stored(key)
    return this.#entry(stored, this.inner.getSync(stored))
  }

  protected override _getRecordSync(collection: string, id: string): unknown {
    return this.#record(collection, id, this.inner.getRecordSync(collection, id))
  }

  protected override _entriesSync(range: Range): Iterable<[string, unknown]> {
    const { range: stored, back } = this.#indexKeys!.range(range)
    const items = this.inner.entriesSync(stored)
    const entry = this.#entry
    return (function* () {
      for (const [s, value] of items) if (s !== KEY_SLOT) yield [back(s), entry(s, value)] as [string, unknown]
    })()
  }

  protected override _keysSync(range: Range): Iterable<string> {
    const { range: stored, back } = this.#indexKeys!.range(range)
    const keys = this.inner.keysSync(stored)
    return (function* () {
      for (const s of keys) if (s !== KEY_SLOT) yield back(s)
    })()
  }

  protected override *_recordsSync(collection: string, range: Range): Iterable<[string, unknown]> {
    for (const [id, value] of this.inner.recordsSync(collection, range)) yield [id, this.#record(collection, id, value)]
  }

  protected async _batch(ops: WriteOp[]): Promise<void> {
    const sealed: WriteOp[] = ops.map((op) => {
      switch (op.type) {
        case 'put':
          if (op.key === KEY_SLOT) throw new KeyError('CORRUPTED_KEY', `${this.describe()}: the key slot is written by rekey() only`)
        {
          const key = this.#indexKeys!.stored(op.key)
          // An index entry's value is null: nothing to hide, and sealing it would cost a cipher per entry.
          if (op.value === undefined || op.value === null) return { type: 'put', key, value: null }
          return { type: 'put', key, value: this.#seal(`e\0${key}`, op.value, () => `entry ${JSON.stringify(op.key)}`) }
        }
        case 'del':
          return { type: 'del', key: this.#indexKeys!.stored(op.key) }
        case 'putRecord':
          return { ...op, value: this.#seal(`r\0${op.collection}\0${op.id}`, op.value, () => `record ${op.collection}/${op.id}`) }
        case 'putRaw': {
          const inner = this.#staged.get(op.staged.token)
          return inner === undefined ? op : { ...op, staged: inner } // an unknown token: the inner engine refuses it
        }
        default:
          return op
      }
    })
    await this.inner.batch(sealed)
    for (const op of ops) if (op.type === 'putRaw') this.#staged.delete(op.staged.token)
  }

  // Raw data ----------------------------------------------------------------------------------

  protected async _stageRaw(collection: string, id: string, source: Source, options: StageRawOptions): Promise<StagedRaw> {
    const hash = createHash('sha256')
    let size = 0
    const dataKey = this.#dataKey!
    async function* frames(): AsyncGenerator<Uint8Array> {
      let index = 0
      let fill = Buffer.allocUnsafe(RAW_FRAME)
      let filled = 0
      let held: Buffer | undefined // a full frame, sealed once it is known whether another follows
      const seal = (plain: Buffer, last: boolean): Uint8Array => {
        const sealed = encrypt(dataKey, chunkContext(collection, id, index++, last), plain)
        const out = Buffer.allocUnsafe(FRAME_HEADER + sealed.length)
        out.writeUInt32BE(sealed.length, 0)
        sealed.copy(out, FRAME_HEADER)
        return out
      }
      for await (const chunk of source as AsyncIterable<Uint8Array>) {
        hash.update(chunk)
        size += chunk.length
        for (let at = 0; at < chunk.length; ) {
          const n = Math.min(chunk.length - at, RAW_FRAME - filled)
          fill.set(chunk.subarray(at, at + n), filled)
          filled += n
          at += n
          if (filled === RAW_FRAME) {
            if (held !== undefined) yield seal(held, false)
            held = fill
            fill = Buffer.allocUnsafe(RAW_FRAME)
            filled = 0
          }
        }
      }
      if (held !== undefined && filled > 0) {
        yield seal(held, false)
        held = undefined
      }
      yield seal(held ?? fill.subarray(0, filled), true)
    }
    const staged = await this.inner.stageRaw(collection, id, frames(), options)
    const token = staged.token
    this.#staged.set(token, staged)
    return { token, size, sha256: hash.digest('hex') }
  }

  protected async _discardRaw(staged: StagedRaw): Promise<void> {
    const inner = this.#staged.get(staged.token)
    this.#staged.delete(staged.token)
    if (inner !== undefined) await this.inner.discardRaw(inner)
  }

  protected _readRaw(collection: string, id: string, chunkSize: number): AsyncIterable<Uint8Array> {
    return decryptFrames(this.#dataKey!, collection, id, this.inner.readRaw(collection, id), chunkSize, this.describe())
  }

  protected _hasRaw(collection: string, id: string): Promise<boolean> {
    return this.inner.hasRaw(collection, id)
  }

  protected _rawPath(): string | undefined {
    return undefined // the file holds ciphertext
  }

  protected override async _snapshot(): Promise<EngineSnapshot> {
    const view = await this.inner.snapshot()
    const dataKey = this.#dataKey!
    return {
      describe: () => `${view.describe()}, encrypted`,
      collections: () => view.collections(),
      records: (collection, range) => mapAsync(view.records(collection, range), ([id, v]) => [id, this.#record(collection, id, v)] as [string, unknown]),
      entries: (range) => {
        const { range: stored, back } = this.#indexKeys!.range(range ?? {})
        return this.#entriesOf(view.entries(stored), back)
      },
      hasRaw: (collection, id) => view.hasRaw(collection, id),
      readRaw: (collection, id, options) => decryptFrames(dataKey, collection, id, view.readRaw(collection, id), options?.chunkSize ?? RAW_FRAME, view.describe()),
      release: () => view.release(),
    }
  }
}

/** Reassembles the frames of stored raw data, checks and decrypts each (the last one marked), and re-slices to `chunkSize`. */
async function* decryptFrames(dataKey: Buffer, collection: string, id: string, stored: AsyncIterable<Uint8Array>, chunkSize: number, store: string): AsyncGenerator<Uint8Array> {
  let parts: Buffer[] = []
  let length = 0
  let index = 0
  let held: Buffer | undefined
  const what = () => `${store}: raw data of ${collection}/${id}, frame ${index}`
  const open = (sealed: Buffer, last: boolean): Buffer => decrypt(dataKey, chunkContext(collection, id, index++, last), sealed, what())
  const slices = function* (plain: Buffer): Generator<Uint8Array> {
    for (let at = 0; at < plain.length; at += chunkSize) yield plain.subarray(at, at + chunkSize)
  }
  let any = false
  // Stored chunks are gathered until a whole frame is there; they are joined once per frame.
  let need = FRAME_HEADER
  for await (const chunk of stored) {
    any = true
    parts.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength))
    length += chunk.length
    while (length >= need) {
      let buffer = parts.length === 1 ? parts[0]! : Buffer.concat(parts, length)
      const frame = buffer.readUInt32BE(0)
      if (buffer.length < FRAME_HEADER + frame) {
        parts = [buffer]
        need = FRAME_HEADER + frame
        break
      }
      if (held !== undefined) yield* slices(open(held, false))
      held = buffer.subarray(FRAME_HEADER, FRAME_HEADER + frame)
      buffer = buffer.subarray(FRAME_HEADER + frame)
      parts = buffer.length > 0 ? [buffer] : []
      length = buffer.length
      need = FRAME_HEADER
    }
  }
  if (!any) return // no raw data stored: the caller decides what that means
  if (length > 0 || held === undefined) throw new CorruptionError(`${what()}: the encrypted data is cut short`)
  yield* slices(open(held, true))
}

/** A key slot as stored: with the ordered indexes of the store. */
type StoredSlot = KeySlot & { ordered?: string[] }

function orderedOf(slot: unknown): string[] {
  const ordered = (slot as StoredSlot).ordered
  return Array.isArray(ordered) ? [...ordered].sort() : []
}

function sameList(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i])
}

async function hasData(engine: Engine): Promise<boolean> {
  for await (const _ of engine.collections()) return true
  for await (const _ of engine.keys({ limit: 1 })) return true
  return false
}

async function* mapAsync<T, U>(items: AsyncIterable<T>, fn: (item: T) => U): AsyncIterable<U> {
  for await (const item of items) yield fn(item)
}

async function* filterAsync<T>(items: AsyncIterable<T>, keep: (item: T) => boolean): AsyncIterable<T> {
  for await (const item of items) if (keep(item)) yield item
}
