import type { Range } from '../engine.js'

/**
 * Key layout of the Directory engine's level store. Keys are UTF-8 bytes after a one-letter
 * namespace, so they sort by code point like every engine's keys. Collection names and ids cannot
 * contain NUL, which separates them.
 *   e<key>              user entries (index entries, links, bookkeeping)
 *   m<collection>\0<id> record manifest: size and mtime of the record file
 *   r<collection>\0<id> raw data: file name, size, SHA-256
 *   j<seq>              write-ahead journal of a batch's file operations
 *   x<collection>\0<id> an external change found at open, kept until acknowledged
 */
export const NS = { entry: 'e', manifest: 'm', raw: 'r', journal: 'j', external: 'x' } as const

export const entryKey = (key: string): Buffer => Buffer.from(NS.entry + key, 'utf8')
export const manifestKey = (collection: string, id: string): Buffer => Buffer.from(`${NS.manifest}${collection}\0${id}`, 'utf8')
export const rawKey = (collection: string, id: string): Buffer => Buffer.from(`${NS.raw}${collection}\0${id}`, 'utf8')
export const journalKey = (seq: number): Buffer => Buffer.from(NS.journal + String(seq).padStart(16, '0'), 'utf8')
export const externalKey = (collection: string, id: string): Buffer => Buffer.from(`${NS.external}${collection}\0${id}`, 'utf8')
export const manifestPrefix = (collection: string): string => `${NS.manifest}${collection}\0`
export const rawPrefix = (): string => NS.raw

/** The text after a namespace prefix (whose byte length is given). */
export function stripPrefix(key: Buffer, prefixBytes: number): string {
  return key.toString('utf8', prefixBytes)
}

export interface LevelRange {
  gte?: Buffer
  gt?: Buffer
  lte?: Buffer
  lt?: Buffer
  reverse: boolean
  limit: number
}

interface Bound {
  key: Buffer
  inclusive: boolean
}

/** Level iterator options for `range` inside the keys that start with `prefix`. */
export function levelRange(prefix: string, range: Range): LevelRange {
  const p = Buffer.from(prefix, 'utf8')
  const at = (s: string) => Buffer.concat([p, Buffer.from(s, 'utf8')])
  const lower: Bound[] = [{ key: p, inclusive: true }]
  const upper: Bound[] = [{ key: successor(p), inclusive: false }]
  if (range.gte !== undefined) lower.push({ key: at(range.gte), inclusive: true })
  if (range.gt !== undefined) lower.push({ key: at(range.gt), inclusive: false })
  if (range.lte !== undefined) upper.push({ key: at(range.lte), inclusive: true })
  if (range.lt !== undefined) upper.push({ key: at(range.lt), inclusive: false })
  if (range.prefix) {
    lower.push({ key: at(range.prefix), inclusive: true })
    upper.push({ key: successor(at(range.prefix)), inclusive: false })
  }
  const lo = lower.reduce((a, b) => pick(a, b, 1))
  const hi = upper.reduce((a, b) => pick(a, b, -1))
  const out: LevelRange = {
    reverse: range.reverse === true,
    limit: range.limit === undefined || range.limit === Infinity ? -1 : range.limit,
  }
  if (lo.inclusive) out.gte = lo.key
  else out.gt = lo.key
  if (hi.inclusive) out.lte = hi.key
  else out.lt = hi.key
  return out
}

/** The stricter bound: the larger lower bound (dir 1) or the smaller upper bound (dir -1). */
function pick(a: Bound, b: Bound, dir: 1 | -1): Bound {
  const c = Buffer.compare(a.key, b.key) * dir
  if (c > 0) return a
  if (c < 0) return b
  return a.inclusive ? b : a
}

/** The smallest key greater than every key starting with `p` (UTF-8 never contains 0xff). */
function successor(p: Buffer): Buffer {
  const s = Buffer.from(p)
  s[s.length - 1]!++
  return s
}
