import type { RelationMeta } from '../model/meta.js'
import { modelHooks } from '../model/model-hooks.js'
import { STATE } from '../model/object-state.js'
import { claim, mayClaim } from '../model/ownership.js'
import type { StoredObject } from '../model/stored-object.js'
import { ManyLinks } from './many-links.js'
import { OneLinks } from './one-links.js'
import { resolveRelation } from './relation-target.js'

export type Links = OneLinks | ManyLinks

/** The relation states of an instance, by relation name; created on first use. */
export function linksMap(owner: StoredObject): Map<string, Links> | undefined {
  const state = owner[STATE]
  return state.hasExtra ? (state.extra.relations as Map<string, Links> | undefined) : undefined
}

export function linksOf(owner: StoredObject, relation: RelationMeta): Links {
  const state = owner[STATE]
  let map = state.extra.relations as Map<string, Links> | undefined
  if (map === undefined) state.extra.relations = map = new Map()
  let links = map.get(relation.name)
  if (links === undefined) {
    const { many } = resolveRelation(state.meta, relation)
    links = many ? new ManyLinks(owner, relation) : new OneLinks(owner, relation)
    map.set(relation.name, links)
  }
  return links
}

/** A relation of the owner is about to change: a running transaction takes it (see ownership.ts). */
export function claimLinks(links: Links): void {
  if (mayClaim(links.owner[STATE])) claim(links.owner, links.relation.name, () => links.undoPoint())
}

/** A relation of the owner changed: it is saved with the owner (and pinned, and joins a running transaction). */
export function ownerChanged(owner: StoredObject): void {
  owner[STATE].version++
  modelHooks.changed(owner)
}
