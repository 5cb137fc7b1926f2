import { crc32 } from 'node:zlib'
import { CorruptionError } from '../../errors.js'
import { nameOf, PLAIN, type Named, type ValueCodec } from './msgpack-codec.js'

/**
 * Entry and record values carry a CRC-32 of their key and msgpack bytes. LevelDB checks its block
 * checksums only when asked per read, and classic-level never asks: without this, a flipped byte
 * in a table file reads back as a different value. The key is in the CRC so that a flipped byte in
 * a key does not show the value under another key.
 *
 *   0xc1 | CRC-32 of key and msgpack (4 bytes, big-endian) | msgpack
 *
 * 0xc1 is the one byte msgpack never uses (msgpackr writes it only with `bundleStrings`, which the
 * codec leaves off), so a bare value written before checksums (store format 1) is told apart by its
 * first byte, and an older version reading a sealed value fails instead of misreading it.
 */
const SEALED = 0xc1
const HEADER = 5

/**
 * Encodes a value stored under `key` (the database key, namespace included) and seals it. Like
 * `encodeValue`, the bytes are a view of msgpackr's shared buffer: copy them to keep them.
 */
export function encodeSealed(key: string, value: unknown, where: Named, codec: ValueCodec = PLAIN): Buffer {
  if (value === null && codec === PLAIN) return sealedNull(key)
  const out = codec.encode(value, where, HEADER)
  out[0] = SEALED
  out.writeUInt32BE(crc32(out.subarray(HEADER), crc32(key)), 1)
  return out
}

const NIL = 0xc0
const NIL_BYTE = Buffer.from([NIL])
const CRC_TABLE = new Int32Array(256).map((_, n) => {
  let c = n
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
  return c
})

/**
 * The sealed `null` of every index entry, without msgpack: for an ASCII key, the CRC in one pass of
 * JavaScript, which costs less than the two calls into zlib (key, then the msgpack byte) that an
 * entry of under a few hundred bytes would otherwise make. A fresh buffer, which callers may keep.
 */
function sealedNull(key: string): Buffer {
  const out = Buffer.allocUnsafe(HEADER + 1)
  out[0] = SEALED
  out.writeUInt32BE(asciiCrcWithNil(key) ?? crc32(NIL_BYTE, crc32(key)), 1)
  out[HEADER] = NIL
  return out
}

/** The CRC-32 of an ASCII key followed by the msgpack nil byte; undefined for any other key. */
function asciiCrcWithNil(key: string): number | undefined {
  let crc = -1
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i)
    if (c > 0x7f) return undefined
    crc = CRC_TABLE[(crc ^ c) & 0xff]! ^ (crc >>> 8)
  }
  crc = CRC_TABLE[(crc ^ NIL) & 0xff]! ^ (crc >>> 8)
  return ~crc >>> 0
}

/**
 * Checks and decodes a value read under `key`. `where` names it (e.g. `record Account/a1`) and
 * `store` the store (e.g. `LevelEngine(./data)`) in a CorruptionError. A bare value (no checksum)
 * is read as it is only where `bareAllowed`: in stores written before checksums.
 */
export function decodeSealed(key: string, bytes: Uint8Array, where: Named, store: string, bareAllowed: boolean, codec: ValueCodec = PLAIN): unknown {
  let start: number
  if (bytes.length >= HEADER && bytes[0] === SEALED) {
    start = HEADER
    const stored = ((bytes[1]! << 24) | (bytes[2]! << 16) | (bytes[3]! << 8) | bytes[4]!) >>> 0
    const computed = crc32(bytes.subarray(HEADER), crc32(key))
    if (stored !== computed) {
      throw new CorruptionError(
        `${store}: the stored value of ${nameOf(where)} fails its checksum (CRC-32 ${hex(stored)} stored, ${hex(computed)} computed over ${bytes.length} bytes): the store's files are damaged`,
      )
    }
  } else if (bareAllowed) {
    start = 0
  } else {
    throw new CorruptionError(`${store}: the stored value of ${nameOf(where)} (${bytes.length} bytes) has no checksum, which every value of this store has: the store's files are damaged`)
  }
  try {
    return codec.decode(bytes, where, start)
  } catch (err) {
    throw new CorruptionError(`${store}: ${(err as Error).message}`, { cause: (err as Error).cause ?? err })
  }
}

const hex = (n: number): string => n.toString(16).padStart(8, '0')
