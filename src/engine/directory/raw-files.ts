import { createHash } from 'node:crypto'
import { open, unlink } from 'node:fs/promises'
import type { FileHandle } from 'node:fs/promises'
import { ArgumentError, CorruptionError } from '../../errors.js'
import type { Source } from '../engine.js'
import { isNotFound, writeAll } from './atomic-file.js'

/** What the level store keeps of one committed raw file. */
export interface RawMeta {
  /** File name inside the collection directory: `<id>.<ext>`. */
  f: string
  s: number
  /** Hex SHA-256. */
  h: string
}

/**
 * The file extension for raw data from a hint: lower case, only [a-z0-9_-] (anything else becomes
 * `-`), at most 16 characters, `bin` if empty. Never `json`, which names record files: a `json`
 * hint gives `json-data`, so `<id>.<ext>` never collides with a record file or another raw file.
 */
export function rawExtension(hint: unknown): string {
  if (hint === undefined) return 'bin'
  if (typeof hint !== 'string') throw new ArgumentError(`The extension hint must be a string, got ${typeof hint}`)
  const ext = hint.replace(/^\.+/, '').toLowerCase().replace(/[^a-z0-9_-]/g, '-').slice(0, 16)
  if (ext === '') return 'bin'
  return ext === 'json' ? 'json-data' : ext
}

/**
 * Streams `source` into `path` (a new file), hashing as it goes, then fsyncs. Each chunk is written
 * before the next is pulled, which is the backpressure. On any failure the file is removed and the
 * error rethrown.
 */
export async function streamToFile(path: string, source: Source): Promise<{ size: number; sha256: string }> {
  const fh = await open(path, 'wx')
  const hash = createHash('sha256')
  let size = 0
  try {
    for await (const chunk of source as AsyncIterable<unknown>) {
      if (!(chunk instanceof Uint8Array)) {
        throw new ArgumentError(`Raw data chunks must be Uint8Array (or Buffer), got ${chunk === null ? 'null' : typeof chunk}`)
      }
      hash.update(chunk)
      await writeAll(fh, chunk)
      size += chunk.byteLength
    }
    await fh.sync()
  } catch (err) {
    await fh.close().catch(() => {})
    await unlink(path).catch(() => {})
    throw err
  }
  await fh.close()
  return { size, sha256: hash.digest('hex') }
}

/** Opens a committed raw file for reading; undefined if it does not exist. */
export async function openRaw(path: string): Promise<FileHandle | undefined> {
  try {
    return await open(path, 'r')
  } catch (err) {
    if (isNotFound(err)) return undefined
    throw err
  }
}

/**
 * Streams an open raw file in chunks of at most `chunkSize` bytes, checking it against what the
 * store recorded: the size at once, the SHA-256 at the end (after the last chunk). Closes `fh`.
 */
export async function* streamRaw(fh: FileHandle, path: string, meta: RawMeta, chunkSize: number): AsyncGenerator<Uint8Array> {
  try {
    const { size } = await fh.stat()
    if (size !== meta.s) {
      throw new CorruptionError(`Raw data file ${path} has ${size} bytes but ${meta.s} were stored (size mismatch): changed or truncated outside the store`)
    }
    const hash = createHash('sha256')
    // Read in blocks of at least 64 KiB (and at most 8 MiB), yielding slices of at most chunkSize.
    const blockSize = Math.min(Math.max(chunkSize, 64 * 1024), 8 * 1024 * 1024)
    let pos = 0
    while (pos < meta.s) {
      const block = new Uint8Array(Math.min(blockSize, meta.s - pos))
      let got = 0
      while (got < block.byteLength) {
        const { bytesRead } = await fh.read(block, got, block.byteLength - got, pos + got)
        if (bytesRead === 0) throw new CorruptionError(`Raw data file ${path} was truncated while being read (at byte ${pos + got} of ${meta.s})`)
        got += bytesRead
      }
      pos += got
      hash.update(block)
      for (let at = 0; at < block.byteLength; at += chunkSize) yield block.subarray(at, at + chunkSize)
    }
    const digest = hash.digest('hex')
    if (digest !== meta.h) {
      throw new CorruptionError(`Raw data file ${path} does not match its stored SHA-256 (digest mismatch: ${digest} instead of ${meta.h}): changed outside the store`)
    }
  } finally {
    await fh.close()
  }
}
