import type { Engine, Range } from '../engine/engine.js'
import type { ModelMeta } from '../model/meta.js'
import type { ParsedCondition } from './conditions.js'
import { countRecordsUpTo, entryRanges } from './scans.js'

/** A count that may have stopped early: `exact` false means "at least n". */
export interface Estimate {
  n: number
  exact: boolean
  /**
   * The oids of the entries counted, in scan order (repeats kept), when the count is exact and
   * small enough to keep: the plan then uses them instead of reading the entries again.
   */
  oids?: string[]
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
/** Small steps: a count past the smallest condition's end is wasted (iterators stay open, so a round costs no trip). */
const GROWTH = 1.25
/** Most oids kept per condition while counting. */
const KEEP_OIDS = 100_000

/**
 * A count in progress over a condition's ranges, resumable where it stopped. On an engine that
 * iterates asynchronously the iterator stays open from round to round (opening one is a trip to the
 * engine's thread pool, and so is closing it); `close()` ends it. A synchronous one is read anew
 * from where the last round stopped.
 */
class Counter {
  n = 0
  done = false
  oids: string[] | undefined = []
  readonly #ranges: Range[]
  #at = 0
  #cursor: AsyncIterator<string> | undefined
  /** Synchronous engines: the last entry read in the current range. */
  #after: string | undefined

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
      const more = engine.supports.syncRanges === true ? this.#readSync(engine, range, cap) : await this.#read(engine, range, cap)
      if (!more) this.#at++
    }
    if (this.oids !== undefined && this.oids.length > KEEP_OIDS) this.oids = undefined
    return this.n - start
  }

  /** Ends the open iterator, if any, without waiting for it (a failure to close one loses nothing). */
  close(): void {
    const cursor = this.#cursor
    this.#cursor = undefined
    cursor?.return?.().catch(() => {})
  }

  #take(entry: string): void {
    this.n++
    if (this.oids !== undefined) this.oids.push(entry.slice(entry.lastIndexOf('\x00') + 1))
  }

  /** Reads `range` on up to `cap`; false once it is at its end. */
  async #read(engine: Engine, range: Range, cap: number): Promise<boolean> {
    this.#cursor ??= engine.keys(range)[Symbol.asyncIterator]()
    while (this.n < cap) {
      const next = await this.#cursor.next()
      if (next.done === true) {
        this.#cursor = undefined
        return false
      }
      this.#take(next.value)
    }
    return true
  }

  #readSync(engine: Engine, range: Range, cap: number): boolean {
    const r: Range = { ...range, limit: cap - this.n }
    if (this.#after !== undefined) {
      delete r.gte
      r.gt = this.#after
    }
    let read = 0
    for (const entry of engine.keysSync(r)) {
      read++
      this.#after = entry
      this.#take(entry)
    }
    if (read < r.limit!) {
      this.#after = undefined
      return false
    }
    return true
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
 */
export async function gatherStatistics(
  engine: Engine,
  meta: ModelMeta,
  conditions: ParsedCondition[],
  enough: number,
  recordsCap: number,
): Promise<Statistics> {
  const counters = conditions.map((c) => new Counter(entryRanges(meta, c.index!, c.test)))
  let read = 0
  const advance = async (cap: number, which: Counter[]) => {
    for (const n of await Promise.all(which.map((c) => c.advance(engine, cap)))) read += n
  }
  try {
    for (let cap = FIRST_CAP; counters.length > 0; cap = Math.ceil(cap * GROWTH)) {
      await advance(cap, counters)
      if (counters.some((c) => c.done) || cap >= enough) break
    }
  } finally {
    for (const c of counters) c.close()
  }
  const records: Estimate = { n: 0, exact: false }
  if (conditions.length === 0) {
    records.n = await countRecordsUpTo(engine, meta.collection, recordsCap)
    records.exact = records.n < recordsCap
    read += records.n
  }
  return {
    conditions: counters.map((c) => ({ n: c.n, exact: c.done, ...(c.done && c.oids !== undefined ? { oids: c.oids } : {}) })),
    records,
    read,
  }
}
