import type { Engine, Range } from '../engine/engine.js'
import type { Database } from '../model/database.js'
import type { IndexMeta } from '../model/meta.js'
import type { ParsedCondition } from './conditions.js'
import type { ParsedQuery } from './parse-query.js'
import type { QueryExplanation, QueryWork } from './query-types.js'
import { entryRanges, wholeIndex } from './scans.js'
import { countCacheOf, type CountCache } from './count-cache.js'
import { oidSetsOf } from './oid-sets.js'
import { countRecords, gatherStatistics, type Estimate, type Statistics } from './statistics.js'
import { singleKeyed } from './key-kinds.js'

/**
 * Most candidates a plan sorts in memory (their oids and sort keys, not objects). Above it the
 * planner picks a plan that reads in order instead.
 */
export const SORT_BOUND = 100_000

// Relative costs: reading an index entry in sequence, a keys record by oid, and an object.
const ENTRY = 1
const KEYS_RECORD = 5
const KEYS_RECORD_IN_SEQUENCE = 1.5
const OBJECT = 10
/** Records counted at most to estimate the collection's size. */
const RECORDS_CAP = 100_000

/** A condition's oids, when counting or the oid sets kept them: intersecting with it reads no entry. */
function keptOids(s: Estimate): readonly string[] | ReadonlySet<string> | undefined {
  return s.oidSet ?? s.oids
}

/** How a query runs. */
export interface Plan {
  driver: QueryExplanation['driver']
  /** `index`: the condition whose entries drive the scan. */
  drive?: ParsedCondition
  /** `index`, `order-index`: the index scanned, and its ranges in scan order. */
  index?: IndexMeta
  ranges: Range[]
  /** Whether an object can come several times from the scan (multi-key index, several ranges). */
  distinct: boolean
  /** `union`: per `or` alternative, the condition whose entries give its candidates, and their oids if counting kept them. */
  union?: { condition: ParsedCondition; oids?: string[] }[]
  /** `index`: the driver's entries' oids in scan order, when counting them kept them. */
  collected?: string[]
  /** Conditions decided by an oid set read from their index. */
  intersect: ParsedCondition[]
  /** Per intersected condition, its oids if counting or the oid sets kept them (else they are read). */
  intersectOids?: (readonly string[] | ReadonlySet<string> | undefined)[]
  /** Indexed conditions of `where` decided on keys records. */
  keyChecks: ParsedCondition[]
  /** Whether candidates' keys records must be read (key checks, `or`, or a sort key). */
  readKeysRecords: boolean
  /** Whether the scan gives candidates in the query's order; else they are sorted in memory. */
  inOrder: boolean
  estimated: QueryWork
  text: string
}

interface Option {
  plan: Plan
  cost: number
}

export async function choosePlan(db: Database, q: ParsedQuery): Promise<{ plan: Plan; statistics: Statistics }> {
  const { engine } = db
  const indexed = q.where.filter((c) => c.index !== undefined)
  const everyBranchIndexed = q.or !== undefined && q.or.every((branch) => branch.some((c) => c.index !== undefined))
  const take = q.limit === Infinity ? Infinity : q.offset + q.limit
  const orIndexed = q.or !== undefined && q.or.some((branch) => branch.some((c) => c.index !== undefined))
  const orderIndex = q.orderBy?.index
  const objectSort = q.orderBy !== undefined && orderIndex === undefined
  // A plan that reads in order and stops at the limit makes exact counts of large conditions moot.
  const streams = take !== Infinity && !objectSort
  const enough = streams ? take * 4 : Infinity
  const countCache = countCacheOf(db)
  const statistics = await gatherStatistics(
    engine,
    q.meta,
    indexed,
    enough,
    everyBranchIndexed ? 0 : streams ? Math.max(64, take * 16) : RECORDS_CAP,
    countCache,
    oidSetsOf(db),
  )
  const unionStats = indexed.length === 0 && everyBranchIndexed ? await unionStatistics(engine, q, statistics, countCache) : undefined
  // The collection's size, as far as the counts tell (records are counted only without an indexed condition).
  let N = Math.max(1, statistics.records.n, ...statistics.conditions.map((c) => c.n))
  const options: Option[] = []

  // Drive by the most selective indexed condition.
  let best = -1
  statistics.conditions.forEach((c, i) => {
    if (best === -1 || c.n < statistics.conditions[best]!.n) best = i
  })
  if (best >= 0) {
    const drive = indexed[best]!
    const nd = statistics.conditions[best]!.n
    const others = indexed.filter((_, i) => i !== best)
    // Conditions counted to their end with their oids kept are paid for; others are read again only if cheaper than keys records.
    const intersect = others.filter((c) => {
      const s = statistics.conditions[indexed.indexOf(c)]!
      return s.exact && (keptOids(s) !== undefined || s.n * ENTRY <= nd * KEYS_RECORD)
    })
    const keyChecks = others.filter((c) => !intersect.includes(c))
    const single = drive.test.kind === 'points' && drive.test.points.length === 1
    // On a multi-key index the scan gives an object at its first key within the condition, not at its first key.
    const inOrder = q.orderBy === undefined ? single : orderIndex !== undefined && orderIndex === drive.index && singleKeyed(q.meta, orderIndex)
    const readKeysRecords = keyChecks.length > 0 || orIndexed || (orderIndex !== undefined && !inOrder)
    const matches = estimateMatches(nd, others.map((c) => statistics.conditions[indexed.indexOf(c)]!.n), N)
    const frac = inOrder && take !== Infinity ? Math.min(1, take / Math.max(1, matches)) : 1
    const collected = statistics.conditions[best]!.oids
    const entries = intersect.reduce((sum, c) => sum + (keptOids(statistics.conditions[indexed.indexOf(c)]!) === undefined ? statistics.conditions[indexed.indexOf(c)]!.n : 0), 0) + (collected === undefined ? Math.ceil(frac * nd) : 0)
    const keysRecords = readKeysRecords ? Math.ceil(frac * nd) : 0
    const objects = objectSort ? matches : Math.min(matches, take)
    if (inOrder || objectSort || (statistics.conditions[best]!.exact && nd <= SORT_BOUND)) {
      const ranges = entryRanges(q.meta, drive.index!, drive.test)
      if (q.orderBy?.desc === true && inOrder) ranges.reverse().forEach((r) => (r.reverse = true))
      options.push({
        cost: entries * ENTRY + keysRecords * KEYS_RECORD + objects * OBJECT,
        plan: {
          driver: 'index',
          drive,
          collected: collected === undefined || !(inOrder && q.orderBy?.desc === true) ? collected : [...collected].reverse(),
          intersectOids: intersect.map((c) => keptOids(statistics.conditions[indexed.indexOf(c)]!)),
          index: drive.index,
          ranges,
          distinct: !single && !singleKeyed(q.meta, drive.index!),
          intersect,
          keyChecks,
          readKeysRecords,
          inOrder: inOrder && !objectSort,
          estimated: { indexEntries: entries, keysRecords, objects },
          text:
            `read the index entries of ${drive.text} (${nd}${statistics.conditions[best]!.exact ? '' : '+'})` +
            (intersect.length > 0 ? `, intersect with the oids of ${intersect.map((c) => c.text).join(', ')}` : '') +
            (keyChecks.length > 0 ? `, check ${keyChecks.map((c) => c.text).join(', ')} on keys records` : ''),
        },
      })
    }
  }

  // Reading the sort index in order pays when matches are dense in it: that takes the collection's
  // size, counted as far as it could make that plan the cheaper one.
  if (orderIndex !== undefined && !objectSort && take !== Infinity && take > 0 && options.length > 0 && indexed.length > 0) {
    const matches = estimateMatches(statistics.conditions[best]!.n, statistics.conditions.filter((_, i) => i !== best).map((c) => c.n), N)
    const cap = Math.min(RECORDS_CAP, Math.ceil((options[0]!.cost * matches) / (take * (ENTRY + KEYS_RECORD))) + 1)
    const { n, read } = await countRecords(engine, q.meta.collection, cap, countCache)
    statistics.read += read
    statistics.records = { n, exact: n < cap }
    N = Math.max(N, n)
  }
  const matchesAll = estimateMatches(
    best >= 0 ? statistics.conditions[best]!.n : N,
    statistics.conditions.filter((_, i) => i !== best).map((c) => c.n),
    N,
  )
  // Scan the index the results are ordered by, checking every condition on keys records.
  if (orderIndex !== undefined && !objectSort) {
    const frac = take !== Infinity ? Math.min(1, take / Math.max(1, matchesAll)) : 1
    const entries = Math.ceil(frac * N)
    const readKeysRecords = indexed.length > 0 || orIndexed
    const range = Object.assign(wholeIndex(q.meta, orderIndex), { reverse: q.orderBy!.desc })
    options.push({
      cost: entries * ENTRY + (readKeysRecords ? entries * KEYS_RECORD : 0) + Math.min(matchesAll, take) * OBJECT,
      plan: {
        driver: 'order-index',
        index: orderIndex,
        ranges: [range],
        distinct: !singleKeyed(q.meta, orderIndex),
        intersect: [],
        keyChecks: indexed,
        readKeysRecords,
        inOrder: true,
        estimated: { indexEntries: entries, keysRecords: readKeysRecords ? entries : 0, objects: Math.min(matchesAll, take) },
        text: `read the ${orderIndex.name} index in ${q.orderBy!.desc ? 'descending' : 'ascending'} order` + (indexed.length > 0 ? `, check ${indexed.map((c) => c.text).join(', ')} on keys records` : ''),
      },
    })
  }

  // Without an indexed condition in where, but one in every `or` alternative: the union of each
  // alternative's most selective condition, in oid order.
  if (unionStats !== undefined) {
    const { union, counts, entries } = unionStats
    if (entries <= SORT_BOUND) {
      const exact = q.or!.every((branch) => branch.length === 1)
      const readKeysRecords = !exact || (orderIndex !== undefined && !objectSort)
      const inOrder = q.orderBy === undefined
      const objects = Math.min(entries, take)
      options.push({
        cost: entries * ENTRY + (readKeysRecords ? entries * KEYS_RECORD : 0) + objects * OBJECT,
        plan: {
          driver: 'union',
          union,
          ranges: [],
          distinct: true,
          intersect: [],
          keyChecks: [],
          readKeysRecords,
          inOrder,
          estimated: { indexEntries: union.reduce((sum, u, i) => sum + (u.oids === undefined ? counts[i]! : 0), 0), keysRecords: readKeysRecords ? entries : 0, objects },
          text: `read the oids of ${union.map((u) => u.condition.text).join(' | ')}, in oid order` + (readKeysRecords ? ', check the alternatives on keys records' : ''),
        },
      })
    }
  }

  // Every keys record in oid order: for queries whose every match has index keys.
  const everyMatchIndexed = indexed.length > 0 || everyBranchIndexed
  const driverExact = best >= 0 && statistics.conditions[best]!.exact
  const driverSorts = best >= 0 && statistics.conditions[best]!.n > SORT_BOUND
  if (everyMatchIndexed && (orderIndex === undefined || objectSort) && (indexed.length === 0 || !driverExact || driverSorts)) {
    const inOrder = q.orderBy === undefined
    const frac = inOrder && take !== Infinity ? Math.min(1, take / Math.max(1, matchesAll)) : 1
    const records = Math.ceil(frac * N)
    options.push({
      cost: records * KEYS_RECORD_IN_SEQUENCE + Math.min(matchesAll, take) * OBJECT,
      plan: {
        driver: 'keys-records',
        ranges: [],
        distinct: false,
        intersect: [],
        keyChecks: indexed,
        readKeysRecords: true,
        inOrder,
        estimated: { indexEntries: 0, keysRecords: records, objects: Math.min(matchesAll, take) },
        text: `read every keys record in oid order, check ${[...indexed.map((c) => c.text), ...(orIndexed ? ['or'] : [])].join(', ')} on them`,
      },
    })
  }

  if (options.length === 0) {
    const inOrder = q.orderBy === undefined
    options.push({
      cost: N * OBJECT,
      plan: {
        driver: 'records',
        ranges: [],
        distinct: false,
        intersect: [],
        keyChecks: indexed,
        readKeysRecords: orIndexed || indexed.length > 0,
        inOrder,
        estimated: { indexEntries: N, keysRecords: orIndexed ? N : 0, objects: N },
        text: 'read every object in oid order',
      },
    })
  }
  options.sort((a, b) => a.cost - b.cost)
  const plan = options[0]!.plan
  if (!plan.inOrder) plan.text += q.orderBy === undefined ? ', sort by oid in memory' : `, sort by ${q.orderBy.name} in memory`
  return { plan, statistics }
}

/** Matches of the driver's `nd` candidates, taking the other conditions as independent. */
function estimateMatches(nd: number, others: number[], N: number): number {
  let m = nd
  for (const n of others) m *= Math.min(1, n / N)
  return Math.max(nd === 0 ? 0 : 1, Math.round(m))
}

/**
 * For a query whose only indexed conditions are in its `or` alternatives: each alternative's most
 * selective indexed condition, and the records counted as far as it takes to tell whether reading
 * every keys record would be cheaper than their union.
 */
async function unionStatistics(engine: Engine, q: ParsedQuery, statistics: Statistics, countCache: CountCache) {
  const union: NonNullable<Plan['union']> = []
  const counts: number[] = []
  let entries = 0
  for (const branch of q.or!) {
    const conditions = branch.filter((c) => c.index !== undefined)
    const s = await gatherStatistics(engine, q.meta, conditions, Infinity, 0, countCache)
    statistics.read += s.read
    let i = 0
    s.conditions.forEach((c, j) => {
      if (c.n < s.conditions[i]!.n) i = j
    })
    union.push({ condition: conditions[i]!, ...(s.conditions[i]!.oids === undefined ? {} : { oids: s.conditions[i]!.oids }) })
    counts.push(s.conditions[i]!.n)
    entries += s.conditions[i]!.n
  }
  const cap = Math.min(RECORDS_CAP, Math.ceil((entries * (ENTRY + KEYS_RECORD)) / KEYS_RECORD_IN_SEQUENCE) + 1)
  const { n, read } = await countRecords(engine, q.meta.collection, cap, countCache)
  statistics.read += read
  statistics.records = { n, exact: n < cap }
  return { union, counts, entries }
}
