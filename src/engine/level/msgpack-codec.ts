import { Packr, RESERVE_START_SPACE } from 'msgpackr'
import { CorruptionError, EncodingError } from '../../errors.js'
import { scanPlainData } from '../plain-data.js'
import { tagged, untagged } from './escaped-values.js'
import { decodeLegacy, isLegacyEscapeError } from './legacy-escapes.js'

/**
 * msgpackr options. Plain maps, not msgpackr's records: for one ~300-byte object per value, inline
 * records are larger and slower, and shared structures would need a structures table kept in step
 * with every write (bench/RESULTS.md, "Codec", has the figures).
 * `int64AsType: 'bigint'` + `useBigIntExtension`: bigint in, bigint out, at any size (numbers are
 * never written as 64-bit ints, so they stay numbers). `copyBuffers`: a decoded Uint8Array owns its
 * bytes instead of viewing (and pinning) the stored value, which memory-level would share.
 */
export const PACKR_OPTIONS = {
  useRecords: false,
  int64AsType: 'bigint',
  useBigIntExtension: true,
  copyBuffers: true,
} as const

/**
 * Stowage's own msgpackr instance. It registers no extension: msgpackr keeps extensions in one
 * process-wide registry, shared with the host application's msgpackr.
 */
const packr = new Packr(PACKR_OPTIONS)

/**
 * Encodes plain data (see plain-data.ts); `where` names the value in an `EncodingError`. The bytes
 * are a view of msgpackr's shared buffer; `reserve` bytes (under 256) are left before the msgpack
 * for the caller to fill, so that a header costs no copy.
 */
export function encodeValue(value: unknown, where: Named, reserve = 0): Buffer {
  return encodeWith(packr, value, where, reserve)
}

/** `encodeValue` through another Packr of these options (record-shapes.ts); escaped values use the plain one. */
export function encodeWith(packer: Packr, value: unknown, where: Named, reserve: number): Buffer {
  const traits = scanPlainData(value, where)
  try {
    if (traits.negativeZero || traits.loneSurrogate || traits.protoKey) return encodeEscaped(value, reserve)
    return reserve === 0 ? packer.pack(value) : packer.pack(value, RESERVE_START_SPACE | reserve)
  } catch (err) {
    throw new EncodingError(`Cannot store ${nameOf(where)}: ${(err as Error).message}`, { cause: err })
  }
}

/**
 * An escaped value is ESCAPED followed by the msgpack of its tagged form (escaped-values.ts). 0xc1
 * is the one byte msgpack never uses (msgpackr writes it only with `bundleStrings`, which is off),
 * so no plain value starts with it.
 */
const ESCAPED = 0xc1

function encodeEscaped(value: unknown, reserve: number): Buffer {
  const body = packr.pack(tagged(value))
  const out = Buffer.allocUnsafe(reserve + 1 + body.length)
  out[reserve] = ESCAPED
  out.set(body, reserve + 1)
  return out
}

/**
 * Decodes bytes written by `encodeValue` (from `start` on: after a header); `where` names the value
 * in a `CorruptionError`.
 */
export function decodeValue(bytes: Uint8Array, where: Named, start = 0): unknown {
  return decodeWith(packr, bytes, where, start)
}

/** Decodes bytes written by `encodeWith` the same Packr. */
export function decodeWith(packer: Packr, bytes: Uint8Array, where: Named, start: number): unknown {
  try {
    if (bytes[start] === ESCAPED) return untagged(packr.unpack(bytes, { start: start + 1 }))
    try {
      return start === 0 ? packer.unpack(bytes) : packer.unpack(bytes, { start })
    } catch (err) {
      if (!isLegacyEscapeError(err)) throw err
      return decodeLegacy(bytes, start, (item) => packr.unpack(item))
    }
  } catch (err) {
    throw new CorruptionError(`Stored value of ${nameOf(where)} is corrupt (${bytes.length} bytes): ${(err as Error).message}`, { cause: err })
  }
}

/** How a store encodes a kind of value (its records, say): `encodeValue` and `decodeValue` unless told otherwise. */
export interface ValueCodec {
  encode(value: unknown, where: Named, reserve: number): Buffer
  decode(bytes: Uint8Array, where: Named, start: number): unknown
}

export const PLAIN: ValueCodec = { encode: encodeValue, decode: decodeValue }

/** A name for messages, or how to make it: reads name what they read only when something fails. */
export type Named = string | (() => string)

export function nameOf(where: Named): string {
  return typeof where === 'string' ? where : where()
}
