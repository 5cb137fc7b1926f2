import type { Engine, Range } from '../engine/engine.js'
import { entryPrefix } from '../indexes/layout.js'
import type { IndexMeta, ModelMeta } from '../model/meta.js'
import type { KeyTest } from './conditions.js'

/** The engine ranges holding the index entries a key test accepts, in key order. */
export function entryRanges(meta: ModelMeta, index: IndexMeta, test: KeyTest): Range[] {
  const p = entryPrefix(meta.collection, index.name)
  switch (test.kind) {
    case 'points':
      return test.points.map((k) => ({ prefix: p + k + '\x00' }))
    case 'prefix':
      return [{ prefix: p + test.prefix }]
    case 'range':
      // Entries of key k are `p k \0 oid`: they sort after `p k` and before `p k \x01`.
      return [{ prefix: p, gte: test.lowerInclusive ? p + test.lower : p + test.lower + '\x01', lt: test.upperInclusive ? p + test.upper + '\x01' : p + test.upper }]
  }
}

/** Every entry of an index, in key order. */
export function wholeIndex(meta: ModelMeta, index: IndexMeta): Range {
  return { prefix: entryPrefix(meta.collection, index.name) }
}

/** The encoded key and the oid of an index entry, given the length of its index's prefix. */
export function splitEntry(entry: string, prefixLength: number): [key: string, oid: string] {
  const nul = entry.lastIndexOf('\x00')
  return [entry.slice(prefixLength, nul), entry.slice(nul + 1)]
}

/**
 * The keys in `range`, in batches growing from `first` (default 128) to 1000 (small first so a query
 * stopped early reads little). Engines that iterate synchronously fill a batch without a promise per key.
 */
export async function* keyBatches(engine: Engine, range: Range, first = 128): AsyncGenerator<string[]> {
  yield* batches(engine.supports.syncRanges === true ? engine.keysSync(range) : engine.keys(range), first)
}

/** As `keyBatches`, for entries with their values. */
export async function* entryBatches(engine: Engine, range: Range): AsyncGenerator<[string, unknown][]> {
  yield* batches(engine.supports.syncRanges === true ? engine.entriesSync(range) : engine.entries(range))
}

async function* batches<T>(items: Iterable<T> | AsyncIterable<T>, first = 128): AsyncGenerator<T[]> {
  let size = first
  let batch: T[] = []
  if (Symbol.iterator in items) {
    for (const item of items) {
      batch.push(item)
      if (batch.length >= size) {
        yield batch
        batch = []
        size = Math.min(size * 4, 1000)
      }
    }
  } else {
    for await (const item of items) {
      batch.push(item)
      if (batch.length >= size) {
        yield batch
        batch = []
        size = Math.min(size * 4, 1000)
      }
    }
  }
  if (batch.length > 0) yield batch
}

/** How many keys `ranges` hold, counting up to `cap` (a result of `cap` means at least that many). */
export async function countUpTo(engine: Engine, ranges: Range[], cap: number): Promise<number> {
  let n = 0
  for (const range of ranges) {
    if (n >= cap) break
    const limited = Object.assign({}, range, { limit: cap - n })
    if (engine.supports.syncRanges === true) for (const _ of engine.keysSync(limited)) n++
    else for await (const _ of engine.keys(limited)) n++
  }
  return n
}

/** How many records a collection holds, counting up to `cap`. */
export async function countRecordsUpTo(engine: Engine, collection: string, cap: number): Promise<number> {
  let n = 0
  for await (const _ of engine.recordIds(collection, { limit: cap })) n++
  return n
}
