import type { Engine } from '../engine/engine.js'
import type { ModelMeta } from '../model/meta.js'
import type { ObjectRecord } from '../model/object-state.js'
import { fromStored } from '../model/records.js'
import { linkPrefix } from '../relations/layout.js'
import { resolveRelation } from '../relations/relation-target.js'
import { isManyInfo, isRef, linksOfRecord, type Ref } from '../relations/stored-links.js'

/** A link as migrations see it: `{ oid, type }`, as `export()` gives it. */
export interface LinkRef {
  oid: string
  type: string
}

/**
 * The plain properties of a stored object as a migration step receives them: properties the model
 * still declares as their values (read by the current type when it can, else as stored), others as
 * stored, and relations (declared or not) as `{ oid, type }` or arrays of them, in link order.
 */
export async function migrationInput(engine: Engine, meta: ModelMeta, oid: string, record: ObjectRecord): Promise<Record<string, unknown>> {
  const input: Record<string, unknown> = {}
  for (const [name, stored] of Object.entries(record.properties)) {
    if (name === '__proto__') continue
    const p = meta.properties.get(name)
    input[name] = p === undefined ? stored : fromStored(p.type, stored)
  }
  const links = linksOfRecord(record)
  if (links === undefined) return input
  for (const [name, value] of Object.entries(links)) {
    if (name === '__proto__') continue
    if (isRef(value)) {
      input[name] = toRef(value)
    } else if (isManyInfo(value)) {
      const relation = meta.relations.get(name)
      const collection = relation === undefined ? undefined : resolveRelation(meta, relation).target.collection
      input[name] =
        value.o !== undefined && collection !== undefined
          ? value.o.map((target) => ({ oid: target, type: collection }))
          : await storedLinks(engine, meta.collection, oid, name)
    }
  }
  return input
}

/** The links of a Many relation as stored in its entries, in link order. */
async function storedLinks(engine: Engine, collection: string, oid: string, relation: string): Promise<LinkRef[]> {
  const refs: LinkRef[] = []
  for await (const [, value] of engine.entries({ prefix: linkPrefix(collection, oid, relation) })) if (isRef(value)) refs.push(toRef(value))
  return refs
}

function toRef(ref: Ref): LinkRef {
  return { oid: ref[1], type: ref[0] }
}
