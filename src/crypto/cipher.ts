import { createCipheriv, createDecipheriv, randomBytes, type KeyObject } from 'node:crypto'
import { CorruptionError } from '../errors.js'

/**
 * AES-256-GCM for stored values and raw data chunks. Each sealed value is
 *   mark | IV (12 random bytes) | ciphertext | tag (16)
 * where the mark (1 or 2) says which of the store's data keys sealed it (two during a re-encryption)
 * with additional authenticated data naming where it is stored (its key; a raw chunk's object, index
 * and whether it is the last), so a value moved to another key, chunks reordered, or the data cut
 * short after a chunk fail like a flipped byte: `CorruptionError`, never wrong data.
 */
const OVERHEAD = 1 + 12 + 16

/** Random IVs drawn from a pool refilled 4,096 at a time: one randomBytes() call per value cost ~20 µs. */
let ivs = Buffer.alloc(0)
let next = 0

function freshIv(): Buffer {
  if (next + 12 > ivs.length) {
    ivs = randomBytes(12 * 4096)
    next = 0
  }
  const iv = ivs.subarray(next, next + 12)
  next += 12
  return iv
}

/** `dataKey`: the 32 bytes, or a KeyObject made of them once (createSecretKey), which saves a copy per value. */
export type DataKey = Uint8Array | KeyObject
/** The data keys a store opens values with, by mark. */
export type KeyRing = ReadonlyMap<number, DataKey>

export function encrypt(dataKey: DataKey, where: string, plaintext: Uint8Array, mark = 1): Buffer {
  const iv = freshIv()
  const cipher = createCipheriv('aes-256-gcm', dataKey, iv)
  cipher.setAAD(Buffer.from(where, 'utf8'))
  // One buffer for the whole sealed value: GCM's final() adds no bytes, so update() gives the body.
  const out = Buffer.allocUnsafe(OVERHEAD + plaintext.length)
  out[0] = mark
  iv.copy(out, 1)
  cipher.update(plaintext).copy(out, 13)
  cipher.final()
  cipher.getAuthTag().copy(out, 13 + plaintext.length)
  return out
}

/** `what` names the value in the error (e.g. `record Note/01h...`). */
export function decrypt(keys: DataKey | KeyRing, where: string, sealed: Uint8Array, what: string): Buffer {
  const dataKey = keys instanceof Map ? keys.get(sealed[0]!) : sealed[0] === 1 ? (keys as DataKey) : undefined
  if (sealed.length < OVERHEAD || dataKey === undefined) throw new CorruptionError(`${what}: the stored value is not an encrypted value of this store (${sealed.length} bytes)`)
  const bytes = Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength)
  const decipher = createDecipheriv('aes-256-gcm', dataKey, bytes.subarray(1, 13))
  decipher.setAAD(Buffer.from(where, 'utf8'))
  decipher.setAuthTag(bytes.subarray(bytes.length - 16))
  try {
    const plain = decipher.update(bytes.subarray(13, bytes.length - 16))
    decipher.final()
    return plain
  } catch {
    throw new CorruptionError(`${what}: the stored value fails its authentication (altered, moved or damaged); it is not read`)
  }
}

/** What a raw data chunk is authenticated with: its object, its position, and whether it is the last. */
export function chunkContext(collection: string, id: string, index: number, last: boolean): string {
  return `raw\0${collection}\0${id}\0${index}\0${last ? 'end' : 'more'}`
}

/** Encrypts a stream of raw data in chunks of the stream's own sizes, each authenticated with its position; the last is marked. */
export async function* encryptChunks(dataKey: DataKey, collection: string, id: string, source: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  let index = 0
  let held: Uint8Array | undefined
  for await (const chunk of source) {
    if (chunk.length === 0) continue
    if (held !== undefined) yield encrypt(dataKey, chunkContext(collection, id, index++, false), held)
    held = chunk
  }
  yield encrypt(dataKey, chunkContext(collection, id, index, true), held ?? new Uint8Array(0))
}
