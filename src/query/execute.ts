import type { Engine } from '../engine/engine.js'
import { QueryError } from '../errors.js'
import { entryPrefix, keysRecordKey, keysRecordPrefix } from '../indexes/layout.js'
import type { Database } from '../model/database.js'
import { stillStored } from '../model/object-state.js'
import type { StoredObject } from '../model/stored-object.js'
import { endJob, jobIsFull } from '../model/weak-refs.js'
import { anyKeyMatches, type ParsedCondition } from './conditions.js'
import { compareKeys } from './key-order.js'
import { keysIn } from './keys-record.js'
import { instanceKeys, keysFollowValue, storedInstance } from './live-keys.js'
import { sortKeyOf, valueKeys } from './object-keys.js'
import type { ParsedQuery } from './parse-query.js'
import type { Plan } from './planner.js'
import type { QueryWork } from './query-types.js'
import { keysCacheOf } from './keys-cache.js'
import { oidSetsOf } from './oid-sets.js'
import { conditionKey } from './statistics.js'
import { entryBatches, entryRanges, keyBatches, splitEntry } from './scans.js'

/** Most objects held to sort by a property without an index. */
export const OBJECT_SORT_BOUND = 10_000

/** A candidate with every field from the start: objects of one shape keep property access fast. */
function candidate(oid: string, keys?: string): Candidate {
  return { oid, keys, stored: undefined, sortKey: undefined }
}

interface Candidate {
  oid: string
  /** The stored keys record; kept when the object stage needs it (an `or` with conditions on properties). */
  keys?: string
  /** Instead of the keys record: the instance in memory, which shows what is stored (see `storedInstance`). */
  stored?: StoredObject
  sortKey?: string
}

type Verdict = 'yes' | 'no' | 'maybe'

/** Runs a plan, counting its work. */
export class Execution {
  readonly work: QueryWork = { indexEntries: 0, keysRecords: 0, objects: 0 }
  /** Candidates checked on their instance in memory instead of their keys record. */
  instancesChecked = 0
  /** Keys records the keys cache gave (counted in `work.keysRecords` too). */
  keysRecordsKept = 0
  readonly #db: Database
  readonly #engine: Engine
  readonly #q: ParsedQuery
  readonly #plan: Plan
  readonly #objectConditions: ParsedCondition[]
  /** Whether candidates keep their keys record until their object is checked (an `or` on properties). */
  readonly #keepKeys: boolean
  /** Whether objects must be read to decide (properties without an index, `or` on them, `filter`, a property sort). */
  readonly needsObjects: boolean
  /** The index checked for a sort key per candidate, when the plan sorts in memory. */
  readonly #sortIndex: string | undefined
  /** Whether every index checked per candidate gives keys an instance in memory can stand for. */
  readonly #fromInstances: boolean
  /** Candidates checked per candidate so far, and those that passed: the match rate sizes the next checks. */
  #judged = 0
  #passed = 0
  /** The key checks' names in the oid sets, told how many candidates were checked on them. */
  readonly #checkedKeys: string[]

  constructor(db: Database, q: ParsedQuery, plan: Plan) {
    this.#db = db
    this.#engine = db.engine
    this.#q = q
    this.#plan = plan
    this.#objectConditions = q.where.filter((c) => c.index === undefined)
    const orOnObjects = q.or?.some((branch) => branch.some((c) => c.index === undefined)) ?? false
    this.needsObjects = this.#objectConditions.length > 0 || orOnObjects || q.filter !== undefined || (q.orderBy !== undefined && q.orderBy.index === undefined)
    this.#keepKeys = orOnObjects
    this.#sortIndex = !plan.inOrder && q.orderBy?.index !== undefined ? q.orderBy.index.name : undefined
    const checked = [...plan.keyChecks, ...(q.or ?? []).flat()].flatMap((c) => (c.index === undefined ? [] : [c.index]))
    if (q.orderBy?.index !== undefined && this.#sortIndex !== undefined) checked.push(q.orderBy.index)
    this.#fromInstances = checked.every(keysFollowValue)
    this.#checkedKeys = plan.keyChecks.map((c) => conditionKey(q.meta, c))
  }

  /** The oids of the results, in order, in batches; reads no object (only when `needsObjects` is false). */
  async *oids(): AsyncGenerator<string[]> {
    let skipped = 0
    let taken = 0
    const { offset, limit } = this.#q
    if (limit === 0) return
    for await (const batch of this.#ordered()) {
      const out: string[] = []
      for (const c of batch) {
        if (skipped < offset) {
          skipped++
          continue
        }
        out.push(c.oid)
        if (++taken >= limit) break
      }
      if (out.length > 0) yield out
      if (taken >= limit) return
    }
  }

  /** The results, in order. */
  async *objects(): AsyncGenerator<StoredObject> {
    const { offset, limit, orderBy } = this.#q
    if (limit === 0) return
    if (orderBy !== undefined && orderBy.index === undefined) {
      yield* (await this.#sortedByProperty()).slice(offset, offset + limit)
      return
    }
    if (!this.needsObjects) {
      for await (const oids of this.oids()) yield* this.#stillStored(await this.#load(oids))
      return
    }
    let skipped = 0
    let taken = 0
    for await (const batch of this.#ordered()) {
      const objs = await this.#load(batch.map((c) => c.oid))
      for (let i = 0; i < batch.length; i++) {
        const obj = objs[i]
        if (!stillStored(obj) || !this.#objectPasses(obj, batch[i]!)) continue
        if (skipped < offset) {
          skipped++
          continue
        }
        yield obj
        if (++taken >= limit) return
      }
    }
  }

  async #sortedByProperty(): Promise<StoredObject[]> {
    const { name, desc } = this.#q.orderBy!
    const keep = this.#q.limit === Infinity ? Infinity : this.#q.offset + this.#q.limit
    let held: { obj: StoredObject; key: string }[] = []
    const order = (a: { obj: StoredObject; key: string }, b: { obj: StoredObject; key: string }) => {
      const c = compareKeys(a.key, b.key) || compareKeys(a.obj.oid, b.obj.oid)
      return desc ? -c : c
    }
    for await (const batch of this.#ordered()) {
      const objs = await this.#load(batch.map((c) => c.oid))
      for (let i = 0; i < batch.length; i++) {
        const obj = objs[i]
        if (!stillStored(obj) || !this.#objectPasses(obj, batch[i]!)) continue
        const key = sortKeyOf(valueKeys(this.#q.meta, name, obj), desc)
        if (key === undefined) continue
        held.push({ obj, key })
        // Trim to the top `keep` now and then (every time past the bound, which keep never exceeds).
        if (held.length > keep && (held.length >= Math.max(2 * keep, 64) || held.length > OBJECT_SORT_BOUND)) held = held.sort(order).slice(0, keep)
        if (held.length > OBJECT_SORT_BOUND) {
          throw new QueryError(
            `${this.#q.meta.ctor.name}.find(): orderBy.${name} sorts in memory (${name} has no index) and more than ${OBJECT_SORT_BOUND} objects match; index ${name}, or give a limit (offset + limit at most ${OBJECT_SORT_BOUND})`,
          )
        }
      }
    }
    return held.sort(order).slice(0, keep).map((h) => h.obj)
  }

  #objectPasses(obj: StoredObject, c: Candidate): boolean {
    const q = this.#q
    for (const cond of this.#objectConditions) if (!anyKeyMatches(cond.test, valueKeys(q.meta, cond.name, obj))) return false
    if (q.or !== undefined && this.#keepKeys && !q.or.some((branch) => branch.every((cond) => this.#holds(cond, c, obj)))) return false
    return q.filter === undefined || q.filter(obj) === true
  }

  #holds(cond: ParsedCondition, c: Candidate, obj: StoredObject): boolean {
    return anyKeyMatches(cond.test, cond.index !== undefined ? this.#keysOf(c, cond.name) : valueKeys(this.#q.meta, cond.name, obj))
  }

  /** A candidate's stored keys under an index: from its instance in memory, else its keys record. */
  #keysOf(c: Candidate, name: string): string[] | undefined {
    return c.stored !== undefined ? instanceKeys(this.#q.meta, this.#q.meta.indexes.get(name)!, c.stored) : keysIn(c.keys, name)
  }

  async #load(oids: string[]): Promise<(StoredObject | undefined)[]> {
    this.work.objects += oids.length
    return this.#db.loadMany(this.#q.meta, oids)
  }

  *#stillStored(objs: (StoredObject | undefined)[]): Generator<StoredObject> {
    for (const obj of objs) if (stillStored(obj)) yield obj
  }

  /** Candidates that pass every index condition, in the query's order (sorted in memory if the plan reads out of order). */
  async *#ordered(): AsyncGenerator<Candidate[]> {
    const plan = this.#plan
    const q = this.#q
    if (plan.inOrder || (q.orderBy !== undefined && q.orderBy.index === undefined)) {
      yield* this.#checked()
      return
    }
    const all: Candidate[] = []
    for await (const batch of this.#checked()) for (const c of batch) all.push(c)
    const desc = q.orderBy?.desc === true
    if (q.orderBy === undefined) all.sort((a, b) => compareKeys(a.oid, b.oid))
    else all.sort((a, b) => (compareKeys(a.sortKey!, b.sortKey!) || compareKeys(a.oid, b.oid)) * (desc ? -1 : 1))
    yield* slices(all)
  }

  /** The scan's candidates, less those the index conditions rule out. */
  async *#checked(): AsyncGenerator<Candidate[]> {
    const plan = this.#plan
    const sets = await Promise.all(plan.intersect.map((c, i) => {
      const known = plan.intersectOids?.[i]
      return known === undefined ? this.#oidSet(c) : known instanceof Set ? known : new Set(known)
    }))
    for await (const batch of this.#scan()) {
      const candidates = sets.length === 0 ? batch : batch.filter((c) => sets.every((s) => s.has(c.oid)))
      if (!plan.readKeysRecords) {
        if (candidates.length > 0) yield candidates
        continue
      }
      for (let i = 0; i < candidates.length; ) {
        const size = this.#checkSize(candidates.length - i)
        const passed = await this.#judge(candidates.slice(i, i + size))
        i += size
        if (passed.length > 0) yield passed
      }
    }
  }

  /**
   * How many of `left` candidates to check next. A scan in the query's order that stops at the
   * limit checks about as many as the match rate so far says it needs, so that it reads few keys
   * records past the last result it gives.
   */
  #checkSize(left: number): number {
    const take = this.#q.limit === Infinity ? Infinity : this.#q.offset + this.#q.limit
    if (!this.#plan.inOrder || take === Infinity || this.#judged === 0) return left
    const need = Math.max(1, take - this.#passed)
    return Math.min(left, Math.max(16, Math.ceil((need * this.#judged) / Math.max(1, this.#passed))))
  }

  /**
   * The candidates whose index keys pass the conditions checked per candidate, with their sort keys.
   * A candidate whose instance in memory shows what is stored is checked on it; the others on their
   * keys records, kept in memory or read.
   */
  async #judge(candidates: Candidate[]): Promise<Candidate[]> {
    const { meta } = this.#q
    const unread: Candidate[] = []
    for (const c of candidates) {
      if (c.keys !== undefined) continue
      if (this.#fromInstances && (c.stored = storedInstance(this.#db, meta, c.oid)) !== undefined) continue
      unread.push(c)
    }
    if (this.#fromInstances && jobIsFull()) await endJob()
    await this.#readKeys(unread)
    const verdicts: (boolean | undefined)[] = new Array(candidates.length)
    let undecided = false
    for (let i = 0; i < candidates.length; i++) if ((verdicts[i] = this.#passes(candidates[i]!)) === undefined) undecided = true
    if (undecided) {
      await this.#readKeys(candidates.filter((_, i) => verdicts[i] === undefined))
      for (let i = 0; i < candidates.length; i++) verdicts[i] ??= this.#passes(candidates[i]!)
    }
    const out: Candidate[] = []
    for (let i = 0; i < candidates.length; i++) {
      const c = candidates[i]!
      if (c.stored !== undefined) this.instancesChecked++
      if (verdicts[i] !== true) continue
      out.push(c)
      // Assigned rather than deleted: deleting a property turns the object into a slower dictionary.
      if (!this.#keepKeys) c.keys = c.stored = undefined
    }
    this.#judged += candidates.length
    this.#passed += out.length
    for (const key of this.#checkedKeys) oidSetsOf(this.#db).checked(this.#q.meta.collection, key, candidates.length)
    return out
  }

  /** Sets the candidates' keys records: kept ones from the keys cache, the others read from the store. */
  async #readKeys(candidates: Candidate[]): Promise<void> {
    if (candidates.length === 0) return
    const { collection } = this.#q.meta
    const cache = keysCacheOf(this.#db)
    const kept = cache.current(collection)
    const missing: Candidate[] = []
    for (const c of candidates) {
      const keys = kept.records.get(c.oid)
      if (keys === undefined) missing.push(c)
      else c.keys = keys
    }
    this.work.keysRecords += candidates.length
    this.keysRecordsKept += candidates.length - missing.length
    if (missing.length === 0) return
    const engine = this.#engine
    // Synchronous reads skip a trip to the engine's thread pool per batch.
    const values = engine.supports.syncReads === true ? missing.map((c) => engine.getSync(keysRecordKey(collection, c.oid))) : await engine.getMany(missing.map((c) => keysRecordKey(collection, c.oid)))
    const read: Array<[string, string]> = missing.map((c, i) => [c.oid, (c.keys = typeof values[i] === 'string' ? (values[i] as string) : '')])
    cache.keep(collection, kept, read)
  }

  /**
   * Whether the candidate passes, setting its sort key; undefined when its instance could not give
   * its keys (an index function that throws now): it is then checked on its keys record.
   */
  #passes(c: Candidate): boolean | undefined {
    try {
      if (!this.#keysPass(c)) return false
      if (this.#sortIndex !== undefined) {
        c.sortKey = sortKeyOf(this.#keysOf(c, this.#sortIndex), this.#q.orderBy!.desc)
        if (c.sortKey === undefined) return false
      }
      return true
    } catch (err) {
      if (c.stored === undefined) throw err
      delete c.stored
      return undefined
    }
  }

  #keysPass(c: Candidate): boolean {
    for (const cond of this.#plan.keyChecks) if (!anyKeyMatches(cond.test, this.#keysOf(c, cond.name))) return false
    if (this.#q.or === undefined) return true
    let verdict: Verdict = 'no'
    for (const branch of this.#q.or) {
      let b: Verdict = 'yes'
      for (const cond of branch) {
        if (cond.index === undefined) b = 'maybe'
        else if (!anyKeyMatches(cond.test, this.#keysOf(c, cond.name))) {
          b = 'no'
          break
        }
      }
      if (b === 'yes') return true
      if (b === 'maybe') verdict = 'maybe'
    }
    return verdict === 'maybe'
  }

  async #oidSet(c: ParsedCondition): Promise<Set<string>> {
    const set = new Set<string>()
    for (const range of entryRanges(this.#q.meta, c.index!, c.test)) {
      for await (const batch of keyBatches(this.#engine, range)) {
        this.work.indexEntries += batch.length
        for (const entry of batch) set.add(entry.slice(entry.lastIndexOf('\x00') + 1))
      }
    }
    return set
  }

  /** The plan's source of candidates, in its scan order. */
  async *#scan(): AsyncGenerator<Candidate[]> {
    const plan = this.#plan
    const { meta } = this.#q
    if (plan.driver === 'keys-records') {
      const prefix = keysRecordPrefix(meta.collection)
      for await (const batch of entryBatches(this.#engine, { prefix })) {
        this.work.keysRecords += batch.length
        yield batch.map(([key, value]) => candidate(key.slice(prefix.length), typeof value === 'string' ? value : ''))
      }
      return
    }
    if (plan.driver === 'records') {
      // Small batches first: each candidate here is an object read.
      let batch: Candidate[] = []
      let size = 16
      for await (const oid of this.#engine.recordIds(meta.collection)) {
        this.work.indexEntries++
        batch.push(candidate(oid))
        if (batch.length >= size) {
          yield batch
          batch = []
          size = Math.min(size * 4, 1000)
        }
      }
      if (batch.length > 0) yield batch
      return
    }
    if (plan.union !== undefined) {
      const oids = new Set<string>()
      for (const { condition, oids: known } of plan.union) {
        if (known !== undefined) for (const oid of known) oids.add(oid)
        else for (const oid of await this.#oidSet(condition)) oids.add(oid)
      }
      for (const slice of slices([...oids].sort(compareKeys))) yield slice.map((oid) => candidate(oid))
      return
    }
    const seen = plan.distinct ? new Set<string>() : undefined
    if (plan.collected !== undefined) {
      for (const slice of slices(plan.collected)) {
        const out: Candidate[] = []
        for (const oid of slice) {
          if (seen !== undefined) {
            if (seen.has(oid)) continue
            seen.add(oid)
          }
          out.push(candidate(oid))
        }
        if (out.length > 0) yield out
      }
      return
    }
    const prefixLength = entryPrefix(meta.collection, plan.index!.name).length
    // A scan in the query's order stops at the limit: its first batch need not be much larger.
    const take = this.#q.limit === Infinity ? Infinity : this.#q.offset + this.#q.limit
    const first = plan.inOrder && take !== Infinity ? Math.min(128, Math.max(16, take * 2)) : 128
    for (const range of plan.ranges) {
      for await (const entries of keyBatches(this.#engine, range, first)) {
        this.work.indexEntries += entries.length
        const out: Candidate[] = []
        for (const entry of entries) {
          const oid = splitEntry(entry, prefixLength)[1]
          if (seen !== undefined) {
            if (seen.has(oid)) continue
            seen.add(oid)
          }
          out.push(candidate(oid))
        }
        if (out.length > 0) yield out
      }
    }
  }
}

/** An array in slices growing from 128 to 1000 items, as scans batch their reads. */
function* slices<T>(items: T[]): Generator<T[]> {
  let size = 128
  for (let i = 0; i < items.length; i += size, size = Math.min(size * 4, 1000)) yield items.slice(i, i + size)
}
