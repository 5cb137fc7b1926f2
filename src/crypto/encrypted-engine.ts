import type { Engine, Range, Source, StagedRaw, StageRawOptions, WriteOp } from '../engine/engine.js'
import { WrappedEngine, type StoredRange } from '../engine/wrapped-engine.js'
import { deletePrefix } from '../engine/pages.js'
import { ConflictError, CorruptionError, KeyError } from '../errors.js'
import { decodeValue, encodeValue } from '../engine/level/msgpack-codec.js'
import { createSecretKey, type KeyObject } from 'node:crypto'
import { extname } from 'node:path'
import { chunkContext, decrypt, encrypt, type KeyRing } from './cipher.js'
import { claimPrefix, entryPrefix, signatureKey } from '../indexes/layout.js'
import { unescapeString } from '../indexes/key-codec.js'
import { IndexKeyHasher } from './index-keys.js'
import { newKeySlot, openSlotKeys, paramsOf, rewrapSlot, slotOf, withNextKey, type KeySlot, type SlotKeys, type UserKey } from './store-key.js'
import { fixedChunks } from '../engine/raw-chunks.js'

/** Where an encrypted store keeps its key slot (the data key wrapped by the user's key), in the clear. */
export const KEY_SLOT = 'crypt\x00slot'

/** Raw data is encrypted in frames: 4-byte big-endian length, then the sealed chunk. */
const FRAME_HEADER = 4
/** Plaintext bytes per raw frame. */
const RAW_FRAME = 64 * 1024
/** Values re-sealed per batch by `reencrypt()`. */
const PAGE = 500
/** Where index signatures are (src/indexes/layout.ts). */
const SIGNATURES = 'idx\x00s\x00'

/**
 * Any engine, encrypted: every record, entry value and raw data chunk goes to the inner engine sealed
 * with AES-256-GCM under the store's data key (see store-key.ts and cipher.ts), authenticated with
 * the place it is stored at. Collection names, ids and entry keys (index keys among them) are not
 * encrypted: see the README's threat model. `Database.open({ encryption: { key } })` makes one.
 */
export class EncryptedEngine extends WrappedEngine {
  #key: UserKey
  /** The data keys values are opened with, by mark: one, or two while a re-encryption is unfinished. */
  #ring: Map<number, KeyObject> | undefined
  /** The data key new values are sealed with (the next one during a re-encryption), made a KeyObject once. */
  #dataKey: KeyObject | undefined
  #mark = 1
  /** The ordered indexes asked for; undefined: those the store was written with. */
  readonly #askedOrdered: string[] | undefined
  #indexKeys: IndexKeyHasher | undefined
  /** The mark of the data key each staged raw data (by token) was sealed with, until committed or discarded. */
  readonly #stagedMarks = new Map<string, number>()

  /** `ordered`: `collection.index` names whose keys stay in order, in the clear (the others are hashed). */
  constructor(inner: Engine, key: UserKey, options: { ordered?: string[] } = {}) {
    super(inner, { rawPaths: false, readableFiles: false })
    this.#key = key
    this.#askedOrdered = options.ordered === undefined ? undefined : [...new Set(options.ordered)].sort()
  }

  describe(): string {
    return `${this.inner.describe()}, encrypted`
  }

  /** Opens the inner engine and its key slot: the wrong key is refused before anything else is read or written. */
  protected override async _open(): Promise<void> {
    await this.inner.open()
    try {
      const [slot] = await this.inner.getMany([KEY_SLOT])
      if (slot !== undefined) {
        const keys = openSlotKeys(this.#key, slot)
        const stored = orderedOf(slot)
        const ordered = this.#askedOrdered ?? stored
        if (!sameList(ordered, stored)) await this.#changeOrdered(slot as StoredSlot, stored, ordered)
        this.#use(keys, ordered)
        return
      }
      if (await this.innerHolds(true)) {
        throw new KeyError('NOT_ENCRYPTED', `${this.inner.describe()} holds data that is not encrypted: open it without a key, or copy it into a new encrypted store`)
      }
      const made = newKeySlot(this.#key)
      const ordered = this.#askedOrdered ?? []
      await this.inner.batch([{ type: 'put', key: KEY_SLOT, value: { ...made.slot, ordered } }])
      this.#use({ dataKey: made.dataKey, mark: 1 }, ordered)
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

  /** Values are sealed with the newest data key and opened with any; index keys are hashed with the current one. */
  #use(keys: SlotKeys, ordered: string[]): void {
    this.#ring = new Map([[keys.mark, createSecretKey(keys.dataKey)]])
    if (keys.next !== undefined) this.#ring.set(keys.next.mark, createSecretKey(keys.next.dataKey))
    this.#mark = keys.next?.mark ?? keys.mark
    this.#dataKey = this.#ring.get(this.#mark)
    this.#indexKeys = new IndexKeyHasher(keys.dataKey, ordered)
  }

  /** Whether a re-encryption was begun and not finished (`reencrypt()` finishes it). */
  async reencryptionPending(): Promise<boolean> {
    this.assertOpen('reencryptionPending')
    const [slot] = await this.inner.getMany([KEY_SLOT])
    return (slot as StoredSlot).next !== undefined
  }

  /**
   * Re-encrypts the whole store under a new random data key (for a data key that may have leaked),
   * and wraps it with `newKey` if given (else the current key). Crash-safe and resumable:
   * 1. the new data key is added to the key slot, wrapped by the current key (values sealed from
   *    then on use it; each value's first byte says which key sealed it, so both kinds read);
   * 2. every record, entry value and raw data still sealed with the old key is re-sealed, a page per batch;
   * 3. one batch makes the new key the only one (wrapped by `newKey`) and deletes the signatures of
   *    the hashed indexes, whose keys were hashed with the old key: they are rebuilt (by the
   *    database at once for its models, else when a model is next used).
   * Killed before 3, the store opens with the current key, and `reencrypt()` takes up where it stopped;
   * after 3, only with `newKey`. Writes must wait while it runs (`db.reencrypt()` holds the write queue).
   * `switched` is called with the hashed indexes (`collection.index`) that need rebuilding once 3 is
   * written, before index keys are hashed with the new key (for the caller to hold index queries
   * until they are rebuilt); they are also returned.
   */
  async reencrypt(newKey?: UserKey, switched?: (hashed: string[]) => void): Promise<string[]> {
    this.assertOpen('reencrypt')
    const [slot] = (await this.inner.getMany([KEY_SLOT])) as [StoredSlot]
    const ordered = orderedOf(slot)
    let next = slot.next === undefined ? undefined : openSlotKeys(this.#key, slot).next
    if (next === undefined) {
      const begun = withNextKey(this.#key, slot)
      await this.inner.batch([{ type: 'put', key: KEY_SLOT, value: begun.slot }])
      this.#use(begun.keys, ordered)
      next = begun.keys.next!
    }
    await this.#resealEntries()
    for await (const collection of this.inner.collections()) await this.#resealRecords(collection)
    const hashed: string[] = []
    for await (const key of this.inner.keys({ prefix: SIGNATURES })) {
      const [collection, index] = key.slice(SIGNATURES.length).split('\x00') as [string, string]
      const name = `${collection}.${unescapeString(index)}`
      if (!ordered.includes(name)) hashed.push(name)
    }
    const finalKey = newKey ?? this.#key
    const done: SlotKeys = { dataKey: next.dataKey, mark: next.mark }
    await this.inner.batch([
      ...hashed.map((name) => ({ type: 'del', key: signatureKey(name.slice(0, name.indexOf('.')), name.slice(name.indexOf('.') + 1)) }) as const),
      { type: 'put', key: KEY_SLOT, value: { ...slotOf(finalKey, done, paramsOf(slot)), ordered } },
    ])
    this.#key = finalKey
    switched?.(hashed)
    this.#use(done, ordered)
    return hashed
  }

  /** Re-seals, with the newest data key, the entry values sealed with another. */
  async #resealEntries(): Promise<void> {
    let after: string | undefined
    for (;;) {
      const ops: WriteOp[] = []
      let seen = 0
      for await (const [key, value] of this.inner.entries(after === undefined ? { limit: PAGE } : { gt: after, limit: PAGE })) {
        seen++
        after = key
        if (key === KEY_SLOT || !this.#stale(value)) continue
        const place = `e\0${key}`
        ops.push({ type: 'put', key, value: encrypt(this.#dataKey!, place, this.#plain(place, value, `entry ${JSON.stringify(key)}`), this.#mark) })
      }
      if (ops.length > 0) await this.inner.batch(ops)
      if (seen < PAGE) return
    }
  }

  /** Re-seals the records of a collection sealed with another data key, and its raw data. */
  async #resealRecords(collection: string): Promise<void> {
    let after: string | undefined
    for (;;) {
      const ops: WriteOp[] = []
      const ids: string[] = []
      for await (const [id, value] of this.inner.records(collection, after === undefined ? { limit: PAGE } : { gt: after, limit: PAGE })) {
        ids.push(id)
        after = id
        if (!this.#stale(value)) continue
        const place = `r\0${collection}\0${id}`
        ops.push({ type: 'putRecord', collection, id, value: encrypt(this.#dataKey!, place, this.#plain(place, value, `record ${collection}/${id}`), this.#mark) })
      }
      if (ops.length > 0) await this.inner.batch(ops)
      for (const id of ids) await this.#resealRaw(collection, id)
      if (ids.length < PAGE) return
    }
  }

  async #resealRaw(collection: string, id: string): Promise<void> {
    if (!(await this.inner.hasRaw(collection, id))) return
    // Every frame of one raw data is sealed with one key: the first frame's mark (after its length) tells.
    for await (const chunk of this.inner.readRaw(collection, id, { chunkSize: FRAME_HEADER + 1 })) {
      if (chunk[FRAME_HEADER] === this.#mark) return
      break
    }
    const plain = decryptFrames(this.#ring!, collection, id, this.inner.readRaw(collection, id, { chunkSize: RAW_FRAME + FRAME_HEADER + 29 }), RAW_FRAME, this.describe())
    // The Directory engine names a raw file by its extension: the new one keeps it.
    const extension = this.inner.supports.rawPaths ? extname(this.inner.rawPath(collection, id) ?? '').slice(1) : ''
    const staged = await this.inner.stageRaw(collection, id, this.encodeRaw(collection, id, plain), extension === '' ? {} : { extension })
    try {
      await this.inner.batch([{ type: 'putRaw', collection, id, staged }])
    } catch (err) {
      await this.inner.discardRaw(staged).catch(() => {})
      throw err
    }
  }

  /** A stored value sealed with a data key other than the newest. */
  #stale(stored: unknown): boolean {
    return stored instanceof Uint8Array && stored.length > 0 && stored[0] !== this.#mark
  }

  #plain(place: string, stored: unknown, what: string): Buffer {
    return decrypt(this.#ring!, place, stored as Uint8Array, `${this.describe()}: ${what}`)
  }

  /**
   * The store keeps which indexes are ordered (a hashed and an ordered index store different keys).
   * Asked for another list, the indexes that change form lose their signatures and entries, so they
   * are rebuilt in their new form when their model is first used.
   */
  async #changeOrdered(slot: StoredSlot, stored: string[], ordered: string[]): Promise<void> {
    const changed = [...stored.filter((n) => !ordered.includes(n)), ...ordered.filter((n) => !stored.includes(n))]
    // Signatures first (a crash from here on leaves the old list stored: the next open does it again),
    // then the entries and claims in their old form, then the new list.
    const indexes = changed.map((name) => [name.slice(0, name.indexOf('.')), name.slice(name.indexOf('.') + 1)] as const)
    await this.inner.batch(indexes.map(([collection, index]) => ({ type: 'del', key: signatureKey(collection, index) })))
    for (const [collection, index] of indexes) {
      for (const prefix of [entryPrefix(collection, index), claimPrefix(collection, index)]) await deletePrefix(this.inner, prefix)
    }
    await this.inner.batch([{ type: 'put', key: KEY_SLOT, value: { ...slot, ordered } }])
  }

  protected override async _close(): Promise<void> {
    this.#dataKey = undefined
    this.#ring = undefined
    await this.inner.close()
  }

  protected override async _stageRaw(collection: string, id: string, source: Source, options: StageRawOptions): Promise<StagedRaw> {
    const mark = this.#mark
    const staged = await super._stageRaw(collection, id, source, options)
    this.#stagedMarks.set(staged.token, mark)
    return staged
  }

  protected override async _discardRaw(staged: StagedRaw): Promise<void> {
    this.#stagedMarks.delete(staged.token)
    await super._discardRaw(staged)
  }

  /** Raw data staged with a data key a re-encryption has since retired would not read back: refused. */
  protected override async _batch(ops: WriteOp[]): Promise<void> {
    for (const op of ops) {
      if (op.type !== 'putRaw') continue
      const mark = this.#stagedMarks.get(op.staged.token)
      if (mark !== undefined && !this.#ring!.has(mark)) {
        throw new ConflictError(`${this.describe()}: the raw data of ${op.collection}/${op.id} was staged before the store was re-encrypted, under the data key it retired; nothing was written: write it again`)
      }
    }
    await super._batch(ops)
    for (const op of ops) if (op.type === 'putRaw') this.#stagedMarks.delete(op.staged.token)
  }

  // Transforms --------------------------------------------------------------------------------

  protected override storedKey(key: string): string {
    return this.#indexKeys!.stored(key)
  }

  protected override storedRange(range: Range): StoredRange {
    return this.#indexKeys!.range(range)
  }

  protected override hidden(storedKey: string): boolean {
    return storedKey === KEY_SLOT
  }

  /** An entry value, authenticated with the key it is stored under (an index entry's hashed key). */
  protected override sealEntry(storedKey: string, value: unknown): unknown {
    if (storedKey === KEY_SLOT) throw new KeyError('CORRUPTED_KEY', `${this.describe()}: the key slot is written by rekey() only`)
    // An index entry's value is null: nothing to hide, and sealing it would cost a cipher per entry.
    if (value === null) return null
    return this.#seal(`e\0${storedKey}`, value, () => `entry ${JSON.stringify(storedKey)}`)
  }

  protected override openEntry(storedKey: string, stored: unknown): unknown {
    if (storedKey === KEY_SLOT || stored === null) return stored
    return this.#open(`e\0${storedKey}`, stored, `entry ${JSON.stringify(storedKey)}`)
  }

  protected override sealRecord(collection: string, id: string, value: unknown): unknown {
    return this.#seal(`r\0${collection}\0${id}`, value, () => `record ${collection}/${id}`)
  }

  protected override openRecord(collection: string, id: string, stored: unknown): unknown {
    return this.#open(`r\0${collection}\0${id}`, stored, `record ${collection}/${id}`)
  }

  #seal(place: string, value: unknown, what: () => string): Buffer {
    return encrypt(this.#dataKey!, place, encodeValue(value, what), this.#mark)
  }

  #open(place: string, stored: unknown, what: string): unknown {
    if (!(stored instanceof Uint8Array)) throw new CorruptionError(`${this.describe()}: ${what} is stored in the clear in an encrypted store`)
    return decodeValue(decrypt(this.#ring!, place, stored, `${this.describe()}: ${what}`), what)
  }

  protected override async *encodeRaw(collection: string, id: string, source: AsyncIterable<Uint8Array>): AsyncIterable<Uint8Array> {
    const dataKey = this.#dataKey!
    const mark = this.#mark
    let index = 0
    let held: Buffer | undefined // a frame, sealed once it is known whether another follows
    const seal = (plain: Buffer, last: boolean): Uint8Array => {
      const sealed = encrypt(dataKey, chunkContext(collection, id, index++, last), plain, mark)
      const out = Buffer.allocUnsafe(FRAME_HEADER + sealed.length)
      out.writeUInt32BE(sealed.length, 0)
      sealed.copy(out, FRAME_HEADER)
      return out
    }
    for await (const frame of fixedChunks(source, RAW_FRAME)) {
      if (held !== undefined) yield seal(held, false)
      held = frame
    }
    yield seal(held ?? Buffer.alloc(0), true) // empty data is one empty last frame
  }

  protected override decodeRaw(collection: string, id: string, stored: (chunkSize: number) => AsyncIterable<Uint8Array>, chunkSize: number, store: string): AsyncIterable<Uint8Array> {
    return decryptFrames(this.#ring!, collection, id, stored(RAW_FRAME + FRAME_HEADER + 29), chunkSize, store)
  }
}

/** Reassembles the frames of stored raw data, checks and decrypts each (the last one marked), and re-slices to `chunkSize`. */
async function* decryptFrames(dataKey: KeyRing, collection: string, id: string, stored: AsyncIterable<Uint8Array>, chunkSize: number, store: string): AsyncGenerator<Uint8Array> {
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
