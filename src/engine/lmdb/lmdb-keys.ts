import type { Range } from '../engine.js'
import { levelRange } from '../level/level-keys.js'

/**
 * Keys as lmdb-js reads and writes them: UTF-8 bytes, compared by LMDB as bytes (memcmp), which is
 * code point order, as on the LevelEngine. The key layout is the LevelEngine's (level-keys.ts).
 * Range bounds too long to be stored are passed as bytes (see `lmdbRange`).
 */
export const utf8Keys = {
  writeKey(key: string | Uint8Array, target: Buffer, start: number): number {
    if (typeof key !== 'string') {
      target.set(key, start)
      return start + key.length
    }
    // write() stops silently at the end of the target: a RangeError makes lmdb-js retry in a fresh buffer.
    const room = target.length - start
    if (key.length * 3 > room && Buffer.byteLength(key) > room) throw new RangeError('The key does not fit')
    return start + target.write(key, start)
  },
  readKey(target: Buffer, start: number, end: number): string {
    return target.toString('utf8', start, end)
  },
}

/** Whether `key` is longer than `max` bytes in UTF-8 (without counting them when it cannot be). */
export function overLimit(key: string, max: number): boolean {
  return key.length * 3 > max && Buffer.byteLength(key) > max
}

/** lmdb-js `getRange` options, or `undefined` for a range that holds nothing. */
export interface LmdbRange {
  start: string | Uint8Array
  end: string | Uint8Array
  exclusiveStart: boolean
  inclusiveEnd: boolean
  reverse: boolean
  limit?: number
}

/**
 * Translates a Range over keys under `base` into lmdb-js range options (forward: start low, end
 * high; reverse: start high, end low). A bound over `maxKey` bytes cannot be a stored key, so it is
 * cut to its first `maxKey` bytes: a stored key is above a long lower bound exactly when it is above
 * the cut bound, and below a long upper bound exactly when it is at most the cut bound.
 */
export function lmdbRange(base: string, baseEnd: string, range: Range, maxKey: number): LmdbRange | undefined {
  const r = levelRange(base, baseEnd, range)
  let low: string | Uint8Array = r.gte ?? r.gt!
  let lowExclusive = r.gt !== undefined
  let high: string | Uint8Array = r.lt ?? r.lte!
  let highInclusive = r.lte !== undefined
  if (overLimit(low as string, maxKey)) {
    low = Buffer.from(low as string).subarray(0, maxKey)
    lowExclusive = true
  }
  if (overLimit(high as string, maxKey)) {
    high = Buffer.from(high as string).subarray(0, maxKey)
    highInclusive = true
  }
  const c = Buffer.compare(Buffer.from(low), Buffer.from(high))
  if (c > 0 || (c === 0 && (lowExclusive || !highInclusive))) return undefined
  const limit = r.limit < 0 ? undefined : r.limit
  if (limit === 0) return undefined
  return r.reverse
    ? { start: high, end: low, exclusiveStart: !highInclusive, inclusiveEnd: !lowExclusive, reverse: true, limit }
    : { start: low, end: high, exclusiveStart: lowExclusive, inclusiveEnd: highInclusive, reverse: false, limit }
}
