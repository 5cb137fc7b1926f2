import type { WriteOp } from '../engine/engine.js'
import type { Change } from '../model/change.js'
import type { Database, Feature } from '../model/database.js'
import type { ModelMeta } from '../model/meta.js'
import { STATE, type ObjectRecord } from '../model/object-state.js'
import { isForeign } from '../model/ownership.js'
import { checkRecord } from '../model/records.js'
import type { StoredObject } from '../model/stored-object.js'
import { parseReverseKey, reversePrefix } from './layout.js'
import type { ManyDiff, OneDiff } from './link-diff.js'
import { dropOwnLinks, writeMany, writeOne, type GoneLink, type Unlinkable } from './link-writes.js'
import type { ManyResult } from './many-links.js'
import { reindexUnlinked, type Unlinked } from './owner-indexes.js'
import { recordInstance } from '../model/records.js'
import { dropPendingTargets } from './pending-registry.js'
import { linksMap, linksOf } from './relation-state.js'
import { resolveRelation } from './relation-target.js'
import { isManyInfo, isRef, linksOfRecord, manyInfo, oneRef, type LinksRecord, type ManyInfo } from './stored-links.js'

/** A relation a write changed: what the owner's relation state must learn once it committed. */
interface RelationOutcome {
  name: string
  previous?: ManyInfo
  result?: ManyResult
}

interface OwnerOutcome {
  /** The live instance, if any. */
  obj: StoredObject | undefined
  /** For owners outside the write whose record this feature rewrote. */
  record?: ObjectRecord
  relations: RelationOutcome[]
  /** Relation names whose unsaved change this write carried. */
  carried: string[]
}

/** An object outside a write whose links to objects the write removed were dropped. */
export interface UnlinkedOwner {
  meta: ModelMeta
  oid: string
  /** The relations that lost links. */
  relations: string[]
}

/** What one atomic write does to relations, from `cascade` to `committed`. */
interface WriteWork {
  seen: WeakSet<Change>
  snapshots: Map<StoredObject, Map<string, OneDiff | ManyDiff>>
  outcomes: OwnerOutcome[]
  removedTargets: Array<[string, string]>
  removedOwners: StoredObject[]
}

const key = (collection: string, oid: string): string => collection + '\x00' + oid
const RECORDS_PER_READ = 1000

/**
 * Writes relation links with their owners: the link, membership and reverse entries of each change
 * go in the owner's atomic batch, unsaved linked objects are saved in the same write, and removing
 * an object removes every link to it (found through the reverse entries, never by a scan).
 */
export class RelationFeature implements Feature {
  readonly db: Database
  readonly #work = new WeakMap<Change[], WriteWork>()
  readonly #unlinked = new WeakMap<Change[], UnlinkedOwner[]>()

  constructor(db: Database) {
    this.db = db
  }

  #workOf(changes: Change[]): WriteWork {
    let work = this.#work.get(changes)
    if (work === undefined) {
      work = { seen: new WeakSet(), snapshots: new Map(), outcomes: [], removedTargets: [], removedOwners: [] }
      this.#work.set(changes, work)
    }
    return work
  }

  /** Takes each saved owner's unsaved relation changes into the write, and returns unsaved objects they link. */
  cascade(changes: Change[]): StoredObject[] {
    if (!changes.some((c) => c.meta.relations.size > 0)) return []
    const work = this.#workOf(changes)
    const linked: StoredObject[] = []
    for (const c of changes) {
      if (work.seen.has(c)) continue
      work.seen.add(c)
      if (c.removed || work.snapshots.has(c.obj)) continue
      const map = linksMap(c.obj)
      if (map === undefined) continue
      const snapshot = new Map<string, OneDiff | ManyDiff>()
      const state = c.obj[STATE]
      for (const [name, links] of map) {
        // A relation changed inside another running transaction is that transaction's to write.
        if (isForeign(state, name, c.writer)) continue
        const diff = links.snapshot()
        if (diff === undefined) continue
        snapshot.set(name, diff)
        const objs = 'adds' in diff ? diff.adds.values() : [diff.obj]
        for (const obj of objs) if (obj !== undefined && obj[STATE].record === undefined && !obj[STATE].removed) linked.push(obj)
      }
      work.snapshots.set(c.obj, snapshot)
    }
    return linked
  }

  async prepare(changes: Change[], ops: WriteOp[]): Promise<void> {
    // Nothing to do for writes that remove nothing and touch no model with relations.
    if (!changes.some((c) => c.removed || c.meta.relations.size > 0)) return
    const work = this.#workOf(changes)
    const { engine } = this.db
    const now = Date.now()
    const removed = new Set<string>()
    const created = new Set<string>()
    for (const c of changes) {
      if (c.removed) removed.add(key(c.meta.collection, c.oid))
      else if (c.created) created.add(key(c.meta.collection, c.oid))
    }

    // Removed owners lose their own links; removed targets are looked up in the reverse entries.
    const hits = new Map<string, { collection: string; oid: string; relations: Map<string, GoneLink[]> }>()
    for (const c of changes) {
      if (!c.removed) continue
      work.removedTargets.push([c.meta.collection, c.oid])
      work.removedOwners.push(c.obj)
      const owner = { collection: c.meta.collection, oid: c.oid }
      if (c.previous !== undefined) await dropOwnLinks(engine, owner, c.previous, ops)
      const prefix = reversePrefix(c.meta.collection, c.oid)
      for await (const [entry, position] of engine.entries({ prefix })) {
        ops.push({ type: 'del', key: entry })
        const from = parseReverseKey(entry, prefix)
        if (from === undefined || removed.has(key(from.collection, from.oid))) continue
        const ownerKey = key(from.collection, from.oid)
        let hit = hits.get(ownerKey)
        if (hit === undefined) hits.set(ownerKey, (hit = { collection: from.collection, oid: from.oid, relations: new Map() }))
        let refs = hit.relations.get(from.relation)
        if (refs === undefined) hit.relations.set(from.relation, (refs = []))
        refs.push({ ref: [c.meta.collection, c.oid], position: typeof position === 'number' ? position : undefined })
      }
    }

    const unlinkable = await this.#unlinkable(work, removed, created)

    // Owners saved by this write: their changes, and the removal of targets removed with them.
    const saved = new Map<StoredObject, Change[]>()
    for (const c of changes) {
      if (c.removed || c.record === undefined) continue
      const list = saved.get(c.obj)
      if (list === undefined) saved.set(c.obj, [c])
      else list.push(c)
    }
    for (const [obj, list] of saved) {
      const meta = obj[STATE].meta
      const ownerKey = key(meta.collection, obj[STATE].oid)
      const snapshot = work.snapshots.get(obj)
      const hit = hits.get(ownerKey)
      hits.delete(ownerKey)
      if ((snapshot === undefined || snapshot.size === 0) && hit === undefined) continue
      const owner = { collection: meta.collection, oid: obj[STATE].oid }
      const before = list[0]!.previous
      const outcome: OwnerOutcome = { obj, relations: [], carried: [...(snapshot?.keys() ?? [])] }
      const names = new Set([...(snapshot?.keys() ?? []), ...(hit?.relations.keys() ?? [])])
      const update: LinksRecord = {}
      const deleted: string[] = []
      let latest: number | undefined
      for (const name of names) {
        const diff = snapshot?.get(name)
        const gone = hit?.relations.get(name) ?? []
        const relation = meta.relations.get(name)
        const stored = linksOfRecord(before)?.[name]
        const many = relation !== undefined ? resolveRelation(meta, relation).many : isManyInfo(stored)
        const time = diff?.time ?? now
        let partial = false
        if (many) {
          const target = relation !== undefined ? resolveRelation(meta, relation).target.collection : (gone[0]?.ref[0] ?? '')
          const previous = manyInfo(before, name)
          const { info, result, missing } = await writeMany(engine, owner, name, target, previous, diff as ManyDiff | undefined, gone, unlinkable, ops)
          partial = missing > 0
          if (!result.cleared && result.added.length === 0 && result.removed.length === 0 && info.o?.length === previous.o?.length) continue
          if (info.n === 0) deleted.push(name)
          else update[name] = info
          outcome.relations.push({ name, previous, result })
        } else {
          const previous = oneRef(before, name)
          const { ref: next, missing } = writeOne(owner, name, previous, diff as OneDiff | undefined, gone, unlinkable, ops)
          partial = missing
          if (next === previous) continue
          if (next === undefined) deleted.push(name)
          else update[name] = next
          outcome.relations.push({ name })
        }
        latest = Math.max(latest ?? 0, time)
        // An import whose links could not all be made keeps the relation's old time, so importing
        // again (once the targets are there) is not refused as older.
        if (!(partial && diff?.time !== undefined)) for (const c of list) c.record!.updates[name] = time
      }
      if (latest !== undefined) {
        for (const c of list) {
          const links: LinksRecord = { ...linksOfRecord(c.record), ...update }
          for (const name of deleted) delete links[name]
          c.record!.links = links
          c.record!.changed = Math.max(c.record!.changed, latest)
          // The instance still shows the links to objects this write removes: indexes read the record.
          if (hit !== undefined && meta.indexes.size > 0) c.indexSource = recordInstance(meta, c.oid, c.record)
        }
      }
      work.outcomes.push(outcome)
    }

    // Owners outside the write that linked a removed object: their records are rewritten.
    const stored = await this.#records([...hits.values()].filter((hit) => this.db.identity.get(hit.collection, hit.oid) === undefined))
    const unlinked: Unlinked[] = []
    for (const hit of hits.values()) {
      const live = this.db.identity.get(hit.collection, hit.oid)
      const record = live !== undefined ? live[STATE].record : stored.get(key(hit.collection, hit.oid))
      if (record === undefined) continue
      const links: LinksRecord = { ...linksOfRecord(record) }
      const outcome: OwnerOutcome = { obj: live, relations: [], carried: [] }
      const updates = { ...record.updates }
      for (const [name, gone] of hit.relations) {
        const stored = links[name]
        if (isRef(stored)) {
          if (!gone.some((g) => g.ref[0] === stored[0] && g.ref[1] === stored[1])) continue
          delete links[name]
          outcome.relations.push({ name })
        } else if (isManyInfo(stored)) {
          const owner = { collection: hit.collection, oid: hit.oid }
          const { info, result } = await writeMany(engine, owner, name, gone[0]!.ref[0], stored, undefined, gone, unlinkable, ops)
          if (result.removed.length === 0) continue
          if (info.n === 0) delete links[name]
          else links[name] = info
          outcome.relations.push({ name, previous: stored, result })
        } else continue
        updates[name] = now
      }
      if (outcome.relations.length === 0) continue
      outcome.record = Object.assign({}, record, { links, updates, changed: Math.max(record.changed, now) })
      ops.push({ type: 'putRecord', collection: hit.collection, id: hit.oid, value: outcome.record })
      const meta = this.db.model(hit.collection)
      if (meta !== undefined) unlinked.push({ meta, oid: hit.oid, record: outcome.record, live })
      work.outcomes.push(outcome)
    }
    await reindexUnlinked(this.db, unlinked, ops)
    if (unlinked.length > 0) this.#unlinked.set(changes, unlinked.map((u) => ({ meta: u.meta, oid: u.oid, relations: [...hits.get(key(u.meta.collection, u.oid))!.relations.keys()] })))
  }

  /** The stored records of these owners (read in bulk), by collection and oid; unreadable ones left out. */
  async #records(owners: Array<{ collection: string; oid: string }>): Promise<Map<string, ObjectRecord>> {
    const out = new Map<string, ObjectRecord>()
    const byCollection = new Map<string, string[]>()
    for (const { collection, oid } of owners) {
      const list = byCollection.get(collection)
      if (list === undefined) byCollection.set(collection, [oid])
      else list.push(oid)
    }
    for (const [collection, oids] of byCollection) {
      for (let i = 0; i < oids.length; i += RECORDS_PER_READ) {
        const chunk = oids.slice(i, i + RECORDS_PER_READ)
        const records = await this.db.engine.getRecords(collection, chunk)
        chunk.forEach((oid, n) => {
          if (records[n] === undefined) return
          try {
            out.set(key(collection, oid), checkRecord(this.db.model(collection) ?? ({ collection, ctor: { name: collection } } as never), oid, records[n]))
          } catch {
            // Not an object record: nothing links from it.
          }
        })
      }
    }
    return out
  }

  /**
   * Which linked objects cannot be linked by this write: removed by it (or before), or, for links
   * given by oid only (import), not stored. Unsaved objects are always in the write (cascade).
   */
  async #unlinkable(work: WriteWork, removed: Set<string>, created: Set<string>): Promise<Unlinkable> {
    const byCollection = new Map<string, Set<string>>()
    const need = (collection: string, oid: string): void => {
      if (created.has(key(collection, oid)) || this.db.identity.get(collection, oid) !== undefined) return
      let set = byCollection.get(collection)
      if (set === undefined) byCollection.set(collection, (set = new Set()))
      set.add(oid)
    }
    for (const [obj, snapshot] of work.snapshots) {
      const meta = obj[STATE].meta
      for (const [name, diff] of snapshot) {
        if ('adds' in diff) {
          const relation = meta.relations.get(name)
          if (relation === undefined) continue
          const target = resolveRelation(meta, relation).target.collection
          for (const [oid, linked] of diff.adds) if (linked === undefined) need(target, oid)
        } else if (diff.ref !== undefined && diff.obj === undefined) need(diff.ref[0], diff.ref[1])
      }
    }
    const missing = new Set<string>()
    for (const [collection, oids] of byCollection) {
      const list = [...oids]
      const records = await this.db.engine.getRecords(collection, list)
      list.forEach((oid, i) => records[i] === undefined && missing.add(key(collection, oid)))
    }
    return (collection, oid, obj) => {
      const k = key(collection, oid)
      if (removed.has(k)) return 'removed'
      if (obj !== undefined) {
        const state = (obj as StoredObject)[STATE]
        if (state.removed) return 'removed'
        if (state.record === undefined && !created.has(k)) return 'missing'
        return undefined
      }
      return missing.has(k) ? 'missing' : undefined
    }
  }

  reverted(obj: StoredObject, keep?: Set<string>): void {
    for (const [name, links] of linksMap(obj) ?? []) if (!keep?.has(name)) links.reset()
  }

  savepoint(obj: StoredObject, members: string[]): Array<() => void> {
    const meta = obj[STATE].meta
    const out: Array<() => void> = []
    for (const name of members) {
      const relation = meta.relations.get(name)
      if (relation !== undefined) out.push(linksOf(obj, relation).undoPoint())
    }
    return out
  }

  /** Owners outside the write whose links to objects it removed were dropped (the change feed lists them). */
  unlinkedOwners(changes: Change[]): UnlinkedOwner[] {
    return this.#unlinked.get(changes) ?? []
  }

  hasChanges(obj: StoredObject): boolean {
    for (const links of linksMap(obj)?.values() ?? []) if (links.hasChanges()) return true
    return false
  }

  committed(changes: Change[]): void {
    const work = this.#work.get(changes)
    if (work === undefined) return
    this.#work.delete(changes)
    for (const outcome of work.outcomes) {
      const obj = outcome.obj
      if (obj === undefined) continue
      const state = obj[STATE]
      if (outcome.record !== undefined) state.record = outcome.record
      if (outcome.relations.length > 0 && state.record !== undefined) {
        state.updates = Object.assign(Object.create(null), state.record.updates)
        state.changedAt = state.record.changed
      }
      const map = linksMap(obj)
      if (map === undefined) continue
      const done = new Set<string>()
      for (const r of outcome.relations) {
        const links = map.get(r.name)
        done.add(r.name)
        if (links === undefined) continue
        const carried = outcome.carried.includes(r.name)
        if (links.kind === 'many') links.committed(r.previous ?? links.info(), r.result ?? { cleared: false, added: [], removed: [] }, carried)
        else if (carried) links.committed()
      }
      for (const name of outcome.carried) {
        if (done.has(name)) continue
        const links = map.get(name)
        if (links?.kind === 'many') links.committed(links.info(), { cleared: false, added: [], removed: [] }, true)
        else links?.committed()
      }
    }
    for (const obj of work.removedOwners) for (const links of linksMap(obj)?.values() ?? []) links.reset()
    dropPendingTargets(work.removedTargets, (owner) => (owner as StoredObject)[STATE].meta.db === this.db)
  }
}
