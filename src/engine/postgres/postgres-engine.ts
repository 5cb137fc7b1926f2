import { randomBytes } from 'node:crypto'
import type { Pool, PoolClient } from 'pg'
import type { RemoteCommit, SharedStore, WriteScope } from '../../coherence/shared-store.js'
import { ArgumentError, ClosedError, ConflictError, ConstraintError, CorruptionError, InvalidKeyError, InvalidPathError, RelationError, StowageError } from '../../errors.js'
import { DAMAGED, DamageList } from '../damage-list.js'
import { Engine } from '../engine.js'
import type { DamagedRecord, EngineSnapshot, EngineSupports, Range, Source, StagedRaw, StageRawOptions, WriteOp } from '../engine.js'
import { decodeValue, encodeValue, type Named } from '../level/msgpack-codec.js'
import { OpenReaders } from '../lmdb/open-readers.js'
import { postgresError } from './postgres-errors.js'
import { checkTokens, PostgresRaw, type Query } from './postgres-raw.js'
import { PostgresNotices } from './postgres-notices.js'
import { ReadBatcher } from './read-batcher.js'
import { FORMAT, MAX_KEY_BYTES, quoteSchema, schemaStatements, sqlRange } from './postgres-sql.js'
import { InFlight } from '../in-flight.js'
import { BATCH_FUNCTION, batchCall, batchFunction, type BatchRows, batchStatement, bytesArray, LockKeys, lockStatement } from './postgres-writes.js'

/**
 * A `pg` Pool, as the engine uses it. Declared here so that the package's declarations do not
 * depend on pg's own (@types/pg).
 */
export interface PostgresPool {
  connect(): Promise<unknown>
  query(...args: any[]): Promise<unknown>
  on(event: string, listener: (...args: any[]) => void): unknown
  end(): Promise<void>
}

export interface PostgresEngineOptions {
  /** `postgres://user:password@host:port/database`; or give `pool`. */
  connectionString?: string
  /** A `pg` Pool of the application's: the engine uses it and leaves it open when it closes. */
  pool?: PostgresPool
  /** The schema holding the store's tables (created if missing; default `stowage`): one store per schema. */
  schema?: string
  /** Connections of the pool the engine makes from `connectionString` (default 10). */
  poolSize?: number
  /** Bytes per stored chunk of raw data (default 256 KiB). */
  rawChunkSize?: number
  /** Called with each record found damaged by a read (a value that does not decode). */
  onDamage?: (damage: DamagedRecord) => void
}

const DEFAULT_CHUNK = 256 * 1024
/** Rows fetched per query while iterating a range: iterations never hold a connection between pages. */
const PAGE = 512
/** Staged raw data left this long by an engine that never committed it (its process killed) is dropped at an open. */
const ORPHAN_AGE = '1 day'
/** msgpack's nil, what encodeValue(null) gives: the value of most entries (an index entry's). pg copies parameters as they are sent. */
const NIL = Buffer.from([0xc0])
/** A batch that loses a race (deadlock, serialization failure) is run again this many times. */
const BATCH_TRIES = 5
/** pg is loaded when an engine opens, so that apps that never use PostgreSQL never load it. */
const PG_PACKAGE = 'pg'

/**
 * An engine over a PostgreSQL database, shared by every process that opens the same schema: each
 * `batch()` is one transaction; reads go through a pool of connections. Keys, collections and ids
 * are stored as UTF-8 bytes (bytea), which PostgreSQL orders bytewise: code point order, as on the
 * other engines. Raw data is stored in chunks and streamed. Iterations read pages of rows by key,
 * holding no connection in between; `snapshot()` and raw data reads hold one repeatable-read
 * transaction each.
 *
 * Keys over 2600 bytes in UTF-8 (an index entry of a very long value) are refused with
 * InvalidKeyError, nothing of their batch written: PostgreSQL indexes hold about 2.7 KB per entry.
 *
 * @example
 * const db = await Database.open({ engine: new PostgresEngine({ connectionString: process.env.DATABASE_URL }), models: [Account] })
 */
export class PostgresEngine extends Engine implements SharedStore {
  readonly supports: EngineSupports = { persistent: true, rawPaths: false, readableFiles: false, snapshots: true }
  /** The quoted schema, as it appears in statements. */
  readonly #s: string
  readonly #schema: string
  readonly #label: string
  readonly #options: PostgresEngineOptions
  readonly #damage: DamageList
  readonly #inflight = new InFlight()
  #pool!: Pool
  /** Batches' connections: apart from the reads', so that a flood of reads never holds writes back. */
  #writePool!: Pool
  #ownPool = false
  #entryReads!: ReadBatcher<Buffer>
  #recordReads!: ReadBatcher<Buffer>
  #raw!: PostgresRaw
  #readers!: OpenReaders
  /** Marks what this engine stages, and the commits it announces; new at each open. */
  #owner = ''
  #notices!: PostgresNotices
  /** The transaction holding a write's locks (`lockWrites()`) until its batch commits in it, or `unlockWrites()`. */
  #held: Held | undefined
  #locks!: LockKeys
  /** While this process rebuilds indexes (`exclusively()`): the batches made meanwhile. */
  #rebuilding: { batches: Set<Promise<void>>; done: Promise<void> } | undefined

  constructor(options: PostgresEngineOptions) {
    super()
    if (options === null || typeof options !== 'object') throw new ArgumentError(`PostgresEngine takes { connectionString } or { pool }, got ${options === null ? 'null' : typeof options}`)
    const { connectionString, pool } = options
    if ((connectionString === undefined) === (pool === undefined)) throw new ArgumentError('PostgresEngine takes either connectionString or pool (one of them)')
    if (connectionString !== undefined && (typeof connectionString !== 'string' || connectionString.length === 0)) {
      throw new ArgumentError(`PostgresEngine connectionString must be a non-empty string, got ${typeof connectionString}`)
    }
    if (pool !== undefined && (pool === null || typeof pool.connect !== 'function')) throw new ArgumentError('PostgresEngine pool must be a pg Pool')
    const chunkSize = options.rawChunkSize ?? DEFAULT_CHUNK
    if (!Number.isInteger(chunkSize) || chunkSize <= 0) throw new ArgumentError(`PostgresEngine rawChunkSize must be a positive integer, got ${String(chunkSize)}`)
    const poolSize = options.poolSize ?? 10
    if (!Number.isInteger(poolSize) || poolSize < 1) throw new ArgumentError(`PostgresEngine poolSize must be a positive integer, got ${String(poolSize)}`)
    if (options.onDamage !== undefined && typeof options.onDamage !== 'function') throw new ArgumentError(`PostgresEngine onDamage must be a function, got ${typeof options.onDamage}`)
    this.#schema = options.schema ?? 'stowage'
    this.#s = quoteSchema(this.#schema)
    this.#options = { ...options, rawChunkSize: chunkSize, poolSize }
    this.#label = `PostgresEngine(${serverName(options)}, schema ${this.#schema})`
    this.#damage = new DamageList(options.onDamage)
  }

  describe(): string {
    return this.#label
  }

  /** The schema holding this store. */
  get schema(): string {
    return this.#schema
  }

  /** This open engine's mark on the commits it announces (see src/coherence/): new at each open. */
  get origin(): string {
    return this.#owner
  }

  protected async _open(): Promise<void> {
    const { Pool } = ((await import(PG_PACKAGE)) as { default: typeof import('pg') }).default
    const options = this.#options
    this.#ownPool = options.pool === undefined
    const pool = (options.pool as Pool | undefined) ?? new Pool({ connectionString: options.connectionString, max: options.poolSize })
    const writePool = this.#ownPool ? new Pool({ connectionString: options.connectionString, max: Math.max(2, Math.ceil(options.poolSize! / 2)) }) : pool
    // An idle connection the server drops (a restart) is reported here: the next query gets a new one.
    if (this.#ownPool) for (const p of [pool, writePool]) p.on('error', () => {})
    this.#pool = pool
    this.#writePool = writePool
    const limit = this.#ownPool ? options.poolSize! : 4
    this.#entryReads = new ReadBatcher(limit, (_, keys) => this.#fetch(`${this.#s}.entries`, 'key', [], keys))
    this.#recordReads = new ReadBatcher(limit, (collection, ids) => this.#fetch(`${this.#s}.records`, 'id', [Buffer.from(collection)], ids))
    this.#owner = randomBytes(9).toString('base64url')
    this.#locks = new LockKeys(this.#schema)
    this.#readers = new OpenReaders(() => this.describe())
    this.#raw = new PostgresRaw({ schema: this.#s, chunkSize: options.rawChunkSize!, owner: this.#owner, readSlice: 32 * 1024 })
    const { Client } = ((await import(PG_PACKAGE)) as { default: typeof import('pg') }).default
    const clientOptions = (pool as unknown as { options: object }).options
    this.#notices = new PostgresNotices(
      async () => {
        const client = new Client(clientOptions)
        client.on('error', () => {}) // reported through 'end' as well
        await client.connect()
        return client
      },
      `"${`stowage_${this.#schema}`.slice(0, 63)}"`,
      this.#owner,
    )
    try {
      await this.#prepareSchema()
      await this.#raw.dropOrphans(this.#query, ORPHAN_AGE)
      await this.#notices.start()
    } catch (err) {
      await this.#notices.stop()
      if (this.#ownPool) await Promise.all([pool.end().catch(() => {}), writePool.end().catch(() => {})])
      throw postgresError(err, this.describe(), 'opening it')
    }
  }

  /**
   * Creates the tables if missing and checks the format marker. Several processes may open a new
   * store at once: creating the same table concurrently can fail with a duplicate, then it is tried again.
   */
  async #prepareSchema(): Promise<void> {
    const s = this.#s
    for (let attempt = 0; ; attempt++) {
      try {
        const foreign = await this.#query(
          `SELECT count(*) AS n, bool_or(table_name = 'meta') AS meta FROM information_schema.tables WHERE table_schema = $1`,
          [this.#schema],
        )
        if (Number(foreign[0]!.n) > 0 && foreign[0]!.meta !== true) {
          throw new InvalidPathError(`${this.describe()} cannot use schema ${this.#schema}: it holds tables that Stowage did not create (no meta table); give another schema`)
        }
        await this.#transaction(async (query) => {
          for (const statement of schemaStatements(s)) await query(statement)
          await query(`INSERT INTO ${s}.meta (name, value) VALUES ('format', $1) ON CONFLICT (name) DO NOTHING`, [String(FORMAT)])
          await query(`INSERT INTO ${s}.meta (name, value) VALUES ('writer', '') ON CONFLICT (name) DO NOTHING`)
        })
        break
      } catch (err) {
        const code = (err as { code?: string }).code
        if (attempt < 5 && (code === '23505' || code === '42P07' || code === '40001' || code === '40P01')) continue
        throw err
      }
    }
    const [row] = await this.#query(`SELECT value FROM ${s}.meta WHERE name = 'format'`)
    if (row?.value !== String(FORMAT)) {
      throw new CorruptionError(`${this.describe()} holds data in format ${String(row?.value)}, written by another version of Stowage; this version reads format ${FORMAT}`)
    }
    // The function batches are written with: created by the first open of this version (several may race to it).
    const exists = `SELECT 1 FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = $1 AND p.proname = $2`
    if ((await this.#query(exists, [this.#schema, BATCH_FUNCTION])).length > 0) return
    try {
      await this.#query(batchFunction(s))
    } catch (err) {
      if ((await this.#query(exists, [this.#schema, BATCH_FUNCTION])).length === 0) throw err
    }
  }

  protected async _close(): Promise<void> {
    await this.#inflight.drained()
    await this.unlockWrites()
    await this.#notices.stop()
    this.#readers.endAll()
    try {
      await this.#raw.dropOwn(this.#query).catch(() => {}) // else dropped as orphans later
    } finally {
      if (this.#ownPool) await Promise.all([this.#pool.end(), this.#writePool.end()])
    }
  }

  protected async _sync(): Promise<void> {
    // Each commit is durable when it resolves (PostgreSQL's synchronous_commit): wait for those in flight.
    await this.#inflight.settled()
  }

  override damaged(): DamagedRecord[] {
    return this.#damage.list()
  }

  protected async _get(key: string): Promise<unknown> {
    if (Buffer.byteLength(key) > MAX_KEY_BYTES) return undefined
    const bytes = await this.#guard(this.#entryReads.get('', key), `reading ${entryName(key)}`)
    return bytes === undefined ? undefined : this.#decode(bytes, () => entryName(key))
  }

  protected async _getMany(keys: string[]): Promise<unknown[]> {
    if (keys.length === 0) return []
    const rows = await this.#read({ text: `SELECT key, value FROM ${this.#s}.entries WHERE key = ANY($1::bytea[])`, values: [keys.map((k) => Buffer.from(k))] }, 'reading entries')
    const found = new Map(rows.map((r) => [(r.key as Buffer).toString(), r.value as Buffer]))
    return keys.map((key) => {
      const bytes = found.get(key)
      return bytes === undefined ? undefined : this.#decode(bytes, () => entryName(key))
    })
  }

  protected _entries(range: Range): AsyncIterable<[string, unknown]> {
    return this.#pages(this.#query, `${this.#s}.entries`, 'key', 'key, value', [], range, (row) => {
      const key = (row.key as Buffer).toString()
      return [key, this.#decode(row.value, () => entryName(key))]
    })
  }

  protected _keys(range: Range): AsyncIterable<string> {
    return this.#pages(this.#query, `${this.#s}.entries`, 'key', 'key', [], range, (row) => (row.key as Buffer).toString())
  }

  protected async _getRecord(collection: string, id: string): Promise<unknown> {
    const bytes = await this.#guard(this.#recordReads.get(collection, id), `reading record ${collection}/${id}`)
    if (bytes === undefined) return undefined
    const record = this.#decodeRecord(collection, id, bytes)
    if (record === DAMAGED) throw this.#damage.errorFor(collection, id, this.describe())
    return record
  }

  /** The stored values of `keys` (strings) in `column` of `table` (within one collection if `fixed`), by key. */
  async #fetch(table: string, column: string, fixed: Buffer[], keys: string[]): Promise<Map<string, Buffer>> {
    const where = fixed.length > 0 ? 'collection = $1 AND ' : ''
    const n = fixed.length + 1
    const config =
      keys.length === 1
        ? { name: `stowage-${table}-one`, text: `SELECT ${column}, value FROM ${table} WHERE ${where}${column} = $${n}`, values: [...fixed, Buffer.from(keys[0]!)] }
        : { text: `SELECT ${column}, value FROM ${table} WHERE ${where}${column} = ANY($${n}::bytea[])`, values: [...fixed, keys.map((k) => Buffer.from(k))] }
    const rows = (await this.#pool.query(config)).rows
    return new Map(rows.map((r) => [(r[column] as Buffer).toString(), r.value as Buffer]))
  }

  protected async _getRecords(collection: string, ids: string[]): Promise<unknown[]> {
    if (ids.length === 0) return []
    // The records a write locked were read with its locks: they cannot change while it holds them.
    const locked = this.#held?.records
    let found: Map<string, Buffer | null>
    if (locked !== undefined && ids.every((id) => locked.has(`${collection}\0${id}`))) {
      found = new Map(ids.map((id) => [id, locked.get(`${collection}\0${id}`)!]))
    } else {
      const config = { text: `SELECT id, value FROM ${this.#s}.records WHERE collection = $1 AND id = ANY($2::bytea[])`, values: [Buffer.from(collection), ids.map((id) => Buffer.from(id))] }
      const rows = await this.#read(config, () => `reading records of ${collection}`)
      found = new Map(rows.map((r) => [(r.id as Buffer).toString(), r.value as Buffer]))
    }
    return ids.map((id) => {
      const bytes = found.get(id)
      if (bytes === undefined || bytes === null) return undefined
      const record = this.#decodeRecord(collection, id, bytes)
      return record === DAMAGED ? undefined : record
    })
  }

  protected async _hasRecord(collection: string, id: string): Promise<boolean> {
    const rows = await this.#read(
      { name: `stowage-hasRecord-${this.#schema}`, text: `SELECT 1 FROM ${this.#s}.records WHERE collection = $1 AND id = $2`, values: [Buffer.from(collection), Buffer.from(id)] },
      () => `looking up record ${collection}/${id}`,
    )
    return rows.length > 0
  }

  protected _records(collection: string, range: Range): AsyncIterable<[string, unknown]> {
    return this.#recordPages(this.#query, collection, range)
  }

  #recordPages(query: Query, collection: string, range: Range): AsyncIterable<[string, unknown]> {
    return this.#pages(query, `${this.#s}.records`, 'id', 'id, value', [Buffer.from(collection)], range, (row) => {
      const id = (row.id as Buffer).toString()
      const record = this.#decodeRecord(collection, id, row.value)
      return record === DAMAGED ? DAMAGED : [id, record]
    })
  }

  protected _recordIds(collection: string, range: Range): AsyncIterable<string> {
    return this.#pages(this.#query, `${this.#s}.records`, 'id', 'id', [Buffer.from(collection)], range, (row) => (row.id as Buffer).toString())
  }

  protected _collections(): AsyncIterable<string> {
    return this.#collections(this.#query)
  }

  async *#collections(query: Query): AsyncGenerator<string> {
    // One index seek per collection, past all its records (a loose index scan).
    let after = Buffer.alloc(0)
    for (;;) {
      this.#readers.assertOpen()
      const rows = await this.#guard(query(`SELECT collection FROM ${this.#s}.records WHERE collection > $1 ORDER BY collection LIMIT 1`, [after]), 'listing the collections')
      if (rows.length === 0) return
      after = rows[0]!.collection
      yield after.toString()
    }
  }

  protected async _countRecords(collection: string): Promise<number> {
    const rows = await this.#read({ text: `SELECT count(*) AS n FROM ${this.#s}.records WHERE collection = $1`, values: [Buffer.from(collection)] }, `counting the records of ${collection}`)
    return Number(rows[0]!.n)
  }

  protected _batch(ops: WriteOp[]): Promise<void> {
    const batch = this.#inflight.track(this.#applyBatch(ops))
    // A batch made while this process rebuilds indexes does not wait for that: the rebuild's lock is held until it is done.
    this.#rebuilding?.batches.add(batch)
    return batch
  }

  async exclusively<T>(fn: () => Promise<T>): Promise<T> {
    this.assertOpen('exclusively')
    while (this.#rebuilding) await this.#rebuilding.done
    // From the reads' pool: a write's lock and the rebuild's batches may be using the writes' pool.
    const client = await this.#guard(this.#pool.connect(), 'taking the store alone')
    quietWhileHeld(client)
    try {
      await client.query(`BEGIN; SELECT pg_advisory_xact_lock(${this.#locks.indexes})`)
    } catch (err) {
      client.release(true)
      throw this.#translate(err, 'taking the store alone')
    }
    let done!: () => void
    const rebuilding = { batches: new Set<Promise<void>>(), done: new Promise<void>((resolve) => (done = resolve)) }
    this.#rebuilding = rebuilding
    try {
      return await fn()
    } finally {
      await Promise.allSettled(rebuilding.batches)
      this.#rebuilding = undefined
      done()
      await client.query('ROLLBACK').then(() => client.release(), (err: Error) => client.release(err))
    }
  }

  async #applyBatch(ops: WriteOp[]): Promise<void> {
    // Everything is encoded and checked before the transaction: a bad value writes nothing.
    // Entries by key: the key's bytes, the value's (null: delete) and the writer's fresh mark.
    const entries = new Map<string, Entry>()
    const claims: Buffer[] = []
    const targets = new Map<string, [Buffer, Buffer]>()
    const records = new Map<string, Row>()
    const written: Array<[string, string]> = []
    const raw: WriteOp[] = []
    for (const op of ops) {
      switch (op.type) {
        case 'put': {
          const key = Buffer.from(op.key)
          if (key.length > MAX_KEY_BYTES) {
            throw new InvalidKeyError(`${this.describe()} cannot store ${entryName(op.key)}: it is ${key.length} bytes in UTF-8, and keys hold at most ${MAX_KEY_BYTES} (an index of very long values?)`)
          }
          entries.set(op.key, [key, op.value === null ? NIL : Buffer.from(encodeValue(op.value, () => entryName(op.key))), op.fresh === true])
          if (op.unique === true) claims.push(key)
          if (op.target !== undefined) targets.set(`${op.target[0]}\0${op.target[1]}`, [Buffer.from(op.target[0]), Buffer.from(op.target[1])])
          break
        }
        case 'del':
          entries.set(op.key, [Buffer.from(op.key), null, false])
          break
        case 'putRecord':
        case 'delRecord': {
          const value = op.type === 'putRecord' ? Buffer.from(encodeValue(op.value, `record ${op.collection}/${op.id}`)) : null
          const name = `${op.collection}\0${op.id}`
          if (!records.has(name)) written.push([op.collection, op.id])
          records.set(name, [Buffer.from(op.collection), Buffer.from(op.id), value, op.type === 'putRecord' && op.fresh === true])
          if (this.#damage.size > 0) this.#damage.delete(op.collection, op.id)
          break
        }
        default:
          raw.push(op)
      }
    }
    checkTokens(raw as { type: string; staged?: StagedRaw }[])
    const doing = `writing a batch of ${ops.length} operation${ops.length === 1 ? '' : 's'}`
    const rowsOf = (fresh: boolean) => (entries.size + records.size === 0 ? undefined : this.#batchRows(entries, claims, targets, records, written, fresh))
    // The batch of the write holding locks writes every record they name; others (an index built on the way) are not its.
    const held = this.#held
    if (held !== undefined && !held.done && [...held.records.keys()].every((key) => records.has(key))) {
      try {
        await this.#writeIn(held.client, rowsOf(false), raw, true)
        held.done = true
        return
      } catch (err) {
        throw this.#translate(err, doing) // unlockWrites() rolls the transaction back
      }
    }
    // Rows of keys marked fresh are plain INSERTs only in a batch on its own: should one be stored
    // after all, that costs a round trip (the batch again, every put as a put), not a transaction.
    let fresh = raw.length === 0
    let rows = rowsOf(fresh)
    for (let attempt = 1; ; attempt++) {
      try {
        if (raw.length === 0) {
          // One query (its statements one transaction): one round trip per batch.
          if (rows !== undefined) {
            const statement = batchStatement(this.#s, this.#schema, rows)
            throwIfRefused(await (this.#notices.query(statement) ?? this.#writePool.query(statement)), this.describe())
          }
        } else {
          await this.#transaction((_, client) => this.#writeIn(client, rows, raw, false))
        }
        return
      } catch (err) {
        if (fresh && isPrimaryKeyClash(err)) {
          fresh = false
          rows = rowsOf(false)
          continue
        }
        const translated = postgresError(err, this.describe(), doing)
        if (translated instanceof ConflictError && attempt < BATCH_TRIES) continue
        throw translated
      }
    }
  }

  /**
   * The batch's call and raw data commits in the open transaction of `client`, and COMMIT if
   * `commit` (in the same simple query when there is no raw data: one round trip).
   */
  async #writeIn(client: PoolClient, rows: BatchRows | undefined, raw: WriteOp[], commit: boolean): Promise<void> {
    if (raw.length === 0 && commit) {
      if (rows === undefined) return void (await client.query('COMMIT'))
      const results = await client.query(`${batchCall(this.#s, rows)}; COMMIT`)
      return throwIfRefused((results as unknown as unknown[]).slice(0, -1), this.describe())
    }
    if (rows !== undefined) throwIfRefused(await client.query(batchStatement(this.#s, this.#schema, rows)), this.describe())
    const query: Query = async (t, params) => (await client.query(t, params)).rows
    for (const op of raw) {
      if (op.type !== 'putRaw' && op.type !== 'delRaw') continue
      await this.#raw.commit(query, Buffer.from(op.collection), Buffer.from(op.id), op.type === 'putRaw' ? op.staged : undefined, `${op.collection}/${op.id}`)
    }
    if (commit) await client.query('COMMIT')
  }

  /** What the batch function (postgres-writes.ts) writes of these entries and records, and the unique keys it locks and checks. */
  #batchRows(
    entries: Map<string, Entry>,
    claims: Buffer[],
    linked: Map<string, [Buffer, Buffer]>,
    records: Map<string, Row>,
    written: Array<[string, string]>,
    /** Puts marked fresh go as new rows. */
    fresh: boolean,
  ): BatchRows {
    const [putKeys, putValues, delKeys, newKeys, newValues] = split([...entries.values()], fresh)
    const rows = [...records.values()].sort((a, b) => Buffer.compare(a[0], b[0]) || Buffer.compare(a[1], b[1]))
    const delRecords: Array<[Buffer, Buffer]> = []
    const putRecords: Array<[Buffer, Buffer, Buffer]> = []
    const newRecords: Array<[Buffer, Buffer, Buffer]> = []
    for (const [c, id, value, isNew] of rows) {
      if (value === null) delRecords.push([c, id])
      else (fresh && isNew ? newRecords : putRecords).push([c, id, value])
    }
    // The objects the write links to must still be stored at its commit, but for those it writes itself.
    const targets = [...linked].filter(([name]) => !records.has(name)).map(([, target]) => target)
    return {
      store: targets.length > 0 && this.#rebuilding === undefined ? this.#locks.store : undefined,
      targets,
      shared: this.#rebuilding === undefined ? this.#locks.indexes : undefined,
      locks: claims.map((c) => this.#locks.claim(c)),
      claims,
      delKeys,
      putKeys,
      putValues,
      delRecords,
      putRecords,
      newKeys,
      newValues,
      newRecords,
      channel: this.#notices.channel.slice(1, -1),
      payload: written.length > 0 ? this.#notices.payload(written) : undefined,
    }
  }

  async lockWrites(scope: WriteScope): Promise<void> {
    this.assertOpen('lockWrites')
    await this.unlockWrites() // a write's locks never outlive it
    if (scope.records.length === 0 && !scope.exclusive) return
    const client = await this.#guard(this.#writePool.connect(), 'taking the write locks')
    quietWhileHeld(client)
    const ids = [...new Map(scope.records.map(([c, id]) => [`${c}\0${id}`, [c, id] as const])).values()]
    const lock = lockStatement(ids.map(([c, id]) => this.#locks.record(c, id)), { key: this.#locks.store, exclusive: scope.exclusive })
    // The records are read in the same round trip, after the locks: no other process can change them until the commit.
    const read = ids.length === 0 ? '' : `; SELECT collection, id, value FROM ${this.#s}.records WHERE (collection, id) IN (SELECT * FROM unnest(${bytesArray(ids.map(([c]) => Buffer.from(c)))}, ${bytesArray(ids.map(([, id]) => Buffer.from(id)))}))`
    const records = new Map<string, Buffer | null>(ids.map(([c, id]) => [`${c}\0${id}`, null]))
    try {
      const results = (await client.query(`BEGIN; ${lock}${read}`)) as unknown as Array<{ rows: Record<string, any>[] }>
      if (read !== '') for (const row of results.at(-1)!.rows) records.set(`${(row.collection as Buffer).toString()}\0${(row.id as Buffer).toString()}`, row.value)
    } catch (err) {
      client.release(true)
      throw this.#translate(err, 'taking the write locks')
    }
    this.#held = { client, records, done: false }
  }

  async unlockWrites(): Promise<void> {
    const held = this.#held
    if (!held) return
    this.#held = undefined
    const { client } = held
    if (broken.has(client)) return client.release(true)
    if (held.done) return client.release()
    // A connection lost without a word would never answer: it is dropped instead (the server lets the locks go).
    let timer: NodeJS.Timeout | undefined
    const answered = await Promise.race([
      client.query('ROLLBACK').then(() => true, () => false),
      new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), 5000))),
    ])
    clearTimeout(timer)
    client.release(answered ? undefined : true)
  }

  onRemoteCommit(listener: (commit: RemoteCommit) => void): () => void {
    return this.#notices.subscribe(listener)
  }

  async catchUp(): Promise<void> {
    this.assertOpen('catchUp')
    await this.#notices.catchUp(async (channel, payload) => {
      await this.#guard(this.#pool.query('SELECT pg_notify($1, $2)', [channel.slice(1, -1), payload]), 'catching up with other processes')
    })
  }

  protected _stageRaw(collection: string, id: string, source: Source, _options: StageRawOptions): Promise<StagedRaw> {
    return this.#inflight.track(this.#guard(this.#raw.stage(this.#query, collection, id, source), `staging raw data of ${collection}/${id}`))
  }

  protected _discardRaw(staged: StagedRaw): Promise<void> {
    if (staged === null || typeof staged !== 'object' || typeof staged.token !== 'string') return Promise.resolve()
    return this.#inflight.track(this.#guard(this.#raw.discard(this.#query, staged.token), 'discarding staged raw data'))
  }

  protected _readRaw(collection: string, id: string, chunkSize: number): AsyncIterable<Uint8Array> {
    const self = this
    return (async function* () {
      const view = await self.#view()
      try {
        yield* self.#guardIterable(self.#raw.read(view.query, collection, id, chunkSize), `reading the raw data of ${collection}/${id}`)
      } finally {
        view.end()
      }
    })()
  }

  protected async _hasRaw(collection: string, id: string): Promise<boolean> {
    return this.#guard(this.#raw.has(this.#query, Buffer.from(collection), Buffer.from(id)), `looking up the raw data of ${collection}/${id}`)
  }

  protected _rawPath(): string | undefined {
    return undefined
  }

  /** One repeatable-read transaction on one connection, passed to every read of the view; the engine's close ends it. */
  protected override async _snapshot(): Promise<EngineSnapshot> {
    const view = await this.#view()
    const label = `a snapshot of ${this.describe()}`
    const { query } = view
    return {
      describe: () => label,
      collections: () => this.#collections(query),
      records: (collection, range = {}) => this.#recordPages(query, collection, range),
      entries: (range = {}) =>
        this.#pages(query, `${this.#s}.entries`, 'key', 'key, value', [], range, (row) => {
          const key = (row.key as Buffer).toString()
          return [key, this.#decode(row.value, () => entryName(key))]
        }),
      hasRaw: (collection, id) => this.#guard(this.#raw.has(query, Buffer.from(collection), Buffer.from(id)), `looking up the raw data of ${collection}/${id}`),
      readRaw: (collection, id, options = {}) => this.#guardIterable(this.#raw.read(query, collection, id, options.chunkSize ?? 64 * 1024), `reading the raw data of ${collection}/${id}`),
      release: async () => view.end(),
    }
  }

  /** A connection in a repeatable-read transaction whose snapshot is taken at once; `end()` gives it back. */
  async #view(): Promise<{ query: Query; end: () => void }> {
    this.#readers.assertOpen()
    const client = await this.#guard(this.#pool.connect(), 'connecting')
    quietWhileHeld(client)
    let failed = false
    try {
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY')
      await client.query('SELECT 1') // the snapshot is taken by the first statement
    } catch (err) {
      client.release(true)
      throw postgresError(err, this.describe(), 'starting a read')
    }
    const end = this.#readers.add(() => {
      if (failed || this.#readers.closed) return client.release(true) // a query may be running: drop the connection
      client.query('COMMIT').then(() => client.release(), (err) => client.release(err))
    })
    const query: Query = async (text, params) => {
      this.#readers.assertOpen()
      try {
        return (await client.query(text, params)).rows
      } catch (err) {
        failed = true
        this.#readers.assertOpen()
        throw err
      }
    }
    return { query, end }
  }

  /** Pages of rows of `table` in `column` order within `range` (and `fixed`: the collection), each page one query. */
  async *#pages<T>(
    query: Query,
    table: string,
    column: string,
    select: string,
    fixed: Buffer[],
    range: Range,
    map: (row: Record<string, any>) => T | typeof DAMAGED,
  ): AsyncGenerator<T> {
    const bounds = sqlRange(column, range, fixed.length + 1)
    if (bounds.empty) return
    const where = [...(fixed.length > 0 ? ['collection = $1'] : []), ...bounds.where]
    const params: unknown[] = [...fixed, ...bounds.params]
    const order = range.reverse ? 'DESC' : 'ASC'
    const after = range.reverse ? '<' : '>'
    let left = range.limit ?? Infinity
    let last: Buffer | undefined
    while (left > 0) {
      this.#readers.assertOpen()
      const n = Math.min(PAGE, left)
      const conditions = last === undefined ? where : [...where, `${column} ${after} $${params.length + 1}`]
      const values = last === undefined ? params : [...params, last]
      const text = `SELECT ${select} FROM ${table}${conditions.length > 0 ? ` WHERE ${conditions.join(' AND ')}` : ''} ORDER BY ${column} ${order} LIMIT ${n}`
      const rows = await this.#guard(query(text, values), 'reading a range')
      for (const row of rows) {
        const item = map(row)
        if (item !== DAMAGED) yield item as T
      }
      if (rows.length < n) return
      left -= rows.length
      last = rows[rows.length - 1]![column]
    }
  }

  /** The rows of one statement on the pool (named statements are prepared once per connection). */
  async #read(config: { name?: string; text: string; values: unknown[] }, doing: Named): Promise<Record<string, any>[]> {
    try {
      return (await this.#pool.query(config)).rows
    } catch (err) {
      throw this.#translate(err, typeof doing === 'string' ? doing : doing())
    }
  }

  readonly #query: Query = async (text, params) => (await this.#pool.query(text, params)).rows

  /** Runs `fn` in one transaction on one connection: committed if it resolves, rolled back if it throws. */
  async #transaction(fn: (query: Query, client: PoolClient) => Promise<void>): Promise<void> {
    const client: PoolClient = await this.#writePool.connect()
    let broken: unknown
    try {
      await client.query('BEGIN')
      await fn(async (text, params) => (await client.query(text, params)).rows, client)
      await client.query('COMMIT')
    } catch (err) {
      await client.query('ROLLBACK').catch((e) => (broken = e))
      throw err
    } finally {
      client.release(broken as Error | undefined)
    }
  }

  async #guard<T>(p: Promise<T>, doing: string): Promise<T> {
    try {
      return await p
    } catch (err) {
      throw this.#translate(err, doing)
    }
  }

  async *#guardIterable<T>(it: AsyncIterable<T>, doing: string): AsyncGenerator<T> {
    try {
      yield* it
    } catch (err) {
      throw this.#translate(err, doing)
    }
  }

  #translate(err: unknown, doing: string): unknown {
    if (this.#readers.closed && !(err instanceof StowageError)) return new ClosedError(`${this.describe()} was closed during the call (${doing})`)
    return postgresError(err, this.describe(), doing)
  }

  #decodeRecord(collection: string, id: string, bytes: Uint8Array): unknown {
    try {
      const record = this.#decode(bytes, () => `record ${collection}/${id}`)
      this.#damage.readFine(collection, id)
      return record
    } catch (err) {
      return this.#damage.failed(collection, id, err)
    }
  }

  #decode(bytes: Uint8Array, where: Named): unknown {
    try {
      return decodeValue(bytes, where)
    } catch (err) {
      throw new CorruptionError(`${this.#label}: ${(err as Error).message}`, { cause: err })
    }
  }

}

/**
 * A connection held between statements (the write lock, a read view) that the server drops (a
 * restart) reports it as an 'error' event, which would end the process unheard: the next statement
 * on it fails instead, and releasing it with that error discards it.
 */
function quietWhileHeld(client: PoolClient): void {
  if (client.listenerCount('error') === 0) client.on('error', () => broken.add(client))
}

/** Connections that reported an error while held: never used again. */
const broken = new WeakSet<PoolClient>()

/** A write's locks: a connection in a transaction, and the records it locked and read with them (null: not stored). */
interface Held {
  client: PoolClient
  records: Map<string, Buffer | null>
  /** The write's batch committed the transaction. */
  done: boolean
}

/**
 * Throws when the batch function wrote nothing (its answer is the last of `results`, what a query of
 * one or several statements answered): ok = false, a claimed unique key was taken; ok = null, an
 * object the write links to is gone.
 */
function throwIfRefused(results: unknown, store: string): void {
  const last = (Array.isArray(results) ? results.at(-1) : results) as { rows?: Array<{ ok?: unknown }> } | undefined
  if (last?.rows?.[0]?.ok === false) {
    throw new ConstraintError(`${store}: a unique index key this write claims is held by another object (taken by another process); nothing of the write was stored`)
  }
  if (last?.rows?.[0]?.ok === null) {
    throw new RelationError(`${store}: an object this write links to was removed by another process; nothing of the write was stored`)
  }
}

/** An entry a batch writes: its key, its value (null: deleted), whether the writer marked it fresh. */
type Entry = [key: Buffer, value: Buffer | null, fresh: boolean]
/** A record a batch writes: collection, id, value (null: deleted), whether the writer marked it fresh. */
type Row = [collection: Buffer, id: Buffer, value: Buffer | null, fresh: boolean]

/** Entries in key order: the keys and values put, the keys deleted, and (with `fresh`) the keys and values of the puts marked fresh apart. */
function split(rows: Entry[], fresh: boolean): [Buffer[], Buffer[], Buffer[], Buffer[], Buffer[]] {
  rows.sort((a, b) => Buffer.compare(a[0], b[0]))
  const putKeys: Buffer[] = []
  const putValues: Buffer[] = []
  const delKeys: Buffer[] = []
  const newKeys: Buffer[] = []
  const newValues: Buffer[] = []
  for (const [k, v, isNew] of rows) {
    if (v === null) delKeys.push(k)
    else if (fresh && isNew) {
      newKeys.push(k)
      newValues.push(v)
    } else {
      putKeys.push(k)
      putValues.push(v)
    }
  }
  return [putKeys, putValues, delKeys, newKeys, newValues]
}

/** The server refused a row for its key (unique_violation on a primary key): a row the batch took for new was there. */
function isPrimaryKeyClash(err: unknown): boolean {
  const e = err as { code?: unknown; constraint?: unknown }
  return e?.code === '23505' && (e.constraint === 'entries_pkey' || e.constraint === 'records_pkey')
}

/** host:port/database of the server, never the password. */
function serverName(options: PostgresEngineOptions): string {
  if (options.connectionString !== undefined) {
    try {
      const url = new URL(options.connectionString)
      return `${url.hostname || 'localhost'}:${url.port || 5432}${url.pathname || ''}`
    } catch {
      return 'a server'
    }
  }
  const o = (options.pool as unknown as { options?: { host?: string; port?: number; database?: string; connectionString?: string } }).options ?? {}
  if (o.connectionString) return serverName({ connectionString: o.connectionString })
  return `${o.host ?? 'localhost'}:${o.port ?? 5432}/${o.database ?? ''}`
}

const entryName = (key: string): string => `entry ${JSON.stringify(key)}`
