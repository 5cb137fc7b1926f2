import { createHash, randomBytes } from 'node:crypto'
import type { AbstractLevel, AbstractSnapshot } from 'abstract-level'
import { CorruptionError, NotFoundError } from '../../errors.js'
import type { Source, StagedRaw } from '../engine.js'
import { chunkEnd, chunkKey, chunkPrefix, pointerKey, STAGING, STAGING_END, stagingKey } from './level-keys.js'
import { writeChunks } from '../raw-chunks.js'
import { decodeValue, encodeValue } from './msgpack-codec.js'

type Db = AbstractLevel<any, any, any>
type BatchOp = { type: 'put'; key: string; value: Uint8Array } | { type: 'del'; key: string }

/** What a staging marker and a raw pointer hold. */
export interface RawInfo {
  token: string
  size: number
  sha256: string
  chunkSize: number
}

export interface RawStoreOptions {
  /** Encoding options for every call (`keyEncoding: 'utf8'` and a binary value encoding). */
  rw: { keyEncoding: 'utf8'; valueEncoding: 'buffer' | 'view' }
  /** Copy bytes read from the db before handing them out (memory-level shares its stored buffers). */
  copyReads: boolean
  /** Check each read's SHA-256 against the one computed when it was staged (stores on disk). */
  verify: boolean
  chunkSize: number
}

/**
 * Raw data in a level database: chunks under a fresh token, a staging marker while uncommitted,
 * and a pointer from (collection, id) to the committed token. Commits and discards run one at a
 * time (`exclusive`), because they read the current pointer before writing.
 */
export class RawStore {
  #queue: Promise<unknown> = Promise.resolve()

  constructor(
    private readonly db: Db,
    private readonly opts: RawStoreOptions,
  ) {}

  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(fn, fn)
    this.#queue = run.catch(() => {})
    return run
  }

  async stage(collection: string, id: string, source: Source): Promise<StagedRaw> {
    const { db, opts } = this
    const token = randomBytes(12).toString('hex')
    const where = `raw data of ${collection}/${id}`
    // The marker goes first: if the process dies mid-way, the next open deletes this token's chunks.
    await db.put(stagingKey(token), encodeValue({ token, size: -1, sha256: '', chunkSize: opts.chunkSize }, where), opts.rw)
    try {
      const { size, sha256 } = await writeChunks(source, opts.chunkSize, `${collection}/${id}`, (index, bytes) =>
        db.put(chunkKey(token, index), bytes, opts.rw),
      )
      const info: RawInfo = { token, size, sha256, chunkSize: opts.chunkSize }
      await db.put(stagingKey(token), encodeValue(info, where), opts.rw)
      return { token, size: info.size, sha256: info.sha256 }
    } catch (err) {
      await this.deleteToken(token).catch(() => {})
      throw err
    }
  }

  /** Deletes a token's chunks, then its marker (so a crash in between leaves it for the next open). */
  async deleteToken(token: string): Promise<void> {
    await this.db.clear({ gte: chunkPrefix(token), lt: chunkEnd(token), keyEncoding: 'utf8' })
    await this.db.del(stagingKey(token), this.opts.rw)
  }

  /** Deletes every staged token left by a process that stopped before committing or discarding. */
  async deleteOrphans(): Promise<number> {
    const tokens = await this.db.keys({ gte: STAGING, lt: STAGING_END, keyEncoding: 'utf8' }).all()
    for (const key of tokens) await this.deleteToken((key as string).slice(1))
    return tokens.length
  }

  discard(staged: StagedRaw): Promise<void> {
    return this.exclusive(() => this.deleteToken(staged.token))
  }

  /** The staged info for a token, or NotFoundError if it was committed, discarded or never staged here. */
  async stagedInfo(staged: StagedRaw, collection: string, id: string): Promise<RawInfo> {
    const bytes = await this.db.get(stagingKey(staged.token), this.opts.rw)
    const info = bytes === undefined ? undefined : (decodeValue(bytes, `staging marker ${staged.token}`) as RawInfo)
    if (!info || info.size < 0) {
      throw new NotFoundError(`No staged raw data ${staged.token} for ${collection}/${id}: it was already committed or discarded, or staged before the engine reopened`)
    }
    return info
  }

  async pointer(collection: string, id: string, snapshot?: unknown): Promise<RawInfo | undefined> {
    const key = pointerKey(collection, id)
    const bytes = await this.db.get(key, snapshot ? Object.assign({}, this.opts.rw, { snapshot: snapshot as any }) : this.opts.rw)
    return bytes === undefined ? undefined : (decodeValue(bytes, `raw data pointer of ${collection}/${id}`) as RawInfo)
  }

  /** Ops deleting every chunk of a committed token. */
  deleteChunkOps(info: RawInfo, ops: BatchOp[]): void {
    const count = Math.ceil(info.size / info.chunkSize)
    for (let i = 0; i < count; i++) ops.push({ type: 'del', key: chunkKey(info.token, i) })
  }

  /** The data of (collection, id), read from `given` (a snapshot the caller holds) if given. */
  async *read(collection: string, id: string, chunkSize: number, given?: AbstractSnapshot): AsyncGenerator<Uint8Array> {
    const { db, opts } = this
    // A snapshot keeps the pointer and its chunks consistent while a commit replaces them.
    const snapshot = given ?? (db.supports.explicitSnapshots ? db.snapshot() : undefined)
    try {
      const info = await this.pointer(collection, id, snapshot)
      if (!info) return
      const it = db.values(Object.assign({ gte: chunkPrefix(info.token), lt: chunkEnd(info.token) }, opts.rw, { snapshot }))
      // LevelDB does not verify its block checksums on reads by default: the digest catches a flipped bit.
      const hash = opts.verify ? createHash('sha256') : undefined
      let seen = 0
      try {
        for (;;) {
          const chunks = await it.nextv(2)
          if (chunks.length === 0) break
          for (const stored of chunks as Uint8Array[]) {
            seen += stored.length
            hash?.update(stored)
            for (let at = 0; at < stored.length; at += chunkSize) {
              const piece = stored.subarray(at, Math.min(at + chunkSize, stored.length))
              yield opts.copyReads ? piece.slice() : piece
            }
          }
        }
      } finally {
        await it.close()
      }
      if (seen !== info.size) {
        throw new CorruptionError(`Raw data of ${collection}/${id} is corrupt: expected ${info.size} bytes in chunks of token ${info.token}, found ${seen}`)
      }
      if (hash !== undefined && hash.digest('hex') !== info.sha256) {
        throw new CorruptionError(`Raw data of ${collection}/${id} is corrupt: SHA-256 digest mismatch in the chunks of token ${info.token}`)
      }
    } finally {
      if (given === undefined) await snapshot?.close()
    }
  }
}
