import type { Database } from '../model/database.js'
import { STATE } from '../model/object-state.js'
import { databaseFor } from '../model/registry.js'
import type { StoredObject } from '../model/stored-object.js'
import { checkLinkable, checkOwnerLive } from './link-checks.js'
import type { OneLinks } from './one-links.js'
import { claimLinks, ownerChanged } from './relation-state.js'
import { registeredTarget } from './relation-target.js'

/**
 * A to-one relation of a model instance, declared with `@Relation(() => Account) author!: One<Account>`.
 * Changes are saved with the owner. Assigning `comment.author = account` is the same as
 * `comment.author.set(account)`.
 *
 * @example
 * ```ts
 * comment.author.set(account)
 * await comment.save()
 * (await comment.author.one()) === account // true: the identity map's instance
 * comment.author.oid                       // the linked oid, without loading it
 * ```
 */
export class One<T extends StoredObject = StoredObject> {
  readonly #links: OneLinks

  /** @internal Relations are created by the model, never by the app. */
  constructor(links: OneLinks) {
    this.#links = links
  }

  /** The oid of the linked object (unsaved changes included), without loading it. */
  get oid(): string | undefined {
    return this.#links.view().ref?.[1]
  }

  /** The collection of the linked object, or undefined when nothing is linked. */
  get type(): string | undefined {
    return this.#links.view().ref?.[0]
  }

  /** Links `target` (an instance of the target model, of this database, not removed), or nothing. */
  set(target: T | undefined | null): void {
    const { owner, relation } = this.#links
    checkOwnerLive(owner, relation, 'set')
    if (target === undefined || target === null) {
      claimLinks(this.#links)
      if (this.#links.set(undefined, undefined)) ownerChanged(owner)
      return
    }
    const obj = checkLinkable(owner, relation, target, 'set')
    claimLinks(this.#links)
    if (this.#links.set([obj[STATE].meta.collection, obj.oid], obj)) ownerChanged(owner)
  }

  /** The linked object (the live instance when there is one), or undefined. */
  async one(): Promise<T | undefined> {
    const { owner, relation } = this.#links
    const ownerMeta = owner[STATE].meta
    const db = databaseFor(ownerMeta) as Database
    const target = registeredTarget(ownerMeta, relation)
    const { ref, obj } = this.#links.view()
    if (ref === undefined) return undefined
    if (obj !== undefined && !obj[STATE].removed) return obj as T
    const meta = ref[0] === target.collection ? target : db.model(ref[0])
    return meta === undefined ? undefined : ((await db.load(meta, ref[1])) as T | undefined)
  }

  /** `{ oid, type }` of the link, or undefined (so `JSON.stringify(obj)` shows links, not handles). */
  toJSON(): { oid: string; type: string } | undefined {
    const ref = this.#links.view().ref
    return ref === undefined ? undefined : { oid: ref[1], type: ref[0] }
  }
}
