import type { WriteOp } from '../engine/engine.js'
import { maintainerOf } from '../indexes/index-maintainer.js'
import { keysRecordOf, pushIndexOps, readKeysRecord } from '../indexes/index-writes.js'
import { keysRecordKey } from '../indexes/layout.js'
import type { Database } from '../model/database.js'
import type { ModelMeta } from '../model/meta.js'
import type { ObjectRecord } from '../model/object-state.js'
import type { StoredObject } from '../model/stored-object.js'

/** An owner outside the write whose One links a removal drops. */
export interface Unlinked {
  meta: ModelMeta
  oid: string
  /** The live instance, or one made from the stored record. */
  obj: StoredObject
  /** One relations that lose their link. */
  relations: string[]
}

/**
 * Owners that lose a link because the linked object is removed are not saved by the write, so the
 * index maintainer does not see them: their index entries (an indexed One relation, or a computed
 * index reading one) are updated here, in the same batch, as if the relations were unset.
 */
export async function reindexUnlinked(db: Database, owners: Unlinked[], ops: WriteOp[]): Promise<void> {
  const work = owners.filter((o) => o.meta.indexes.size > 0 && o.relations.length > 0)
  if (work.length === 0) return
  const maintainer = maintainerOf(db)
  for (const meta of new Set(work.map((o) => o.meta))) await maintainer.ready(meta)
  const stored = await db.engine.getMany(work.map((o) => keysRecordKey(o.meta.collection, o.oid)))
  work.forEach((o, i) => {
    // The owner as it will be: its own values, the dropped relations unset.
    const after = Object.create(o.obj) as StoredObject
    for (const name of o.relations) Object.defineProperty(after, name, { value: { oid: undefined, type: undefined } })
    pushIndexOps({ meta: o.meta, oid: o.oid, old: readKeysRecord(stored[i]), next: keysRecordOf(o.meta, o.oid, after) }, ops)
  })
}

/** The instance for an owner's stored record (registered in the identity map, like any read). */
export function ownerInstance(db: Database, meta: ModelMeta, oid: string, record: ObjectRecord): StoredObject {
  return db.instantiate(meta, oid, record, false)
}
