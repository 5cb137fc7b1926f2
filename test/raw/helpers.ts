import { createHash } from 'node:crypto'
import { bytes } from '../../src/testing/helpers.js'

export { bytes, sha256 } from '../../src/testing/helpers.js'

/** Yields `total` bytes in `piece`-sized chunks of one reused pattern block (never materialized). */
export async function* generated(total: number, piece = 256 * 1024, seed = 7): AsyncGenerator<Uint8Array> {
  const block = bytes(piece, seed)
  for (let at = 0; at < total; at += piece) {
    const n = Math.min(piece, total - at)
    // A fresh buffer per chunk, as a real stream would give, with the position mixed in.
    const chunk = new Uint8Array(n)
    chunk.set(block.subarray(0, n))
    chunk[0] = (at / piece) & 0xff
    yield chunk
  }
}

/** The SHA-256 of what `generated(total, piece, seed)` yields. */
export async function generatedDigest(total: number, piece = 256 * 1024, seed = 7): Promise<string> {
  const hash = createHash('sha256')
  for await (const chunk of generated(total, piece, seed)) hash.update(chunk)
  return hash.digest('hex')
}

export async function collect(it: AsyncIterable<Uint8Array>): Promise<{ chunks: Uint8Array[]; all: Buffer }> {
  const chunks: Uint8Array[] = []
  for await (const c of it) chunks.push(c)
  return { chunks, all: Buffer.concat(chunks) }
}

/** A source that yields some chunks, then fails with `error`. */
export async function* failing(error: Error, chunks = 3, size = 100_000): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < chunks; i++) yield bytes(size, i + 1)
  throw error
}
