import type { Range } from '../engine.js'

/**
 * The key layout of a LevelEngine database: one UTF-8 key space, split by a one-letter namespace.
 * UTF-8 byte order is code point order, so entries and ids sort by code point. Collection names
 * cannot contain NUL, so `collection + NUL` ends a collection's prefix and ids sort right after it.
 *
 *   e<key>                       entry value (sealed msgpack: see sealed-values.ts)
 *   r<collection>\0<id>          record value (sealed msgpack)
 *   p<collection>\0<id>          raw data pointer: the current token, size, sha256, chunk size (msgpack)
 *   c<token><chunk index, 8 hex> one chunk of raw bytes (not encoded)
 *   s<token>                     staging marker: the token's chunks are not committed yet (msgpack)
 *   m<name>                      bookkeeping (format version, sync marker, bare-values marker, record shapes)
 *
 * Bookkeeping values (but the shapes table), raw pointers and staging markers are bare msgpack: an older version must read
 * the format to refuse the store, and raw data is checked against its size and SHA-256 on reads.
 */
export const ENTRY = 'e'
export const ENTRY_END = 'f'

export const recordPrefix = (collection: string): string => `r${collection}\u0000`
export const recordKey = (collection: string, id: string): string => `r${collection}\u0000${id}`
export const pointerKey = (collection: string, id: string): string => `p${collection}\u0000${id}`
export const chunkPrefix = (token: string): string => `c${token}`
export const chunkKey = (token: string, index: number): string => `c${token}${index.toString(16).padStart(8, '0')}`
/** Tokens and chunk indexes are lower-case hex, so 'z' ends a token's chunks. */
export const chunkEnd = (token: string): string => `c${token}z`
export const STAGING = 's'
export const STAGING_END = 't'
export const stagingKey = (token: string): string => `s${token}`
export const FORMAT_KEY = 'mformat'
export const SYNC_KEY = 'msync'
/** The table of record shapes (record-shapes.ts), sealed, in stores that have one. */
export const SHAPES_KEY = 'mshapes'
/** Present in a store written before values carried checksums (format 1): bare values may remain. */
export const BARE_VALUES_KEY = 'mbare'

export interface LevelRange {
  gt?: string
  gte?: string
  lt?: string
  lte?: string
  reverse: boolean
  limit: number
}

/** The smallest string greater than every string that starts with `prefix` (in UTF-8 order). */
export function prefixEnd(prefix: string): string | undefined {
  const points = Array.from(prefix)
  while (points.length > 0) {
    const last = points.pop()!.codePointAt(0)!
    if (last < 0x10ffff) {
      // Skip the surrogate range, which UTF-8 cannot hold.
      return points.join('') + String.fromCodePoint(last === 0xd7ff ? 0xe000 : last + 1)
    }
  }
  return undefined
}

function compare(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b))
}

/** Translates a Range over keys under `base` into one abstract-level range over the whole key space. */
export function levelRange(base: string, baseEnd: string, range: Range): LevelRange {
  let lower = base
  let lowerInclusive = true
  let upper = baseEnd
  let upperInclusive = false
  const raise = (key: string, inclusive: boolean) => {
    const c = compare(key, lower)
    if (c > 0 || (c === 0 && !inclusive)) {
      lower = key
      lowerInclusive = inclusive
    }
  }
  const drop = (key: string, inclusive: boolean) => {
    const c = compare(key, upper)
    if (c < 0 || (c === 0 && !inclusive)) {
      upper = key
      upperInclusive = inclusive
    }
  }
  if (range.gte !== undefined) raise(base + range.gte, true)
  if (range.gt !== undefined) raise(base + range.gt, false)
  if (range.lte !== undefined) drop(base + range.lte, true)
  if (range.lt !== undefined) drop(base + range.lt, false)
  if (range.prefix) {
    raise(base + range.prefix, true)
    drop(prefixEnd(base + range.prefix)!, false)
  }
  const out: LevelRange = {
    reverse: range.reverse === true,
    limit: range.limit === undefined || range.limit === Infinity ? -1 : range.limit,
  }
  if (lowerInclusive) out.gte = lower
  else out.gt = lower
  if (upperInclusive) out.lte = upper
  else out.lt = upper
  return out
}
