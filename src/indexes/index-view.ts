import type { Engine, Range } from '../engine/engine.js'
import { describeValue } from '../engine/engine.js'
import { ArgumentError, IndexError } from '../errors.js'
import type { Database } from '../model/database.js'
import type { IndexKey, IndexMeta, ModelMeta } from '../model/meta.js'
import { stillStored } from '../model/object-state.js'
import type { StoredObject } from '../model/stored-object.js'
import { maintainerOf } from './index-maintainer.js'
import { decodeKey, encodeKey, encodePrefix, kindBounds, kindOf } from './key-codec.js'
import { Indexing } from './indexing.js'
import { LiveQuery } from '../changes/live-query.js'
import { indexRangeMatcher } from '../changes/matchers.js'
import { entryPrefix, indexLabel } from './layout.js'
import { claimedOids } from './unique-claims.js'

export interface IndexListOptions<K extends IndexKey = IndexKey> {
  gte?: K
  gt?: K
  lte?: K
  lt?: K
  /** String keys starting with this. */
  prefix?: string
  /** Objects to skip first. */
  offset?: number
  /** Most objects to give. */
  limit?: number
  /** Highest keys first. */
  reverse?: boolean
}

/** A key that several objects hold, with their oids (see `IndexView.duplicates()`). */
export interface IndexDuplicate<K extends IndexKey = IndexKey> {
  key: K
  /** In oid (creation) order. */
  oids: string[]
}

const LIST_OPTIONS = new Set(['gte', 'gt', 'lte', 'lt', 'prefix', 'offset', 'limit', 'reverse'])
/** Oids resolved to objects per read: small first, so `one()`-like reads stay cheap, then larger. */
const FIRST_BATCH = 128
const MAX_BATCH = 1000
/** Entries of one key read in a row by `keys()` before it seeks past the key instead. */
const SKIP_AFTER = 8

/**
 * The objects of a model under one index, in key order (objects with the same key in oid, that is
 * creation, order). Queries stream: nothing reads a whole index into memory, and `count`, `has` and
 * `keys` never decode objects. Query keys are matched as given: to query a normalized index,
 * normalize the query the same way. `K` is the type of query keys: `Model.index(name)` takes it from
 * the member's type or from the model's `declare static indexes`.
 *
 * @example
 * ```ts
 * const byStatus = Article.index('status')
 * for await (const a of byStatus.get('published')) console.log(a.title)
 * await byStatus.count('draft')
 * for await (const a of Article.index('date').list({ gte: new Date('2026-01-01'), limit: 10, reverse: true })) ...
 * ```
 */
export class IndexView<T extends StoredObject = StoredObject, K extends IndexKey = IndexKey> {
  readonly name: string
  readonly #db: Database
  readonly #meta: ModelMeta
  readonly #prefix: string

  constructor(db: Database, meta: ModelMeta, name: string) {
    const index = meta.indexes.get(name)
    if (index === undefined) {
      const names = [...meta.indexes.keys()]
      throw new IndexError(
        `${meta.ctor.name} has no index named ${describeValue(name)}; ` +
          (names.length > 0 ? `its indexes are: ${names.join(', ')}` : 'it has no indexes (declare them with @Index or @Model({ indexes }))'),
      )
    }
    this.name = name
    this.#db = db
    this.#meta = meta
    this.#prefix = entryPrefix(meta.collection, name)
  }

  /** The index definition. */
  get definition(): IndexMeta {
    return this.#meta.indexes.get(this.name)!
  }

  /** Every object with that key; `.watch()` follows them as the store changes. */
  get(key: K): IndexResults<T> {
    const prefix = this.#keyPrefix(key)
    const encoded = prefix.slice(this.#prefix.length, -1)
    return this.#results({ prefix }, false, 0, Infinity, encoded)
  }

  /** The object at position `n` (default the first) among those with that key, or undefined. */
  async one(key: K, n = 0): Promise<T | undefined> {
    if (!Number.isInteger(n) || n < 0) throw new ArgumentError(`${this.#label()}.one(): n must be a non-negative integer, got ${describeValue(n)}`)
    const prefix = this.#keyPrefix(key)
    await this.#ready()
    const claimed = this.#claimed(prefix)
    let oid = claimed?.[n]
    if (claimed === undefined) {
      let i = 0
      for await (const entry of this.#db.engine.keys({ prefix, limit: n + 1 })) if (i++ === n) oid = entry.slice(prefix.length)
    }
    if (oid === undefined) return undefined
    return (await this.#db.loadMany(this.#meta, [oid]))[0] as T | undefined
  }

  /** Whether any object has that key. */
  async has(key: K): Promise<boolean> {
    const prefix = this.#keyPrefix(key)
    await this.#ready()
    const claimed = this.#claimed(prefix)
    if (claimed !== undefined) return claimed.length > 0
    for await (const _ of this.#db.engine.keys({ prefix, limit: 1 })) return true
    return false
  }

  /** How many objects have that key. */
  async count(key: K): Promise<number> {
    const prefix = this.#keyPrefix(key)
    await this.#ready()
    const claimed = this.#claimed(prefix)
    if (claimed !== undefined) return claimed.length
    let n = 0
    for await (const _ of this.#db.engine.keys({ prefix })) n++
    return n
  }

  /** The oids holding a key (`prefix`: its entries' prefix), in entry order, from its claim; undefined where claims do not answer (see claimedOids). */
  #claimed(prefix: string): string[] | undefined {
    return claimedOids(this.#db.engine, this.#meta, this.definition, [prefix.slice(this.#prefix.length, -1)])
  }

  /** The distinct keys, in order. */
  async *keys(): AsyncGenerator<K> {
    await this.#ready()
    const start = this.#prefix.length
    let gte: string | undefined
    for (;;) {
      let last: string | undefined
      let repeats = 0
      let seek = false
      for await (const entry of this.#db.engine.keys({ prefix: this.#prefix, ...(gte === undefined ? {} : { gte }) })) {
        const encoded = entry.slice(start, entry.lastIndexOf('\x00'))
        if (encoded === last) {
          if (++repeats < SKIP_AFTER) continue
          // Many objects share this key: seek past them rather than read them all.
          gte = this.#prefix + encoded + '\x01'
          seek = true
          break
        }
        last = encoded
        repeats = 0
        yield decodeKey(encoded) as K
      }
      if (!seek) return
    }
  }

  /**
   * The keys that more than one object holds, in key order, each with the oids holding it. On a
   * unique index these are the duplicates to resolve: those already in the data when the index was
   * made unique, or made by a hand edit on the Directory engine. Such an index is built and queried
   * as usual; saving an object that keeps its duplicate key, or changing or removing it, succeeds,
   * while giving a held key to one more object is refused with `ConstraintError`.
   * Reads the whole index (its entries, no object).
   *
   * @example
   * ```ts
   * for (const { key, oids } of await Account.index('email').duplicates()) console.log(key, oids)
   * ```
   */
  async duplicates(): Promise<IndexDuplicate<K>[]> {
    await this.#ready()
    const start = this.#prefix.length
    const out: IndexDuplicate<K>[] = []
    let current: string | undefined
    let oids: string[] = []
    const flush = () => {
      if (oids.length > 1) out.push({ key: decodeKey(current!) as K, oids })
    }
    for await (const entry of this.#db.engine.keys({ prefix: this.#prefix })) {
      const nul = entry.lastIndexOf('\x00')
      const encoded = entry.slice(start, nul)
      if (encoded !== current) {
        flush()
        current = encoded
        oids = []
      }
      oids.push(entry.slice(nul + 1))
    }
    flush()
    return out
  }

  /**
   * Objects in key order within the bounds. A one-sided range stays within the kind of its bound
   * (`{ gte: 5 }` gives numbers >= 5, not strings); `prefix` selects string keys. An object with
   * several keys in the range is given once, at its first key.
   */
  list(options: IndexListOptions<K> = {}): IndexResults<T> {
    const label = `${this.#label()}.list()`
    if (options === null || typeof options !== 'object') throw new ArgumentError(`${label} takes an options object, got ${describeValue(options)}`)
    for (const key of Object.keys(options)) {
      if (!LIST_OPTIONS.has(key)) throw new ArgumentError(`${label}: unknown option ${JSON.stringify(key)}; the options are ${[...LIST_OPTIONS].join(', ')}`)
    }
    const offset = options.offset ?? 0
    const limit = options.limit ?? Infinity
    if (!Number.isInteger(offset) || offset < 0) throw new ArgumentError(`${label}: offset must be a non-negative integer, got ${describeValue(offset)}`)
    if (limit !== Infinity && (!Number.isInteger(limit) || limit < 0)) throw new ArgumentError(`${label}: limit must be a non-negative integer, got ${describeValue(limit)}`)
    if (options.reverse !== undefined && typeof options.reverse !== 'boolean') throw new ArgumentError(`${label}: reverse must be a boolean, got ${describeValue(options.reverse)}`)
    if (options.prefix !== undefined && typeof options.prefix !== 'string') {
      throw new ArgumentError(`${label}: prefix must be a string (it selects string keys), got ${describeValue(options.prefix)}`)
    }

    const p = this.#prefix
    const encode = (bound: string, key: IndexKey) => {
      try {
        return encodeKey(key)
      } catch (err) {
        throw new IndexError(`${label}: ${bound} ${(err as Error).message}`)
      }
    }
    // Entries of key k are `p k \0 oid`: they sort after `p k` and before `p k \x01`.
    const lower: string[] = []
    const upper: string[] = []
    if (options.gte !== undefined) lower.push(p + encode('gte', options.gte))
    if (options.gt !== undefined) lower.push(p + encode('gt', options.gt) + '\x01')
    if (options.lte !== undefined) upper.push(p + encode('lte', options.lte) + '\x01')
    if (options.lt !== undefined) upper.push(p + encode('lt', options.lt))
    const range: Range = { prefix: options.prefix === undefined ? p : p + encodePrefix(options.prefix), reverse: options.reverse === true }
    if (options.prefix === undefined) {
      const first = options.gte ?? options.gt
      const last = options.lte ?? options.lt
      if (first !== undefined && last === undefined) upper.push(p + kindBounds(kindOf(first)).end)
      if (last !== undefined && first === undefined) lower.push(p + kindBounds(kindOf(last)).start)
    }
    if (lower.length > 0) range.gte = lower.reduce((a, b) => (utf8Compare(a, b) >= 0 ? a : b))
    if (upper.length > 0) range.lt = upper.reduce((a, b) => (utf8Compare(a, b) <= 0 ? a : b))
    return this.#results(range, mayGiveSeveralKeys(this.#meta, this.definition), offset, limit)
  }

  /** Results that stream when iterated, and can be watched (`key`: the encoded key of a `get()`). */
  #results(range: Range, distinct: boolean, offset: number, limit: number, key?: string): IndexResults<T> {
    const matcher = indexRangeMatcher(this.name, this.#prefix, range, key)
    return new IndexResults(
      () => this.#objects(range, distinct, offset, limit, key),
      () => new LiveQuery(this.#db, this.#meta, matcher, async () => collectAll(this.#objects(range, distinct, offset, limit, key))),
    )
  }

  #label(): string {
    return `${indexLabel(this.#meta, this.name)} index`
  }

  #keyPrefix(key: IndexKey): string {
    try {
      return this.#prefix + encodeKey(key) + '\x00'
    } catch (err) {
      throw new IndexError(`${this.#label()}: cannot query ${describeValue(key)}: ${(err as Error).message}`)
    }
  }

  #ready(): Promise<void> {
    return maintainerOf(this.#db).ready(this.#meta)
  }

  /**
   * Streams the objects of the entries in `range` (see ObjectStream); those of one key (`key`, the
   * range then being its entries' prefix) of a unique index from its claim.
   */
  #objects(range: Range, distinct: boolean, offset: number, limit: number, key?: string): AsyncIterableIterator<T> {
    const batches = () => {
      const claimed = key === undefined ? undefined : this.#claimed(range.prefix!)
      return claimed !== undefined ? claimBatch(claimed, offset, limit) : oidBatches(this.#db.engine, range, distinct, offset, limit)
    }
    return new ObjectStream<T>(this.#db, this.#meta, batches, limit === 0)
  }
}

/**
 * The objects of a stream of oid batches, loaded a batch at a time: the next batch is read from the
 * index while the previous one loads, so reads and loads overlap. An object removed since its batch
 * was loaded is skipped (a stream may be consumed slowly). An iterator of its own rather than an
 * async generator: each object then costs one settled promise, not a generator's round of them
 * (author lookups 3-5% faster on LMDB, `bench/peers/phases.ts`).
 */
class ObjectStream<T> implements AsyncIterableIterator<T> {
  readonly #db: Database
  readonly #meta: ModelMeta
  readonly #open: () => AsyncGenerator<string[]>
  #batches: AsyncGenerator<string[]> | undefined
  #loading: Promise<(StoredObject | undefined)[]> | undefined
  #loaded: (StoredObject | undefined)[] = []
  #next = 0
  #done: boolean

  constructor(db: Database, meta: ModelMeta, batches: () => AsyncGenerator<string[]>, empty: boolean) {
    this.#db = db
    this.#meta = meta
    this.#open = batches
    this.#done = empty
  }

  [Symbol.asyncIterator](): this {
    return this
  }

  next(): Promise<IteratorResult<T>> {
    const loaded = this.#loaded
    while (this.#next < loaded.length) {
      const obj = loaded[this.#next++]
      if (stillStored(obj)) return Promise.resolve({ value: obj as T, done: false })
    }
    if (this.#done) return Promise.resolve({ value: undefined, done: true })
    return this.#refill()
  }

  async return(): Promise<IteratorResult<T>> {
    this.#done = true
    this.#loaded = []
    await this.#batches?.return(undefined)
    return { value: undefined, done: true }
  }

  async #refill(): Promise<IteratorResult<T>> {
    try {
      if (this.#batches === undefined) {
        await maintainerOf(this.#db).ready(this.#meta)
        this.#batches = this.#open()
      }
      for (;;) {
        const batch = this.#done ? undefined : await this.#batches.next()
        const previous = this.#loading
        this.#loading = undefined
        if (batch !== undefined && !batch.done) {
          this.#loading = this.#db.loadMany(this.#meta, batch.value)
          this.#loading.catch(() => {}) // awaited on the next refill; this only keeps a failure from counting as unhandled meanwhile
        } else {
          this.#done = true
        }
        if (previous !== undefined) {
          this.#loaded = await previous
          this.#next = 0
          return this.next()
        }
        if (this.#done) return { value: undefined, done: true }
      }
    } catch (err) {
      this.#done = true
      this.#loading = undefined
      await this.#batches?.return(undefined)
      throw err
    }
  }
}

/** The objects of an index view query: iterate them, or `watch()` them (see `LiveQuery`). */
export class IndexResults<T> implements AsyncIterable<T> {
  readonly #objects: () => AsyncIterator<T>
  readonly #live: () => LiveQuery<T>

  constructor(objects: () => AsyncIterator<T>, live: () => LiveQuery<T>) {
    this.#objects = objects
    this.#live = live
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return this.#objects()
  }

  /** The results now, then again after each commit that may change them. */
  watch(): LiveQuery<T> {
    return this.#live()
  }
}

async function collectAll<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = []
  for await (const item of items) out.push(item)
  return out
}

/**
 * The oids of the index entries in `range`, less repeats (`distinct`), the first `offset` and those
 * past `limit`, in batches: small first, so `one()`-like reads stay cheap, then larger (few, large
 * reads: each is a trip to LevelDB's thread pool). An engine that iterates synchronously fills each
 * batch without a promise per entry.
 */
async function* oidBatches(engine: Engine, range: Range, distinct: boolean, offset: number, limit: number): AsyncGenerator<string[]> {
  const seen = distinct ? new Set<string>() : undefined
  let batch: string[] = []
  let size = FIRST_BATCH
  let skipped = 0
  let taken = 0
  /** Takes an entry; whether the limit is reached. */
  const take = (entry: string): boolean => {
    const oid = entry.slice(entry.lastIndexOf('\x00') + 1)
    if (seen !== undefined) {
      if (seen.has(oid)) return false
      seen.add(oid)
    }
    if (skipped < offset) {
      skipped++
      return false
    }
    batch.push(oid)
    return ++taken >= limit
  }
  const cut = (): string[] => {
    const out = batch
    batch = []
    size = Math.min(size * 4, MAX_BATCH)
    return out
  }
  if (engine.supports.syncRanges === true) {
    for (const entry of engine.keysSync(range)) {
      const full = take(entry)
      if (batch.length >= size || full) yield cut()
      if (full) return
    }
  } else {
    for await (const entry of engine.keys(range)) {
      const full = take(entry)
      if (batch.length >= size || full) yield cut()
      if (full) return
    }
  }
  if (batch.length > 0) yield batch
}

/** The holders of one key, read from its claim when the stream starts (after the index is ready). */
async function* claimBatch(holders: string[], offset: number, limit: number): AsyncGenerator<string[]> {
  const batch = holders.slice(offset, offset + limit)
  if (batch.length > 0) yield batch
}

const SINGLE_KEY_FNS = new Set<unknown>([Indexing.value, Indexing.normalize, Indexing.noAccents, Indexing.keyword])
const SCALAR_TYPE = /^(BOOL|INTEGER|POSITIVE|FLOAT|NUMBER|STRING|LINE|EMAIL|PASSWORD|URL|HTML|MARKDOWN|RICHTEXT|DATE|DATETIME|TIME|ENUM\()/

/**
 * Whether an object can have several keys in this index, so that `list()` must remember the oids it
 * gave to give each object once. Known single-key indexes skip that, so a long scan holds no set.
 */
function mayGiveSeveralKeys(meta: ModelMeta, index: IndexMeta): boolean {
  if (index.fn === Indexing.updateTime) return false
  if (index.property === undefined || !SINGLE_KEY_FNS.has(index.fn)) return true
  const relation = meta.relations.get(index.property)
  if (relation !== undefined) return relation.many
  const type = meta.properties.get(index.property)?.type
  return type === undefined || !SCALAR_TYPE.test(type.name)
}

/** Compares strings as the engines order keys: by UTF-8 bytes (code points), not UTF-16 units. */
export function utf8Compare(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'))
}
