import { createHash, randomBytes } from 'node:crypto'
import type { RootDatabase, Transaction } from 'lmdb'
import { CorruptionError, NotFoundError } from '../../errors.js'
import type { Source, StagedRaw } from '../engine.js'
import { chunkEnd, chunkKey, chunkPrefix, pointerKey, STAGING, STAGING_END, stagingKey } from '../level/level-keys.js'
import type { RawInfo } from '../level/level-raw.js'
import { decodeValue, encodeValue } from '../level/msgpack-codec.js'
import { writeChunks } from '../raw-chunks.js'
import type { OpenReaders } from './open-readers.js'

type Db = RootDatabase<Buffer, string | Uint8Array>

export interface LmdbRawOptions {
  chunkSize: number
  /** Runs `fn` in one write transaction, committed when it returns. */
  write(fn: () => void): void
  /** The engine's open reads, ended when it closes. */
  readers: OpenReaders
}

/**
 * Raw data in the LMDB store, laid out as on the LevelEngine (level-raw.ts): chunks under a fresh
 * token, a staging marker while uncommitted, and a pointer from (collection, id) to the committed
 * token. Staging writes each chunk in its own transaction; commits run inside the batch's.
 */
export class LmdbRaw {
  constructor(
    private readonly db: Db,
    private readonly opts: LmdbRawOptions,
  ) {}

  async stage(collection: string, id: string, source: Source): Promise<StagedRaw> {
    const { db, opts } = this
    const token = randomBytes(12).toString('hex')
    const where = `raw data of ${collection}/${id}`
    // The marker goes first: if the process dies mid-way, the next open deletes this token's chunks.
    opts.write(() => db.putSync(stagingKey(token), encodeValue({ token, size: -1, sha256: '', chunkSize: opts.chunkSize }, where)))
    try {
      const { size, sha256 } = await writeChunks(source, opts.chunkSize, `${collection}/${id}`, (index, bytes) =>
        opts.write(() => db.putSync(chunkKey(token, index), bytes)),
      )
      const info: RawInfo = { token, size, sha256, chunkSize: opts.chunkSize }
      opts.write(() => db.putSync(stagingKey(token), encodeValue(info, where)))
      return { token, size: info.size, sha256: info.sha256 }
    } catch (err) {
      try {
        this.deleteToken(token)
      } catch {}
      throw err
    }
  }

  /** Deletes a token's chunks and its marker, in one transaction. */
  deleteToken(token: string): void {
    const { db } = this
    this.opts.write(() => {
      const keys = [...db.getKeys({ start: chunkPrefix(token), end: chunkEnd(token) })]
      for (const key of keys) db.removeSync(key)
      db.removeSync(stagingKey(token))
    })
  }

  /** Deletes every staged token left by a process that stopped before committing or discarding. */
  deleteOrphans(): number {
    const tokens = [...this.db.getKeys({ start: STAGING, end: STAGING_END })] as string[]
    for (const key of tokens) this.deleteToken(key.slice(1))
    return tokens.length
  }

  /** The staged info for a token, or NotFoundError if it was committed, discarded or never staged here. */
  stagedInfo(staged: StagedRaw, collection: string, id: string): RawInfo {
    const bytes = this.db.getBinary(stagingKey(staged.token))
    const info = bytes === undefined ? undefined : (decodeValue(bytes, `staging marker ${staged.token}`) as RawInfo)
    if (!info || info.size < 0) {
      throw new NotFoundError(`No staged raw data ${staged.token} for ${collection}/${id}: it was already committed or discarded, or staged before the engine reopened`)
    }
    return info
  }

  pointer(collection: string, id: string): RawInfo | undefined {
    const bytes = this.db.getBinary(pointerKey(collection, id))
    return bytes === undefined ? undefined : (decodeValue(bytes, `raw data pointer of ${collection}/${id}`) as RawInfo)
  }

  /** Deletes every chunk of a committed token (inside a write transaction). */
  deleteChunks(info: RawInfo): void {
    const count = Math.ceil(info.size / info.chunkSize)
    for (let i = 0; i < count; i++) this.db.removeSync(chunkKey(info.token, i))
  }

  /** The data of (collection, id), read in `given` (a read transaction the caller holds) if given. */
  async *read(collection: string, id: string, chunkSize: number, given?: Transaction): AsyncGenerator<Uint8Array> {
    const { db, opts } = this
    opts.readers.assertOpen()
    // One read transaction keeps the pointer and its chunks consistent while a commit replaces them.
    const txn = given ?? db.useReadTransaction()
    let chunks: Iterator<{ value: Buffer }> | undefined
    const end = opts.readers.add(() => {
      chunks?.return?.()
      if (given === undefined) txn.done()
    })
    try {
      const bytes = (db.getBinary as (key: string, options: object) => Buffer | undefined)(pointerKey(collection, id), { transaction: txn })
      if (bytes === undefined) return
      const info = decodeValue(bytes, `raw data pointer of ${collection}/${id}`) as RawInfo
      // LMDB keeps no checksums of its pages: the digest catches a flipped bit.
      const hash = createHash('sha256')
      let seen = 0
      chunks = db.getRange({ start: chunkPrefix(info.token), end: chunkEnd(info.token), transaction: txn } as object)[Symbol.iterator]()
      for (;;) {
        opts.readers.assertOpen()
        const next = chunks.next()
        if (next.done) break
        const stored = next.value.value
        seen += stored.length
        hash.update(stored)
        // Each value read is a fresh Buffer: its pieces can be handed out as they are.
        for (let at = 0; at < stored.length; at += chunkSize) yield stored.subarray(at, Math.min(at + chunkSize, stored.length))
      }
      if (seen !== info.size) {
        throw new CorruptionError(`Raw data of ${collection}/${id} is corrupt: expected ${info.size} bytes in chunks of token ${info.token}, found ${seen}`)
      }
      if (hash.digest('hex') !== info.sha256) {
        throw new CorruptionError(`Raw data of ${collection}/${id} is corrupt: SHA-256 digest mismatch in the chunks of token ${info.token}`)
      }
    } finally {
      end()
    }
  }
}
