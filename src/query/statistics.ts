import type { Engine, Range } from '../engine/engine.js'
import type { ModelMeta } from '../model/meta.js'
import type { ParsedCondition } from './conditions.js'
import type { CountCache } from './count-cache.js'
import type { OidSets } from './oid-sets.js'
import { countRecordsUpTo, entryRanges } from './scans.js'
import { claimedOids } from '../indexes/unique-claims.js'

/** A count that may have stopped early: `exact` false means "at least n". */
export interface Estimate {
  n: number
  exact: boolean
  /**
   * The oids of the entries counted, in scan order (repeats kept), when the count is exact and
   * small enough to keep: the plan then uses them instead of reading the entries again.
   */
  oids?: string[]
  /** Every oid the condition selects, kept between queries (oid-sets.ts): no entry was read for it. */
  oidSet?: ReadonlySet<string>
}

export interface Statistics {
  /** Per indexed condition of `where`, in order: the index entries it selects. */
  conditions: Estimate[]
  /** The model's stored objects; counted only for queries without an indexed condition. */
  records: Estimate
  /** Index entries and record ids read to get these. */
  read: number
}

/** The first round's cap: an engine's first batch of entries (LevelEngine reads 128 per trip). */
const FIRST_CAP = 128
/** Small steps: a count past the smallest condition's end is wasted (iterators stay open, so a round costs no trip). Asynchronous engines only. */
const GROWTH = 1.25
/** Most keys of a unique index whose claims are read for one condition (each a synchronous point read). */
const MAX_CLAIMED_POINTS = 1024
/** What the oid sets give a condition whose claims answered it. */
const NO_SET: { set?: ReadonlySet<string>; read: number } = { read: 0 }
/** Most oids kept per condition while counting. */
const KEEP_OIDS = 100_000

/**
 * A count in progress over a condition's ranges, resumable where it stopped. On an engine that
 * iterates asynchronously the iterator stays open from round to round (opening one is a trip to the
 * engine's thread pool, and so is closing it); `close()` ends it.
 */
class Counter {
  n = 0
  done = false
  oids: string[] | undefined = []
  readonly #ranges: Range[]
  #at = 0
  #cursor: AsyncIterator<string> | undefined

  constructor(ranges: Range[]) {
    this.#ranges = ranges
  }

  /** Counts on until `cap` entries are counted or there are no more; returns the entries read. */
  async advance(engine: Engine, cap: number): Promise<number> {
    const start = this.n
    while (!this.done && this.n < cap) {
      const range = this.#ranges[this.#at]
      if (range === undefined) {
        this.done = true
        break
      }
      this.#cursor ??= engine.keys(range)[Symbol.asyncIterator]()
      const next = await this.#cursor.next()
      if (next.done === true) {
        this.#cursor = undefined
        this.#at++
      } else this.take(next.value)
    }
    return this.n - start
  }

  /** The condition's entries, read synchronously (engines with `syncRanges`). */
  *entriesSync(engine: Engine): Generator<string> {
    for (const range of this.#ranges) yield* engine.keysSync(range)
  }

  /** Ends the open iterator, if any, without waiting for it (a failure to close one loses nothing). */
  close(): void {
    const cursor = this.#cursor
    this.#cursor = undefined
    cursor?.return?.().catch(() => {})
  }

  take(entry: string): void {
    this.n++
    if (this.oids === undefined) return
    if (this.oids.length >= KEEP_OIDS) this.oids = undefined
    else this.oids.push(entry.slice(entry.lastIndexOf('\x00') + 1))
  }
}

/**
 * Counts the index entries each condition selects, without reading objects, side by side in rounds
 * of growing caps, each round going on where the last stopped: the work is about the number of
 * conditions times the entries of the most selective one, not of the largest. Stops when a
 * condition is counted to its end, or once every count passes `enough` (then a plan that reads in
 * order and stops at the limit is as good as knowing more). Conditions counted to their end in that
 * round come with their oids (up to 100,000 per condition), for the plan to use. The others are not
 * counted further: they select more entries than the smallest one, and reading those entries would
 * cost about as much as checking the smallest one's candidates on their keys records, or more.
 * The cache's counts (from earlier queries, since the last write to the collection) are not made
 * again: an exact one, or an "at least n" one larger than the smallest exact count known, which so
 * cannot drive the plan; and no condition is counted past the smallest exact count known.
 */
export async function gatherStatistics(
  engine: Engine,
  meta: ModelMeta,
  conditions: ParsedCondition[],
  enough: number,
  recordsCap: number,
  cache?: CountCache,
  sets?: OidSets,
): Promise<Statistics> {
  const at = cache?.begin(meta.collection) ?? 0
  const ranges = conditions.map((c) => entryRanges(meta, c.index!, c.test))
  const keys = conditions.map((c, i) => conditionKey(meta, c, ranges[i]))
  // Keys of a unique index: their claims give the oids with a point read per key (synchronous, so
  // not for a long list: counting its entries in rounds lets the event loop run and may stop early).
  // No oid set is looked up or started for them.
  const claims = conditions.map((c) => (c.test.kind === 'points' && c.test.points.length <= MAX_CLAIMED_POINTS ? claimedOids(engine, meta, c.index!, c.test.points) : undefined))
  const oidSets = sets === undefined ? [] : await Promise.all(keys.map((key, i) => (claims[i] !== undefined ? NO_SET : sets.get(engine, meta.collection, key, ranges[i]!))))
  const kept = keys.map((key, i): Estimate | undefined => {
    const claimed = claims[i]
    if (claimed !== undefined) return { n: claimed.length, exact: true, oids: claimed }
    const set = oidSets[i]?.set
    return set !== undefined ? { n: set.size, exact: true, oidSet: set } : cache?.get(key, at)
  })
  const smallest = Math.min(...kept.map((k) => (k?.exact === true ? k.n : Infinity)))
  const known = kept.map((k) => (k !== undefined && (k.exact || k.n > smallest) ? k : undefined))
  const all = ranges.map((r, i) => (known[i] === undefined ? new Counter(r) : undefined))
  const counters = all.filter((c): c is Counter => c !== undefined)
  enough = Math.min(enough, smallest + 1)
  let read = oidSets.reduce((sum, s) => sum + s.read, 0)
  if (engine.supports.syncRanges === true) read += countSideBySide(engine, counters, enough)
  else {
    try {
      for (let cap = FIRST_CAP; counters.length > 0; cap = Math.ceil(cap * GROWTH)) {
        for (const n of await Promise.all(counters.map((c) => c.advance(engine, cap)))) read += n
        if (counters.some((c) => c.done) || cap >= enough) break
      }
    } finally {
      for (const c of counters) c.close()
    }
  }
  all.forEach((c, i) => {
    if (c !== undefined && (c.done || c.n > (kept[i]?.n ?? 0))) cache?.set(meta.collection, keys[i]!, c.n, c.done, at)
  })
  const records: Estimate = { n: 0, exact: false }
  if (conditions.length === 0) {
    const counted = await countRecords(engine, meta.collection, recordsCap, cache)
    records.n = counted.n
    records.exact = records.n < recordsCap
    read += counted.read
  }
  return {
    conditions: all.map((c, i) => (c === undefined ? known[i]! : { n: c.n, exact: c.done, ...(c.done && c.oids !== undefined ? { oids: c.oids } : {}) })),
    records,
    read,
  }
}

/** Names a condition's entries in the count cache and the oid sets. */
export function conditionKey(meta: ModelMeta, c: ParsedCondition, ranges = entryRanges(meta, c.index!, c.test)): string {
  return `${meta.collection}\x00${c.index!.name}\x00${JSON.stringify(ranges)}`
}

/**
 * The collection's records counted up to `cap` (the count is `cap` if there are that many or more),
 * from the cache when it holds an exact count or one of at least `cap`; `read` is what was read.
 */
export async function countRecords(engine: Engine, collection: string, cap: number, cache?: CountCache): Promise<{ n: number; read: number }> {
  const key = `${collection}\x00`
  const at = cache?.begin(collection) ?? 0
  const kept = cache?.get(key, at)
  if (kept !== undefined && (kept.exact || kept.n >= cap)) return { n: Math.min(kept.n, cap), read: 0 }
  const n = await countRecordsUpTo(engine, collection, cap)
  cache?.set(collection, key, n, n < cap, at)
  return { n, read: n }
}

/**
 * In one synchronous stretch: every condition up to the first cap (as on other engines), then side
 * by side one entry at a time, so that each is read exactly as far as the smallest one, or to `enough`.
 */
function countSideBySide(engine: Engine, counters: Counter[], enough: number): number {
  const entries = counters.map((c) => c.entriesSync(engine))
  let read = 0
  const step = (i: number) => {
    const next = entries[i]!.next()
    if (next.done === true) counters[i]!.done = true
    else {
      counters[i]!.take(next.value)
      read++
    }
  }
  try {
    counters.forEach((c, i) => {
      while (!c.done && c.n < FIRST_CAP) step(i)
    })
    while (counters.length > 0 && !counters.some((c) => c.done) && read < enough * counters.length) {
      for (let i = 0; i < counters.length; i++) step(i)
    }
  } finally {
    for (const it of entries) it.return(undefined)
  }
  return read
}
