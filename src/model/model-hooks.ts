import type { StoredObject } from './stored-object.js'

/**
 * Points where instances tell the database layer what happened to them, without the model classes
 * importing the database (which imports them). The database module installs the real handlers.
 */
export const modelHooks = {
  /** A `new Model(props)` finished constructing. */
  constructed(_obj: StoredObject): void {},
  /** A managed property or relation of the instance was assigned. */
  changed(_obj: StoredObject): void {},
}
