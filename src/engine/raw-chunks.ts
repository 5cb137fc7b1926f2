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
  let chunk = Buffer.allocUnsafe(chunkSize)
  let filled = 0
  for await (const piece of source) {
    if (!(piece instanceof Uint8Array)) throw new ArgumentError(`stageRaw() source for ${label} yielded ${typeof piece}, not a Uint8Array`)
    hash.update(piece)
    size += piece.length
    let at = 0
    while (at < piece.length) {
      const n = Math.min(piece.length - at, chunkSize - filled)
      chunk.set(piece.subarray(at, at + n), filled)
      filled += n
      at += n
      if (filled === chunkSize) {
        await write(index++, chunk)
        chunk = Buffer.allocUnsafe(chunkSize)
        filled = 0
      }
    }
  }
  if (filled > 0) await write(index++, chunk.subarray(0, filled))
  return { size, sha256: hash.digest('hex') }
}
