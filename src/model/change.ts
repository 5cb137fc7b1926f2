import type { WriteOp } from '../engine/engine.js'
import type { ModelMeta } from './meta.js'
import type { ObjectRecord } from './object-state.js'
import type { StoredObject } from './stored-object.js'

/** One object saved or removed by an atomic write. */
export interface Change {
  meta: ModelMeta
  oid: string
  /** The instance; while `prepare` runs its properties and update times are the ones being written. */
  obj: StoredObject
  removed: boolean
  /** True when the object was not stored before this write. */
  created: boolean
  /** The record being written (undefined for a removal); contributors may add fields to it. */
  record?: ObjectRecord
  /** The record stored before this write, if any. */
  previous?: ObjectRecord
  /**
   * The transaction writing this change (undefined for a plain save or remove): members of the
   * instance owned by another running transaction are not this write's to store (ownership.ts).
   */
  writer?: object
  /**
   * The object as index functions must see it, when the instance does not show what this write
   * stores (its link to an object removed by the same write is dropped): made from `record`.
   */
  indexSource?: StoredObject
}

/**
 * A part of the store that adds its own engine operations to every atomic write (index entries,
 * relation links...). The database calls each contributor in turn, then writes all ops in one batch.
 */
export interface WriteContributor {
  /** Adds ops for these changes. Throwing aborts the write: nothing is written. */
  prepare(changes: Change[], ops: WriteOp[]): Promise<void>
  /** Called after the batch committed. */
  committed?(changes: Change[]): void
  /** Called when the write failed (in a contributor's `prepare` or in the batch): nothing was written. */
  aborted?(): Promise<void>
  /**
   * The write's batch failed with `err` (nothing was written): the error to throw instead, if this
   * contributor can say more (a unique key another process took: which object holds it).
   */
  explain?(changes: Change[], err: unknown): Promise<unknown>
}
