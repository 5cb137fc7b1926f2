import { createHash } from 'node:crypto'
import { ArgumentError } from '../errors.js'
import type { Source } from './engine.js'

/**
 * Cuts a raw data source into chunks of `chunkSize` bytes (the last one may be shorter), each a
 * buffer of its own, and hands them to `write` with their index, hashing and counting as it goes.
 * `write` is awaited before more of the source is pulled: that is the backpressure.
 */
export async function writeChunks(
  source: Source,
  chunkSize: number,
  label: string,
  write: (index: number, bytes: Buffer) => void | Promise<void>,
): Promise<{ size: number; sha256: string }> {
  const hash = createHash('sha256')
  let size = 0
  let index = 0
  async function* counted(): AsyncGenerator<Uint8Array> {
    for await (const piece of source) {
      if (!(piece instanceof Uint8Array)) throw new ArgumentError(`stageRaw() source for ${label} yielded ${typeof piece}, not a Uint8Array`)
      hash.update(piece)
      size += piece.length
      yield piece
    }
  }
  for await (const chunk of fixedChunks(counted(), chunkSize)) await write(index++, chunk)
  return { size, sha256: hash.digest('hex') }
}

/** The bytes of `source` in chunks of `size` (the last one may be shorter; none if it is empty), each a buffer of its own. */
export async function* fixedChunks(source: AsyncIterable<Uint8Array>, size: number): AsyncGenerator<Buffer> {
  let chunk = Buffer.allocUnsafe(size)
  let filled = 0
  for await (const piece of source) {
    for (let at = 0; at < piece.length; ) {
      const n = Math.min(piece.length - at, size - filled)
      chunk.set(piece.subarray(at, at + n), filled)
      filled += n
      at += n
      if (filled === size) {
        yield chunk
        chunk = Buffer.allocUnsafe(size)
        filled = 0
      }
    }
  }
  if (filled > 0) yield chunk.subarray(0, filled)
}
