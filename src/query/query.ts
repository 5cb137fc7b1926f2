import { LiveQuery } from '../changes/live-query.js'
import { queryMatcher } from '../changes/matchers.js'
import { QueryError } from '../errors.js'
import { maintainerOf } from '../indexes/index-maintainer.js'
import { claimedOids } from '../indexes/unique-claims.js'
import type { Database } from '../model/database.js'
import { stillStored } from '../model/object-state.js'
import type { StoredObject } from '../model/stored-object.js'
import { Execution, OBJECT_SORT_BOUND } from './execute.js'
import type { ParsedQuery } from './parse-query.js'
import { choosePlan, type Plan } from './planner.js'
import type { QueryExplanation } from './query-types.js'
import type { Statistics } from './statistics.js'

const NOT_CLAIMED = Symbol('not claimed')

/**
 * The result of `Model.find()`: nothing is read until it is iterated or asked for. Each run plans
 * anew from the indexes' current statistics and reads committed data (see the README).
 *
 * @example
 * ```ts
 * const q = Article.find({ where: { status: 'published', tags: 'news' }, orderBy: { date: 'desc' }, limit: 20 })
 * for await (const a of q) console.log(a.title)
 * await q.count()
 * console.log((await q.explain()).plan)
 * ```
 */
export class Query<T extends StoredObject = StoredObject> implements AsyncIterable<T> {
  readonly #db: Database
  readonly #q: ParsedQuery

  constructor(db: Database, q: ParsedQuery) {
    this.#db = db
    this.#q = q
    const take = q.offset + q.limit
    if (q.orderBy !== undefined && q.orderBy.index === undefined && take !== Infinity && take > OBJECT_SORT_BOUND) {
      throw new QueryError(
        `${q.meta.ctor.name}.find(): orderBy.${q.orderBy.name} sorts in memory (${q.orderBy.name} has no index), and offset + limit (${take}) is over ${OBJECT_SORT_BOUND}; index ${q.orderBy.name}`,
      )
    }
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<T> {
    const { execution } = await this.#start()
    yield* execution.objects() as AsyncGenerator<T>
  }

  /** The first result, or undefined. */
  async first(): Promise<T | undefined> {
    const byClaim = await this.#firstClaimed()
    if (byClaim !== NOT_CLAIMED) return byClaim
    const { execution } = await this.#start(Object.assign({}, this.#q, { limit: Math.min(this.#q.limit, 1) }))
    for await (const obj of execution.objects()) return obj as T
    return undefined
  }

  /** How many results (within `offset`/`limit`); reads no object unless a condition needs it. */
  async count(): Promise<number> {
    const { execution } = await this.#start()
    let n = 0
    if (execution.needsObjects) for await (const _ of execution.objects()) n++
    else for await (const oids of execution.oids()) n += oids.length
    return n
  }

  /**
   * The results' oids, in order. Reads no object when the indexes decide the query; a condition or
   * sort on a property without an index, or a `filter`, needs the objects, and then they are read.
   */
  async oids(): Promise<string[]> {
    const { execution } = await this.#start()
    const out: string[] = []
    if (execution.needsObjects) for await (const obj of execution.objects()) out.push(obj.oid)
    else for await (const oids of execution.oids()) for (const oid of oids) out.push(oid)
    return out
  }

  /** The results now, then again after each commit that may change them (see `LiveQuery`). */
  watch(): LiveQuery<T> {
    return new LiveQuery(this.#db, this.#q.meta, queryMatcher(this.#q), async () => {
      const out: T[] = []
      for await (const obj of this) out.push(obj)
      return out
    })
  }

  /** Runs the query as iterating it does, and tells how: the plan, and the index entries, keys records and objects it estimated and read. */
  async explain(): Promise<QueryExplanation> {
    const { plan, statistics, execution } = await this.#start()
    let results = 0
    for await (const _ of execution.objects()) results++
    const actual = { ...execution.work, results, instancesChecked: execution.instancesChecked, keysRecordsKept: execution.keysRecordsKept }
    actual.indexEntries += statistics.read
    return {
      plan: plan.text,
      driver: plan.driver,
      ...(plan.index === undefined ? {} : { index: plan.index.name }),
      intersected: plan.intersect.map((c) => c.name),
      sortedInMemory: !plan.inOrder,
      estimated: { ...plan.estimated, indexEntries: plan.estimated.indexEntries + statistics.read },
      actual,
    }
  }

  /**
   * `first()` of a query by one key of a unique index, where its claim answers (see claimedOids):
   * the plan the planner would make (the claim's holders, in oid order, the first still stored),
   * without its statistics and bookkeeping, which cost a lookup several times its two reads.
   */
  async #firstClaimed(): Promise<T | undefined | typeof NOT_CLAIMED> {
    const q = this.#q
    const c = q.where[0]
    if (q.where.length !== 1 || q.or !== undefined || q.filter !== undefined || q.orderBy !== undefined || q.offset !== 0 || q.limit === 0) return NOT_CLAIMED
    if (c?.index?.unique !== true || c.test.kind !== 'points' || c.test.points.length !== 1) return NOT_CLAIMED
    await maintainerOf(this.#db).ready(q.meta)
    const oids = claimedOids(this.#db.engine, q.meta, c.index, c.test.points)
    if (oids === undefined) return NOT_CLAIMED
    return (await this.#db.loadMany(q.meta, oids)).find(stillStored) as T | undefined
  }

  async #start(q: ParsedQuery = this.#q): Promise<{ plan: Plan; statistics: Statistics; execution: Execution }> {
    await maintainerOf(this.#db).ready(q.meta)
    const { plan, statistics } = await choosePlan(this.#db, q)
    return { plan, statistics, execution: new Execution(this.#db, q, plan) }
  }
}
