import { ClosedError, NotRegisteredError } from '../errors.js'
import type { Database } from './database.js'
import type { ModelMeta } from './meta.js'

/** Models whose last database was closed: calls on them say so instead of "not registered". */
const closedModels = new WeakSet<ModelMeta>()

/** The open database a model is bound to; throws if none. */
export function databaseFor(meta: ModelMeta): Database {
  const db = meta.db as Database | undefined
  if (db !== undefined) return db
  if (closedModels.has(meta)) {
    throw new ClosedError(`${meta.ctor.name}: the database it was registered in is closed; open one with it in models or db.use(${meta.ctor.name})`)
  }
  throw new NotRegisteredError(`${meta.ctor.name} is not registered in an open database: pass it in Database.open({ models }) or call db.use(${meta.ctor.name})`)
}

export function bind(meta: ModelMeta, db: Database): void {
  meta.db = db
  closedModels.delete(meta)
}

export function unbind(meta: ModelMeta): void {
  meta.db = undefined
  closedModels.add(meta)
}
