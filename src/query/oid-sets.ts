import type { Engine, Range } from '../engine/engine.js'
import type { Database } from '../model/database.js'
import { keyBatches } from './scans.js'

/** Oids kept in all sets of a database at most (about 100 bytes each: 13 MB). */
const MAX_OIDS = 131_072
/** Candidates checked on a condition, since the last write to its collection, before its oids are first read. */
const FIRST_TRY = 1024
/** Conditions followed at most; past it those without a set are forgotten (a range query's bounds vary). */
const MAX_CONDITIONS = 4096

/** What is known of one condition since the last write to its collection. */
interface Kept {
  collection: string
  at: number
  /** Candidates checked on this condition one by one (keys records or instances). */
  checked: number
  /** `checked` at which its oids are read next (doubled after each try that found too many). */
  nextTry: number
  set?: ReadonlySet<string>
}

/**
 * The oids an indexed condition selects, for a condition that queries keep checking one candidate
 * at a time (e.g. `status = ?` over the candidates of a score range, query after query), kept until
 * a write changes the collection: a candidate is then checked by a set lookup, not its keys record
 * or instance. Reading a condition's oids is paid for by the checks made so far: it is tried once
 * checks since the last write reach 1,024, reading at most as many entries as checks were made,
 * and if the condition has more, again at twice the checks (so reading costs at most about twice
 * the checks it replaces). At most 131,072 oids are kept in all; once full, the sets of collections
 * written since they were read go first, and if that frees too little, no set is added.
 */
export class OidSets {
  readonly #db: Database
  readonly #kept = new Map<string, Kept>()
  #size = 0

  constructor(db: Database) {
    this.#db = db
  }

  /**
   * The condition's kept oids (`key` as the count cache names it), reading them first if the checks
   * made so far pay for it; `read` is the index entries read for it now.
   */
  async get(engine: Engine, collection: string, key: string, ranges: Range[]): Promise<{ set?: ReadonlySet<string>; read: number }> {
    const at = this.#db.lastChanged(collection)
    const kept = this.#current(collection, key, at)
    if (kept.set !== undefined || kept.checked < kept.nextTry) return { set: kept.set, read: 0 }
    if (this.#size + kept.checked > MAX_OIDS) this.#dropStale()
    const cap = Math.min(kept.checked, MAX_OIDS - this.#size)
    kept.nextTry = kept.checked * 2
    if (cap <= 0) return { read: 0 }
    const { set, read } = await readOids(engine, ranges, cap)
    // A write committed while reading (or an index rebuilt) may not show in the set: it is not kept.
    if (set === undefined || this.#db.lastChanged(collection) !== at || this.#kept.get(key) !== kept || this.#size + set.size > MAX_OIDS) return { read }
    kept.set = set
    this.#size += set.size
    return { set, read }
  }

  /** Counts candidates a query checked one by one on the condition. */
  checked(collection: string, key: string, n: number): void {
    this.#current(collection, key, this.#db.lastChanged(collection)).checked += n
  }

  #current(collection: string, key: string, at: number): Kept {
    let kept = this.#kept.get(key)
    if (kept === undefined || kept.at !== at) {
      if (kept?.set !== undefined) this.#size -= kept.set.size
      if (kept === undefined && this.#kept.size >= MAX_CONDITIONS) for (const [k, v] of this.#kept) if (v.set === undefined) this.#kept.delete(k)
      this.#kept.set(key, (kept = { collection, at, checked: 0, nextTry: FIRST_TRY }))
    }
    return kept
  }

  /** Forgets the sets of collections written since they were read (kept until asked for again otherwise). */
  #dropStale(): void {
    for (const [key, kept] of this.#kept) {
      if (kept.at === this.#db.lastChanged(kept.collection)) continue
      if (kept.set !== undefined) this.#size -= kept.set.size
      this.#kept.delete(key)
    }
  }
}

/** The oids of the entries in `ranges` (undefined if there are more than `cap` entries), and the entries read. */
async function readOids(engine: Engine, ranges: Range[], cap: number): Promise<{ set?: Set<string>; read: number }> {
  const set = new Set<string>()
  let read = 0
  for (const range of ranges) {
    for await (const batch of keyBatches(engine, Object.assign({}, range, { limit: cap - read + 1 }), 1000)) {
      read += batch.length
      if (read > cap) return { read }
      for (const entry of batch) set.add(entry.slice(entry.lastIndexOf('\x00') + 1))
    }
  }
  return { set, read }
}

const sets = new WeakMap<Database, OidSets>()

export function oidSetsOf(db: Database): OidSets {
  let s = sets.get(db)
  if (s === undefined) sets.set(db, (s = new OidSets(db)))
  return s
}
