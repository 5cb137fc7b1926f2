import { createHash, randomBytes } from 'node:crypto'
import { ArgumentError, CorruptionError, NotFoundError } from '../../errors.js'
import type { Source, StagedRaw } from '../engine.js'
import { writeChunks } from '../raw-chunks.js'

/** Runs one statement and gives its rows: on the pool, or on the client of a transaction. */
export type Query = (text: string, params?: unknown[]) => Promise<Record<string, any>[]>

export interface PostgresRawOptions {
  /** The quoted schema. */
  schema: string
  chunkSize: number
  /** This engine's mark on what it stages: only it may commit or discard it. */
  owner: string
  /** Bytes fetched per query while reading. */
  readSlice: number
}

/**
 * Raw data in a PostgresEngine store: chunks under a fresh token (table chunks), a staging row
 * while uncommitted, and a pointer from (collection, id) to the committed token (table raw).
 * Staging writes each chunk in its own statement; commits run inside the batch's transaction.
 */
export class PostgresRaw {
  constructor(private readonly opts: PostgresRawOptions) {}

  async stage(query: Query, collection: string, id: string, source: Source): Promise<StagedRaw> {
    const { schema: s, owner, chunkSize } = this.opts
    const token = randomBytes(12).toString('hex')
    // The staging row goes first: chunks of a token without one are found and dropped.
    await query(`INSERT INTO ${s}.staged (token, owner, size, sha256) VALUES ($1, $2, -1, '')`, [token, owner])
    try {
      const { size, sha256 } = await writeChunks(source, chunkSize, `${collection}/${id}`, async (seq, bytes) => {
        await query(`INSERT INTO ${s}.chunks (token, seq, data) VALUES ($1, $2, $3)`, [token, seq, bytes])
      })
      await query(`UPDATE ${s}.staged SET size = $2, sha256 = $3 WHERE token = $1`, [token, size, sha256])
      return { token, size, sha256 }
    } catch (err) {
      await this.dropToken(query, token).catch(() => {})
      throw err
    }
  }

  /** Drops a token staged by this engine, its chunks with it; a token of another engine or committed stays. */
  async discard(query: Query, token: string): Promise<void> {
    const s = this.opts.schema
    const rows = await query(`DELETE FROM ${s}.staged WHERE token = $1 AND owner = $2 RETURNING token`, [token, this.opts.owner])
    if (rows.length > 0) await query(`DELETE FROM ${s}.chunks WHERE token = $1`, [token])
  }

  async dropToken(query: Query, token: string): Promise<void> {
    const s = this.opts.schema
    await query(`DELETE FROM ${s}.chunks WHERE token = $1`, [token])
    await query(`DELETE FROM ${s}.staged WHERE token = $1`, [token])
  }

  /** Drops what this engine staged and never committed (at close). */
  async dropOwn(query: Query): Promise<void> {
    const s = this.opts.schema
    await query(`DELETE FROM ${s}.chunks WHERE token IN (SELECT token FROM ${s}.staged WHERE owner = $1)`, [this.opts.owner])
    await query(`DELETE FROM ${s}.staged WHERE owner = $1`, [this.opts.owner])
  }

  /**
   * Drops staged data older than `age`: left by an engine that stopped without closing (its process
   * killed). Engines on other machines may be staging right now, so only old rows go.
   */
  async dropOrphans(query: Query, age: string): Promise<void> {
    const s = this.opts.schema
    const rows = await query(`DELETE FROM ${s}.staged WHERE since < now() - $1::interval RETURNING token`, [age])
    if (rows.length > 0) await query(`DELETE FROM ${s}.chunks WHERE token = ANY($1::text[])`, [rows.map((r) => r.token)])
  }

  /** Inside a batch's transaction: makes `staged` the data of (collection, id), or removes it (`staged` undefined). */
  async commit(query: Query, collection: Buffer, id: Buffer, staged: StagedRaw | undefined, label: string): Promise<void> {
    const s = this.opts.schema
    let info: Record<string, any> | undefined
    if (staged) {
      ;[info] = await query(`DELETE FROM ${s}.staged WHERE token = $1 AND owner = $2 AND size >= 0 RETURNING size, sha256`, [staged.token, this.opts.owner])
      if (!info) throw new NotFoundError(`No staged raw data ${staged.token} for ${label}: it was already committed or discarded, or staged before the engine reopened`)
    }
    const old = await query(`DELETE FROM ${s}.raw WHERE collection = $1 AND id = $2 RETURNING token`, [collection, id])
    if (old.length > 0) await query(`DELETE FROM ${s}.chunks WHERE token = $1`, [old[0]!.token])
    if (staged) {
      await query(`INSERT INTO ${s}.raw (collection, id, token, size, sha256) VALUES ($1, $2, $3, $4, $5)`, [collection, id, staged.token, info!.size, info!.sha256])
    }
  }

  async has(query: Query, collection: Buffer, id: Buffer): Promise<boolean> {
    const rows = await query(`SELECT 1 FROM ${this.opts.schema}.raw WHERE collection = $1 AND id = $2`, [collection, id])
    return rows.length > 0
  }

  /**
   * The data of (collection, id), read through `query`, which must see one snapshot (a repeatable
   * read transaction) so that a replacement committed meanwhile does not cut it.
   */
  async *read(query: Query, collection: string, id: string, chunkSize: number): AsyncGenerator<Uint8Array> {
    const s = this.opts.schema
    const [pointer] = await query(`SELECT token, size, sha256 FROM ${s}.raw WHERE collection = $1 AND id = $2`, [Buffer.from(collection), Buffer.from(id)])
    if (!pointer) return
    const size = Number(pointer.size)
    const hash = createHash('sha256')
    let seen = 0
    // Read in slices small enough that their text (bytea comes as hex, twice the size) is a young
    // object for V8: collected at once, so memory stays flat however large the data.
    const slice = this.opts.readSlice
    for (let seq = 0; seen < size; seq++) {
      for (let at = 0; ; at += slice) {
        const [row] = await query(`SELECT substring(data from $3 for $4) AS part, length(data) AS len FROM ${s}.chunks WHERE token = $1 AND seq = $2`, [pointer.token, seq, at + 1, slice])
        if (!row) throw new CorruptionError(`Raw data of ${collection}/${id} is corrupt: chunk ${seq} of token ${pointer.token} is missing (${seen} of ${size} bytes read)`)
        const part = row.part as Buffer
        seen += part.length
        hash.update(part)
        for (let from = 0; from < part.length; from += chunkSize) yield part.subarray(from, Math.min(from + chunkSize, part.length))
        if (at + slice >= row.len) break
      }
    }
    if (seen !== size) throw new CorruptionError(`Raw data of ${collection}/${id} is corrupt: expected ${size} bytes in chunks of token ${pointer.token}, found ${seen}`)
    if (hash.digest('hex') !== pointer.sha256) throw new CorruptionError(`Raw data of ${collection}/${id} is corrupt: SHA-256 digest mismatch in the chunks of token ${pointer.token}`)
  }
}

/** The token of each putRaw op, checked to appear once in the batch. */
export function checkTokens(ops: { type: string; staged?: StagedRaw }[]): void {
  const used = new Set<string>()
  for (const op of ops) {
    if (op.type !== 'putRaw') continue
    const token = op.staged!.token
    if (used.has(token)) throw new ArgumentError(`Staged raw data ${token} is committed twice in one batch`)
    used.add(token)
  }
}
