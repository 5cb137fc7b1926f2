import { IndexError } from '../errors.js'
import { describeValue } from '../engine/engine.js'
import { hasLoneSurrogate } from '../engine/plain-data.js'
import type { IndexKey } from '../model/meta.js'

/**
 * Order-preserving encoding of index keys into strings. Engines compare keys by UTF-8 bytes (code
 * point order), so `compare(encode(a), encode(b))` by UTF-8 bytes equals the natural order of a, b.
 *
 * An encoded key is a one-character kind tag followed by a body:
 * - `b` boolean: `0` false, `1` true.
 * - `d` Date: the time in ms, encoded like a number. A Date and the number of its milliseconds are
 *   different keys (query a Date index with Dates); Dates sort among themselves by time.
 * - `n` number: the 8 bytes of the float64 with the sign flipped (negatives: every bit flipped),
 *   as 16 lower-case hex digits, so order is numeric for negatives, fractions and ±Infinity.
 *   `-0` is the same key as `0`. NaN is refused.
 * - `s` string: the string itself with NUL escaped as `\x01\x01` and `\x01` as `\x01\x02`, which keeps
 *   code point order and prefixes (a string starts with p iff its encoding starts with p's encoding).
 *   Strings must be well-formed Unicode (no lone surrogates: UTF-8 cannot carry them).
 *
 * Kinds therefore sort boolean < Date < number < string. An encoding never contains NUL, so an index
 * entry `<prefix><encoded>\x00<oid>` is unambiguous and all entries of one key lie in
 * `[<prefix><encoded>\x00, <prefix><encoded>\x01)`.
 */

export type KeyKind = 'boolean' | 'date' | 'number' | 'string'

export const TAGS: Record<KeyKind, string> = { boolean: 'b', date: 'd', number: 'n', string: 's' }

/** Longest encoded key, in UTF-8 bytes; longer keys are refused with IndexError. */
export const MAX_KEY_BYTES = 1024

/** Why `key` cannot be an index key, or undefined when it can. */
export function keyProblem(key: unknown): string | undefined {
  switch (typeof key) {
    case 'string':
      if (hasLoneSurrogate(key)) return `${describeValue(key)} is not well-formed Unicode (it has a lone surrogate)`
      return undefined
    case 'number':
      return Number.isNaN(key) ? 'NaN is not an index key' : undefined
    case 'boolean':
      return undefined
    case 'object':
      if (key instanceof Date) return Number.isNaN(key.getTime()) ? 'an invalid Date is not an index key' : undefined
  }
  return `${describeValue(key)} is not an index key (keys are strings, numbers, booleans or Dates)`
}

export function kindOf(key: IndexKey): KeyKind {
  return key instanceof Date ? 'date' : (typeof key as KeyKind)
}

/** Encodes a key; throws IndexError for a value that cannot be one (see `keyProblem`). */
export function encodeKey(key: IndexKey): string {
  let encoded: string
  switch (typeof key) {
    case 'string':
      if (hasLoneSurrogate(key)) throw new IndexError(keyProblem(key)!)
      encoded = 's' + escapeString(key)
      break
    case 'number':
      if (Number.isNaN(key)) throw new IndexError(keyProblem(key)!)
      encoded = 'n' + encodeNumber(key)
      break
    case 'boolean':
      encoded = key ? 'b1' : 'b0'
      break
    default: {
      if (!(key instanceof Date) || Number.isNaN(key.getTime())) throw new IndexError(keyProblem(key)!)
      encoded = 'd' + encodeNumber(key.getTime())
    }
  }
  // A UTF-16 code unit takes at most 3 UTF-8 bytes, so only long strings need measuring.
  if (encoded.length * 3 > MAX_KEY_BYTES && Buffer.byteLength(encoded) > MAX_KEY_BYTES) {
    throw new IndexError(
      `Index key ${describeValue(key)} is ${Buffer.byteLength(encoded)} bytes encoded; index keys are limited to ${MAX_KEY_BYTES} bytes`,
    )
  }
  return encoded
}

/** Inverse of `encodeKey`. */
export function decodeKey(encoded: string): IndexKey {
  const body = encoded.slice(1)
  switch (encoded[0]) {
    case 's':
      return unescapeString(body)
    case 'n':
      return decodeNumber(body)
    case 'b':
      return body === '1'
    case 'd':
      return new Date(decodeNumber(body))
    case 'h':
      // src/crypto/index-keys.ts: an encrypted store's index keeps keyed hashes, not its keys.
      throw new IndexError('This index is stored with keyed hashes in an encrypted store: its keys cannot be listed or ordered; list it in encryption.ordered to keep them (in the clear)')
  }
  throw new IndexError(`Cannot decode index key ${JSON.stringify(encoded)}: unknown kind tag`)
}

/** The encoding of a string prefix: every string key starting with `prefix` encodes to a string starting with this. */
export function encodePrefix(prefix: string): string {
  if (hasLoneSurrogate(prefix)) throw new IndexError(keyProblem(prefix)!)
  return 's' + escapeString(prefix)
}

/** Range bounds covering exactly the keys of one kind: `[start, end)`. */
export function kindBounds(kind: KeyKind): { start: string; end: string } {
  const tag = TAGS[kind]
  return { start: tag, end: String.fromCharCode(tag.charCodeAt(0) + 1) }
}

export function escapeString(s: string): string {
  if (!s.includes('\x00') && !s.includes('\x01')) return s
  return s.replace(/[\x00\x01]/g, (c) => (c === '\x00' ? '\x01\x01' : '\x01\x02'))
}

export function unescapeString(s: string): string {
  if (!s.includes('\x01')) return s
  return s.replace(/\x01([\x01\x02])/g, (_, c: string) => (c === '\x01' ? '\x00' : '\x01'))
}

const view = new DataView(new ArrayBuffer(8))

function encodeNumber(n: number): string {
  view.setFloat64(0, n === 0 ? 0 : n) // -0 becomes 0
  let hi = view.getUint32(0)
  let lo = view.getUint32(4)
  if (hi & 0x80000000) {
    hi = ~hi >>> 0
    lo = ~lo >>> 0
  } else {
    hi = (hi | 0x80000000) >>> 0
  }
  return hi.toString(16).padStart(8, '0') + lo.toString(16).padStart(8, '0')
}

function decodeNumber(hex: string): number {
  if (!/^[0-9a-f]{16}$/.test(hex)) throw new IndexError(`Cannot decode index key number ${JSON.stringify(hex)}`)
  let hi = parseInt(hex.slice(0, 8), 16)
  let lo = parseInt(hex.slice(8), 16)
  if (hi & 0x80000000) {
    hi = (hi & 0x7fffffff) >>> 0
  } else {
    hi = ~hi >>> 0
    lo = ~lo >>> 0
  }
  view.setUint32(0, hi)
  view.setUint32(4, lo)
  return view.getFloat64(0)
}

/** A key as written in messages: strings quoted, Dates as ISO text. */
export function describeKey(key: IndexKey): string {
  if (key instanceof Date) return `Date ${key.toISOString()}`
  return typeof key === 'string' ? describeValue(key) : String(key)
}
