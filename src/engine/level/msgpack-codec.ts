import { Packr, RESERVE_START_SPACE, addExtension } from 'msgpackr'
import { CorruptionError, EncodingError } from '../../errors.js'
import { hasLoneSurrogate, scanPlainData } from '../plain-data.js'

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

/*
 * msgpack cannot say three things plain data can: -0 (msgpackr writes it as the integer 0), strings
 * with lone surrogates (UTF-8 cannot hold them) and an own `__proto__` key (msgpackr renames it to
 * `__proto_` on decoding, to protect prototypes). Values holding one of these (rare: the scan that
 * validates every value says so) are copied with the culprits wrapped in the classes below, which
 * msgpackr writes as extensions. Extension types are global in msgpackr; these codes are unused by it.
 */
class NegativeZero {}
class LoneSurrogateString {
  constructor(readonly value: string) {}
}
class KeyedObject {
  constructor(readonly pairs: unknown[]) {}
}
const NEGATIVE_ZERO = new NegativeZero()

addExtension({ Class: NegativeZero, type: 0x30, write: () => 0, read: () => -0 })
addExtension({
  Class: LoneSurrogateString,
  type: 0x31,
  write: (s: LoneSurrogateString) => Array.from({ length: s.value.length }, (_, i) => s.value.charCodeAt(i)),
  read: (codes: number[]) => {
    if (!Array.isArray(codes)) throw new Error('bad string extension')
    let s = ''
    for (let i = 0; i < codes.length; i += 4096) s += String.fromCharCode(...codes.slice(i, i + 4096))
    return s
  },
})
addExtension({
  Class: KeyedObject,
  type: 0x32,
  write: (o: KeyedObject) => o.pairs,
  read: (pairs: unknown[]) => {
    if (!Array.isArray(pairs) || pairs.length % 2 !== 0) throw new Error('bad object extension')
    const obj: Record<string, unknown> = {}
    for (let i = 0; i < pairs.length; i += 2) {
      // defineProperty, not assignment: a `__proto__` key must stay an own property.
      Object.defineProperty(obj, pairs[i] as string, { value: pairs[i + 1], writable: true, enumerable: true, configurable: true })
    }
    return obj
  },
})

const packr = new Packr(PACKR_OPTIONS)

/**
 * Encodes plain data (see plain-data.ts); `where` names the value in an `EncodingError`. The bytes
 * are a view of msgpackr's shared buffer; `reserve` bytes (under 256) are left before the msgpack
 * for the caller to fill, so that a header costs no copy.
 */
export function encodeValue(value: unknown, where: Named, reserve = 0): Buffer {
  const traits = scanPlainData(value, where)
  const input = traits.negativeZero || traits.loneSurrogate || traits.protoKey ? escape(value) : value
  try {
    return reserve === 0 ? packr.pack(input) : packr.pack(input, RESERVE_START_SPACE | reserve)
  } catch (err) {
    throw new EncodingError(`Cannot store ${nameOf(where)}: ${(err as Error).message}`, { cause: err })
  }
}

/**
 * Decodes bytes written by `encodeValue` (from `start` on: after a header); `where` names the value
 * in a `CorruptionError`.
 */
export function decodeValue(bytes: Uint8Array, where: Named, start = 0): unknown {
  try {
    return start === 0 ? packr.unpack(bytes) : packr.unpack(bytes, { start })
  } catch (err) {
    throw new CorruptionError(`Stored value of ${nameOf(where)} is corrupt (${bytes.length} bytes): ${(err as Error).message}`, { cause: err })
  }
}

/** A name for messages, or how to make it: reads name what they read only when something fails. */
export type Named = string | (() => string)

export function nameOf(where: Named): string {
  return typeof where === 'string' ? where : where()
}

function escape(v: unknown): unknown {
  if (typeof v === 'number') return v === 0 && 1 / v < 0 ? NEGATIVE_ZERO : v
  if (typeof v === 'string') return hasLoneSurrogate(v) ? new LoneSurrogateString(v) : v
  if (v === null || typeof v !== 'object' || v instanceof Uint8Array || v instanceof Date) return v
  if (Array.isArray(v)) return Array.from(v, escape)
  const keys = Object.keys(v)
  if (keys.some((k) => k === '__proto__' || hasLoneSurrogate(k))) {
    const pairs: unknown[] = []
    for (const k of keys) pairs.push(escape(k), escape((v as Record<string, unknown>)[k]))
    return new KeyedObject(pairs)
  }
  const out: Record<string, unknown> = {}
  for (const k of keys) out[k] = escape((v as Record<string, unknown>)[k])
  return out
}
