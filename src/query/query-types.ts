import type { IndexKey } from '../model/meta.js'
import type { IndexKeyOf, IndexName } from '../model/stored-object.js'

/**
 * A condition on one index or property: a key (equality; on a multi-key index, "has this key"),
 * `{ in: keys }` (any of them), `{ all: keys }` (every one of them, for multi-key indexes), a range
 * `{ gt, gte, lt, lte }` (any mix of bounds of one kind) or `{ prefix }` (string keys starting with
 * it). Ranges are not offered on boolean keys, `prefix` only on string keys.
 */
export type Condition<K extends IndexKey = IndexKey> =
  | K
  | { in: readonly K[] }
  | { all: readonly K[] }
  | ([K] extends [boolean] ? never : RangeCondition<K>)
  | ([Extract<K, string>] extends [never] ? never : { prefix: string })

export interface RangeCondition<K extends IndexKey = IndexKey> {
  gt?: K
  gte?: K
  lt?: K
  lte?: K
}

/** Conditions by index or property name, all of which must hold. */
export type Where<C> = { [N in IndexName<C> & string]?: Condition<IndexKeyOf<C, N>> }

export type SortDirection = 'asc' | 'desc'

/** `Model.find()`'s argument; every part is optional. */
export interface FindOptions<C, T> {
  /** All of these must hold. */
  where?: Where<C>
  /** At least one of these must hold (in addition to `where`). */
  or?: readonly Where<C>[]
  /** Checked on the objects that pass the conditions. */
  filter?: (obj: T) => boolean
  /** One index or property and a direction; default: oid (creation) order. */
  orderBy?: { [N in IndexName<C> & string]?: SortDirection }
  /** Objects to skip first. */
  offset?: number
  /** Most objects to give. */
  limit?: number
}

/** Work counted by `explain()`: estimated by the planner, or done by a run. */
export interface QueryWork {
  /** Index entries read (index scans, intersections and statistics). */
  indexEntries: number
  /** Per-object keys records read to check conditions without reading objects. */
  keysRecords: number
  /** Objects read (through the identity map). */
  objects: number
}

/** What `query.explain()` reports. */
export interface QueryExplanation {
  /** The plan chosen, in words: what drives the scan, how the rest is checked, how it is sorted. */
  plan: string
  /** How the candidates are produced. */
  driver: 'index' | 'order-index' | 'union' | 'keys-records' | 'records'
  /** The index that drives the scan (`index`, `order-index`; for `union`, one per `or` alternative). */
  index?: string
  /** Conditions checked against an oid set read from their index instead of keys records. */
  intersected: string[]
  /** Whether results are sorted in memory (bounded) rather than read in order. */
  sortedInMemory: boolean
  /** The planner's estimate, from index statistics (no object read to make it). */
  estimated: QueryWork
  /**
   * What running the query did, statistics included. `instancesChecked`: candidates checked on their
   * instance in memory (unchanged since stored, so its index keys are the stored ones) instead of
   * reading their keys record. `keysRecordsKept`: of the keys records checked, those kept in memory
   * from an earlier query (no write to the collection since), not read from the store.
   */
  actual: QueryWork & { results: number; instancesChecked: number; keysRecordsKept: number }
}
