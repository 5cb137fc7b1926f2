import { describeValue } from '../engine/engine.js'
import { ArgumentError, RelationError } from '../errors.js'
import type { Database } from '../model/database.js'
import { STATE } from '../model/object-state.js'
import { databaseFor } from '../model/registry.js'
import type { StoredObject } from '../model/stored-object.js'
import { checkLinkable, checkOwnerLive } from './link-checks.js'
import type { ManyLinks } from './many-links.js'
import { readStoredOids, resolveLinks, visibleLinks, type VisibleLink } from './many-reader.js'
import { claimLinks, ownerChanged } from './relation-state.js'
import { registeredTarget, relationLabel } from './relation-target.js'
import { INLINE_MAX } from './stored-links.js'
import { reverseKey } from './layout.js'

export interface ManyPageOptions {
  /** Position of the first link (default 0). */
  start?: number
  /** How many objects at most (default all remaining). */
  limit?: number
}

const ITERATION_PAGE = 100

/**
 * A to-many relation of a model instance, declared with `@Relation(() => [Comment]) replies!: Many<Comment>`:
 * an ordered list of distinct objects. Changes are saved with the owner; `size` and `has()` include
 * unsaved changes. Links are read page by page: no call loads every linked object.
 *
 * @example
 * ```ts
 * comment.replies.add(reply)
 * await comment.save()
 * comment.replies.has(reply)                       // true
 * await comment.replies.get({ start: 0, limit: 20 }) // the first 20 replies
 * for await (const r of comment.replies) console.log(r.oid)
 * ```
 */
export class Many<T extends StoredObject = StoredObject> implements AsyncIterable<T> {
  readonly #links: ManyLinks

  /** @internal Relations are created by the model, never by the app. */
  constructor(links: ManyLinks) {
    this.#links = links
  }

  /** Appends each target not linked yet (in order). Every target is checked before anything changes. */
  add(...targets: T[]): this {
    const { owner, relation } = this.#links
    checkOwnerLive(owner, relation, 'add')
    const objs = targets.map((t) => checkLinkable(owner, relation, t, 'add'))
    claimLinks(this.#links)
    let changed = false
    for (const obj of objs) changed = this.#links.add(obj.oid, obj) || changed
    if (changed) ownerChanged(owner)
    return this
  }

  /** The same as `add()`. */
  append(...targets: T[]): this {
    return this.add(...targets)
  }

  /** Removes the links to these objects (or oids); targets not linked are ignored. */
  remove(...targets: Array<T | string>): this {
    const { owner, relation } = this.#links
    checkOwnerLive(owner, relation, 'remove')
    const oids = targets.map((t) => this.#oidOf(t, 'remove'))
    claimLinks(this.#links)
    let changed = false
    for (const oid of oids) changed = this.#links.remove(oid) || changed
    if (changed) ownerChanged(owner)
    return this
  }

  /**
   * Replaces every link with these targets, in order (what assigning `obj.replies = [a, b]` does).
   * Every target is checked before anything changes.
   */
  replace(targets: Iterable<T>): this {
    const { owner, relation } = this.#links
    checkOwnerLive(owner, relation, 'replace')
    const objs = [...targets].map((t) => checkLinkable(owner, relation, t, 'replace'))
    const current = visibleOids(this.#links)
    if (current !== undefined && current.length === objs.length && current.every(([oid], i) => oid === objs[i]!.oid)) return this
    claimLinks(this.#links)
    let changed = this.#links.clear()
    for (const obj of objs) changed = this.#links.add(obj.oid, obj) || changed
    if (changed) ownerChanged(owner)
    return this
  }

  /** Removes every link. */
  clear(): this {
    const { owner, relation } = this.#links
    checkOwnerLive(owner, relation, 'clear')
    claimLinks(this.#links)
    if (this.#links.clear()) ownerChanged(owner)
    return this
  }

  /**
   * Whether the object (or oid) is linked, unsaved changes included. Synchronous: relations of up to
   * 1000 links keep their oids in the owner's record; for a larger one, `await load()` it once first.
   */
  has(target: T | string): boolean {
    const oid = this.#oidOf(target, 'has')
    const answer = this.#links.has(oid)
    if (answer === undefined) {
      const { owner, relation } = this.#links
      const meta = owner[STATE].meta
      throw new RelationError(
        `${relationLabel(meta, relation)}.has(): ${meta.ctor.name} ${owner.oid} has ${this.#links.info().n} links, more than the ${INLINE_MAX} whose oids are kept with the object; call \`await obj.${relation.name}.load()\` once before has(), or use \`await obj.${relation.name}.includes(x)\``,
      )
    }
    return answer
  }

  /**
   * Whether the object (or oid) is linked, unsaved changes included, for a relation of any size:
   * what `has()` cannot tell without `load()` costs one read of the link's entry.
   */
  async includes(target: T | string): Promise<boolean> {
    const oid = this.#oidOf(target, 'includes')
    const known = this.#links.has(oid)
    if (known !== undefined) return known
    const { db, target: model } = this.#context()
    const { owner, relation } = this.#links
    return (await db.engine.get(reverseKey(model.collection, oid, owner[STATE].meta.collection, owner.oid, relation.name))) !== undefined
  }

  /** The number of links, unsaved changes included. */
  get size(): number {
    return this.#links.size()
  }

  /** A page of linked objects, in link order (the live instances where there are). */
  async get(options: ManyPageOptions = {}): Promise<T[]> {
    if (options === null || typeof options !== 'object') throw new ArgumentError('get() takes { start?, limit? }')
    const start = options.start ?? 0
    const limit = options.limit ?? Infinity
    if (!Number.isInteger(start) || start < 0) throw new ArgumentError(`get(): start must be a non-negative integer, got ${describeValue(start)}`)
    if (limit !== Infinity && (!Number.isInteger(limit) || limit < 0)) throw new ArgumentError(`get(): limit must be a non-negative integer, got ${describeValue(limit)}`)
    const { db, target } = this.#context()
    if (limit === 0) return []
    const items: VisibleLink[] = []
    for await (const item of visibleLinks(db, this.#links, target, start)) {
      items.push(item)
      if (items.length >= limit) break
    }
    return (await resolveLinks(db, target, items)) as T[]
  }

  /** The object at that position, or undefined. */
  async one(index = 0): Promise<T | undefined> {
    if (!Number.isInteger(index) || index < 0) throw new ArgumentError(`one(): the position must be a non-negative integer, got ${describeValue(index)}`)
    return (await this.get({ start: index, limit: 1 }))[0]
  }

  /** Reads the oids of a large relation's links (not the objects), so `has()` answers synchronously. */
  async load(): Promise<this> {
    const { db } = this.#context()
    if (this.#links.members() !== undefined) return this
    const info = this.#links.info()
    this.#links.setMembers(info, await readStoredOids(db, this.#links))
    return this
  }

  /** Every linked object in order, read a page at a time. */
  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    const { db, target } = this.#context()
    let page: VisibleLink[] = []
    for await (const item of visibleLinks(db, this.#links, target, 0)) {
      page.push(item)
      if (page.length < ITERATION_PAGE) continue
      yield* (await resolveLinks(db, target, page)) as T[]
      page = []
    }
    if (page.length > 0) yield* (await resolveLinks(db, target, page)) as T[]
  }

  /** `{ oid, type }` of each link when they are known without reading; else `{ size }`. */
  toJSON(): Array<{ oid: string; type: string }> | { size: number } {
    const oids = visibleOids(this.#links)
    return oids === undefined ? { size: this.size } : oids.map(([oid]) => ({ oid, type: registeredTargetCollection(this.#links) }))
  }

  #context(): { db: Database; target: ReturnType<typeof registeredTarget> } {
    const { owner, relation } = this.#links
    const meta = owner[STATE].meta
    const db = databaseFor(meta)
    return { db, target: registeredTarget(meta, relation) }
  }

  #oidOf(target: T | string, call: string): string {
    if (typeof target === 'string' && target !== '') return target
    const state = target !== null && typeof target === 'object' ? (target as Partial<StoredObject>)[STATE] : undefined
    if (state === undefined) {
      const { owner, relation } = this.#links
      throw new RelationError(`${relationLabel(owner[STATE].meta, relation)}.${call}(): expected an object or an oid, got ${describeValue(target)}`)
    }
    return state.oid
  }
}

function registeredTargetCollection(links: ManyLinks): string {
  return registeredTarget(links.owner[STATE].meta, links.relation).collection
}

/**
 * The links as the app sees them, in order, when known without reading entries (small relations,
 * or loaded ones); undefined otherwise.
 */
export function visibleOids(links: ManyLinks): Array<[string, StoredObject | undefined]> | undefined {
  const layers = links.layers()
  const out = new Map<string, StoredObject | undefined>()
  if (!layers.some((l) => l.cleared)) {
    const members = links.members()
    if (members === undefined) return undefined
    for (const oid of members) out.set(oid, undefined)
  }
  for (const layer of layers) {
    if (layer.cleared) out.clear()
    for (const oid of layer.removes) out.delete(oid)
    for (const [oid, obj] of layer.adds) out.set(oid, obj)
  }
  return [...out]
}
