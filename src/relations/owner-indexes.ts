import type { WriteOp } from '../engine/engine.js'
import { maintainerOf } from '../indexes/index-maintainer.js'
import { keysRecordOf, readKeysRecord } from '../indexes/index-writes.js'
import { keysRecordKey } from '../indexes/layout.js'
import { pushIndexWrites } from '../indexes/unique-claims.js'
import type { Database } from '../model/database.js'
import { recordInstance } from '../model/records.js'
import type { ModelMeta } from '../model/meta.js'
import type { ObjectRecord } from '../model/object-state.js'
import type { StoredObject } from '../model/stored-object.js'

/** An owner outside the write whose links a removal drops. */
export interface Unlinked {
  meta: ModelMeta
  oid: string
  /** The owner's record as this write stores it. */
  record: ObjectRecord
  /** The live instance, if any. */
  live?: StoredObject
}

/**
 * Owners that lose a link because the linked object is removed are not saved by the write, so the
 * index maintainer does not see them: their index entries (an indexed One relation, or a computed
 * index reading a relation) are updated here, in the same batch. The keys come from the record the
 * write stores, not from a live instance, whose unsaved edits are not stored.
 */
export async function reindexUnlinked(db: Database, owners: Unlinked[], ops: WriteOp[]): Promise<void> {
  const work = owners.filter((o) => o.meta.indexes.size > 0)
  if (work.length === 0) return
  const maintainer = maintainerOf(db)
  for (const meta of new Set(work.map((o) => o.meta))) await maintainer.indexesReady(meta)
  const stored = await db.engine.getMany(work.map((o) => keysRecordKey(o.meta.collection, o.oid)))
  const updates = work.map((o, i) => ({ meta: o.meta, oid: o.oid, old: readKeysRecord(stored[i]), next: keysRecordOf(o.meta, o.oid, recordInstance(o.meta, o.oid, o.record)) }))
  await pushIndexWrites(db.engine, updates, ops)
  for (const o of work) if (o.live !== undefined) maintainer.forget(o.live)
}
