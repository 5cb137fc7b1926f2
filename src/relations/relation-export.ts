import { checkName, describeValue } from '../engine/engine.js'
import { RelationError } from '../errors.js'
import type { Database } from '../model/database.js'
import { exportExtensions, type Exported } from '../model/export-import.js'
import type { ModelMeta, RelationMeta } from '../model/meta.js'
import { STATE } from '../model/object-state.js'
import type { StoredObject } from '../model/stored-object.js'
import { visibleOids } from './many.js'
import { claimLinks, linksOf, ownerChanged } from './relation-state.js'
import { registeredTarget, relationLabel } from './relation-target.js'
import { INLINE_MAX, type Ref } from './stored-links.js'

/**
 * Relations in `export({ depth })`: at depth 1 a One is `{ oid, type }` (undefined when unset) and
 * a Many an array of them, in link order. At depth 2 and more, each related object that is in
 * memory (a live instance) is expanded as its export at depth - 1; one that is not stays
 * `{ oid, type }` (export is synchronous and never reads the store). `import` restores the links.
 */
exportExtensions.push({
  export(db, obj, depth, out) {
    const meta = obj[STATE].meta
    for (const [name, relation] of meta.relations) {
      const links = linksOf(obj, relation)
      if (links.kind === 'one') {
        const { ref, obj: linked } = links.view()
        out[name] = ref === undefined ? undefined : exportRef(db as Database, ref, linked, depth)
        continue
      }
      const oids = visibleOids(links)
      if (oids === undefined) {
        throw new RelationError(
          `${relationLabel(meta, relation)}: ${meta.ctor.name} ${obj.oid} has ${links.size()} links, more than the ${INLINE_MAX} kept with the object; call \`await obj.${name}.load()\` before export()`,
        )
      }
      const collection = registeredTarget(meta, relation).collection
      out[name] = oids.map(([oid, linked]) => exportRef(db as Database, [collection, oid], linked, depth))
    }
  },

  import(obj, exported, newer) {
    const meta = obj[STATE].meta
    const db = meta.db as Database | undefined
    for (const [name, relation] of meta.relations) {
      if (!Object.hasOwn(exported, name) || !newer(name)) continue
      const time = updateTime(exported, name)
      const value = exported[name]
      const links = linksOf(obj, relation)
      claimLinks(links)
      if (links.kind === 'one') {
        const ref = value === undefined || value === null ? undefined : refOf(meta, relation, value)
        if (links.set(ref, ref && db?.identity.get(ref[0], ref[1]), time)) ownerChanged(obj)
        continue
      }
      if (value === undefined || value === null) {
        links.replaceAll([], time)
      } else {
        if (!Array.isArray(value)) throw new RelationError(`${relationLabel(meta, relation)}: import expects an array of { oid, type }, got ${describeValue(value)}`)
        const seen = new Map<string, StoredObject | undefined>()
        for (const item of value) {
          const ref = refOf(meta, relation, item)
          seen.set(ref[1], db?.identity.get(ref[0], ref[1]))
        }
        links.replaceAll([...seen], time)
      }
      ownerChanged(obj)
    }
  },
})

function exportRef(db: Database, ref: Ref, linked: StoredObject | undefined, depth: number): Exported {
  if (depth >= 2) {
    const live = linked !== undefined && !linked[STATE].removed ? linked : db.identity.get(ref[0], ref[1])
    if (live !== undefined) return db.exportObject(live, { depth: depth - 1 })
  }
  return { oid: ref[1], type: ref[0] }
}

/** The link an imported `{ oid, type }` (or an expanded export) stands for. */
function refOf(meta: ModelMeta, relation: RelationMeta, value: unknown): Ref {
  const target = registeredTarget(meta, relation)
  const label = relationLabel(meta, relation)
  if (value === null || typeof value !== 'object' || typeof (value as Exported).oid !== 'string') {
    throw new RelationError(`${label}: import expects { oid, type } for a link, got ${describeValue(value)}`)
  }
  const { oid, type } = value as Exported
  if (type !== undefined && type !== target.collection) {
    throw new RelationError(`${label}: links ${target.ctor.name} (collection ${JSON.stringify(target.collection)}), but the export links type ${JSON.stringify(type)}`)
  }
  checkName('id', oid)
  return [target.collection, oid]
}

function updateTime(exported: Exported, name: string): number | undefined {
  const updates = exported.updates
  if (updates === null || typeof updates !== 'object' || !Object.hasOwn(updates, name)) return undefined
  const t = updates[name]
  return typeof t === 'number' && Number.isFinite(t) ? t : undefined
}
