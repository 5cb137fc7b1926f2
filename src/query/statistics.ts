import type { Engine } from '../engine/engine.js'
import type { ModelMeta } from '../model/meta.js'
import type { ParsedCondition } from './conditions.js'
import { countRecordsUpTo, countUpTo, entryRanges } from './scans.js'

/** A count that may have stopped early: `exact` false means "at least n". */
export interface Estimate {
  n: number
  exact: boolean
}

export interface Statistics {
  /** Per indexed condition of `where`, in order: the index entries it selects. */
  conditions: Estimate[]
  /** The model's stored objects. */
  records: Estimate
  /** Index entries and record ids read to get these. */
  read: number
}

const FIRST_CAP = 64
const GROWTH = 8

/**
 * Counts the index entries each condition selects, without reading objects, in rounds of growing
 * caps, so the work is a few times that of the most selective condition, not of the largest. Stops
 * when a condition is counted exactly, or once every count passes `enough` (then a plan that reads
 * in order and stops at the limit is as good as knowing more). A last round counts the others up to
 * `followUp(n)` of the smallest, which tells which of them are worth intersecting, and the records
 * likewise.
 */
export async function gatherStatistics(
  engine: Engine,
  meta: ModelMeta,
  conditions: ParsedCondition[],
  enough: number,
  followUp: (smallest: number, exact: boolean) => { conditions: number; records: number },
): Promise<Statistics> {
  const ranges = conditions.map((c) => entryRanges(meta, c.index!, c.test))
  const counts: Estimate[] = conditions.map(() => ({ n: 0, exact: false }))
  const records: Estimate = { n: 0, exact: false }
  let read = 0
  const count = async (i: number, cap: number) => {
    const n = await countUpTo(engine, ranges[i]!, cap)
    read += n
    counts[i] = { n, exact: n < cap }
  }
  const countRecords = async (cap: number) => {
    const n = await countRecordsUpTo(engine, meta.collection, cap)
    read += n
    Object.assign(records, { n, exact: n < cap })
  }
  for (let cap = FIRST_CAP; ; cap *= GROWTH) {
    await Promise.all([...counts.keys()].map((i) => count(i, cap)))
    if (counts.length === 0 || counts.some((c) => c.exact) || cap >= enough) break
  }
  const exact = counts.filter((c) => c.exact)
  const smallest = Math.min(...(exact.length > 0 ? exact : counts).map((c) => c.n))
  const caps = followUp(smallest, exact.length > 0)
  await Promise.all([
    ...counts.map((c, i) => (!c.exact && c.n < caps.conditions ? count(i, caps.conditions) : undefined)),
    countRecords(caps.records),
  ])
  return { conditions: counts, records, read }
}
