import { pipeline, Readable, type Transform } from 'node:stream'
import { brotliCompressSync, brotliDecompressSync, constants, createBrotliCompress, createBrotliDecompress, createGunzip, createGzip, gunzipSync, gzipSync } from 'node:zlib'
import type { Engine, StageRawOptions } from '../engine/engine.js'
import { decodeValue, encodeValue } from '../engine/level/msgpack-codec.js'
import { LevelEngine } from '../engine/level/level-engine.js'
import { WrappedEngine } from '../engine/wrapped-engine.js'
import { ArgumentError, CorruptionError } from '../errors.js'
import { peek } from '../raw/sources.js'

export type Compression = 'brotli' | 'gzip'

/** Marks a compressed store (its value: the compression of new writes); hidden from callers. */
export const COMPRESSION_MARK = 'zip\x00form'

/**
 * Stored forms of a compressed store: every record is bytes whose first byte says how the rest is
 * stored (msgpack as it is, or compressed), and so is raw data. A record under 256 bytes, or one
 * compression does not shrink, is kept as is.
 */
const PLAIN = 0
const TAGS: Record<Compression, number> = { brotli: 1, gzip: 2 }
const SMALL = 256
/** Raw data whose first 64 KiB do not shrink by 5% is stored as it is (already compressed). */
const TRIAL = 64 * 1024
/** Extensions of data that is compressed already: stored as it is without a trial. */
const COMPRESSED_KINDS = new Set(['jpg', 'jpeg', 'png', 'gif', 'webp', 'avif', 'heic', 'mp3', 'mp4', 'm4a', 'aac', 'ogg', 'opus', 'webm', 'mkv', 'mov', 'zip', 'gz', 'tgz', 'br', 'zst', 'xz', 'bz2', '7z', 'rar', 'pdf', 'docx', 'xlsx', 'pptx', 'woff', 'woff2'])

/**
 * Any engine, compressed: records and raw data are stored compressed (node:zlib's brotli or gzip),
 * before any encryption the inner engine does; entries are left as they are (keys and short values).
 * Directly over a LevelDB store, records are left to LevelDB, which compresses its blocks (Snappy,
 * many records together) better than one record at a time is: only raw data is compressed there.
 * `Database.open({ compression })` makes one.
 */
export class CompressedEngine extends WrappedEngine {
  readonly compression: Compression
  /** Whether records are compressed (raw data always is, unless already compressed). */
  readonly compressesRecords: boolean

  constructor(inner: Engine, compression: Compression) {
    if (compression !== 'brotli' && compression !== 'gzip') throw new ArgumentError(`compression must be 'brotli' or 'gzip', got ${JSON.stringify(compression)}`)
    super(inner, { rawPaths: false, readableFiles: false })
    this.compression = compression
    this.compressesRecords = !(inner instanceof LevelEngine && inner.supports.persistent)
  }

  describe(): string {
    return `${this.inner.describe()}, ${this.compression}-compressed`
  }

  /** Compression is chosen when a store is made: a store holding uncompressed data is refused. */
  protected override async _open(): Promise<void> {
    await this.inner.open()
    try {
      const [mark] = await this.inner.getMany([COMPRESSION_MARK])
      if (mark === this.compression) return
      if (mark === undefined && (await this.innerHolds(false))) {
        throw new ArgumentError(`${this.inner.describe()} holds records that are not compressed: open it without compression, or copy it into a new compressed store`)
      }
      await this.inner.batch([{ type: 'put', key: COMPRESSION_MARK, value: this.compression }]) // new, or switching brotli <-> gzip for new writes
    } catch (err) {
      await this.inner.close()
      throw err
    }
  }

  protected override hidden(storedKey: string): boolean {
    return storedKey === COMPRESSION_MARK
  }

  protected override sealRecord(collection: string, id: string, value: unknown): unknown {
    const encoded = encodeValue(value, () => `record ${collection}/${id}`)
    if (this.compressesRecords && encoded.length >= SMALL) {
      const packed = this.compression === 'brotli' ? brotliCompressSync(encoded, { params: { [constants.BROTLI_PARAM_QUALITY]: 5 } }) : gzipSync(encoded)
      if (packed.length < encoded.length) return tagged(TAGS[this.compression], packed)
    }
    return tagged(PLAIN, encoded)
  }

  protected override openRecord(collection: string, id: string, stored: unknown): unknown {
    const what = `record ${collection}/${id}`
    if (!(stored instanceof Uint8Array) || stored.length === 0) throw new CorruptionError(`${this.describe()}: ${what} is not stored in the form of a compressed store`)
    const body = Buffer.from(stored.buffer, stored.byteOffset + 1, stored.byteLength - 1)
    let encoded: Buffer
    try {
      encoded = stored[0] === PLAIN ? body : stored[0] === TAGS.brotli ? brotliDecompressSync(body) : stored[0] === TAGS.gzip ? gunzipSync(body) : fail(stored[0]!)
    } catch (err) {
      throw new CorruptionError(`${this.describe()}: ${what} cannot be decompressed: ${(err as Error).message}`)
    }
    return decodeValue(encoded, what)
  }

  protected override async *encodeRaw(_collection: string, _id: string, source: AsyncIterable<Uint8Array>, options: StageRawOptions): AsyncIterable<Uint8Array> {
    // The first 64 KiB decide: already compressed data is stored as it is.
    const { head: first, rest } = await peek(source[Symbol.asyncIterator](), TRIAL)
    const known = options.extension !== undefined && COMPRESSED_KINDS.has(options.extension.toLowerCase())
    const trial = known || first.length === 0 ? first.length : (this.compression === 'brotli' ? brotliCompressSync(first, { params: { [constants.BROTLI_PARAM_QUALITY]: 1 } }) : gzipSync(first, { level: 1 })).length
    if (known || trial > first.length * 0.95) {
      yield Buffer.of(PLAIN)
      yield* rest
      return
    }
    yield Buffer.of(TAGS[this.compression])
    const compressor = this.compression === 'brotli' ? createBrotliCompress({ params: { [constants.BROTLI_PARAM_QUALITY]: 5 } }) : createGzip()
    yield* piped(rest, compressor)
  }

  protected override async *decodeRaw(collection: string, id: string, stored: (chunkSize: number) => AsyncIterable<Uint8Array>, chunkSize: number, store: string): AsyncIterable<Uint8Array> {
    const it = stored(chunkSize)[Symbol.asyncIterator]()
    let first = await it.next()
    if (first.done) return // no raw data stored
    let tag = first.value[0]
    let rest: Uint8Array = first.value.subarray(1)
    while (first.value.length === 0) {
      first = await it.next()
      if (first.done) throw new CorruptionError(`${store}: raw data of ${collection}/${id} is empty, without even its form`)
      tag = first.value[0]
      rest = first.value.subarray(1)
    }
    const body = async function* (): AsyncGenerator<Uint8Array> {
      if (rest.length > 0) yield rest
      for (let next = await it.next(); !next.done; next = await it.next()) yield next.value
    }
    if (tag === PLAIN) {
      yield* body()
      return
    }
    if (tag !== TAGS.brotli && tag !== TAGS.gzip) throw new CorruptionError(`${store}: raw data of ${collection}/${id} has an unknown form (${tag})`)
    const decompressor = tag === TAGS.brotli ? createBrotliDecompress() : createGunzip()
    try {
      for await (const chunk of piped(body(), decompressor) as AsyncIterable<Buffer>) {
        for (let at = 0; at < chunk.length; at += chunkSize) yield chunk.subarray(at, at + chunkSize)
      }
    } catch (err) {
      if (err instanceof CorruptionError) throw err
      throw new CorruptionError(`${store}: raw data of ${collection}/${id} cannot be decompressed: ${(err as Error).message}`)
    }
  }
}

/** `source` through a zlib stream; a failure of either ends the iteration with it. */
function piped(source: AsyncIterable<Uint8Array>, through: Transform): AsyncIterable<Uint8Array> {
  return pipeline(Readable.from(source), through, () => {}) as unknown as AsyncIterable<Uint8Array>
}

function tagged(tag: number, body: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(body.length + 1)
  out[0] = tag
  out.set(body, 1)
  return out
}

function fail(tag: number): never {
  throw new Error(`unknown form ${tag}`)
}

