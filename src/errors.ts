/**
 * Every error Stowage throws on purpose is a `StowageError` with a stable string `code`.
 * Messages may change between versions; codes may not. The README's Errors section lists them all.
 */
export class StowageError extends Error {
  readonly code: string
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.code = code
    this.name = new.target.name
  }
}

/** One failing property of a `ValidationError`. */
export interface PropertyError {
  property: string
  value: unknown
  reason: string
}

/** `save()` found invalid properties; nothing was written. */
export class ValidationError extends StowageError {
  readonly errors: PropertyError[]
  /** The model's class name and the object's oid. */
  readonly model: string
  readonly oid: string | undefined
  constructor(model: string, oid: string | undefined, errors: PropertyError[]) {
    const list = errors.map((e) => `${e.property}: ${e.reason}`).join('; ')
    super('VALIDATION', `Invalid ${model}${oid ? ` ${oid}` : ''}: ${list}`)
    this.errors = errors
    this.model = model
    this.oid = oid
  }
}

/** A model class is used while no open database has registered it. */
export class NotRegisteredError extends StowageError {
  constructor(message: string) {
    super('NOT_REGISTERED', message)
  }
}

/** A model class is already registered in another open database. */
export class AlreadyRegisteredError extends StowageError {
  constructor(message: string) {
    super('ALREADY_REGISTERED', message)
  }
}

/** A unique index or another constraint refused a write; nothing was written. */
export class ConstraintError extends StowageError {
  constructor(message: string) {
    super('CONSTRAINT', message)
  }
}

/** The database or engine is closed (or not open yet). */
export class ClosedError extends StowageError {
  constructor(message: string) {
    super('CLOSED', message)
  }
}

/** Stored data cannot be read back as written: a garbled or truncated file or record. */
export class CorruptionError extends StowageError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('CORRUPTION', message, options)
  }
}

/** A value the codec cannot store (a function, a symbol, a cycle, a class instance...). */
export class EncodingError extends StowageError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ENCODING', message, options)
  }
}

/** A key, collection name or object id that is empty, of the wrong type, or unsafe. */
export class InvalidKeyError extends StowageError {
  constructor(message: string) {
    super('INVALID_KEY', message)
  }
}

/** The store is held by another process (LevelDB's LOCK file). */
export class LockedError extends StowageError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('LOCKED', message, options)
  }
}

/** A path given to an engine cannot be used (e.g. a Directory root that is a file). */
export class InvalidPathError extends StowageError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('INVALID_PATH', message, options)
  }
}

/**
 * A database server cannot be reached, or went away during the call (refused connection, restart,
 * network loss). A write that fails this way was not applied, or (when the server went away while
 * committing it) was applied whole: never in part. Retry once the server is back.
 */
export class UnavailableError extends StowageError {
  readonly retryable = true
  constructor(message: string, options?: { cause?: unknown }) {
    super('UNAVAILABLE', message, options)
  }
}

/** A model class is declared or registered wrongly (reserved name, conflicting decorators...). */
export class ModelDefinitionError extends StowageError {
  constructor(message: string) {
    super('MODEL_DEFINITION', message)
  }
}

/** An index is unknown, cannot index a value, or must be rebuilt before it can be queried. */
export class IndexError extends StowageError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('INDEX', message, options)
  }
}

/** A relation was given an object it cannot link (wrong model, removed, other database). */
export class RelationError extends StowageError {
  constructor(message: string) {
    super('RELATION', message)
  }
}

/** An object, or its raw data, is not stored (e.g. reading data of a removed raw object). */
export class NotFoundError extends StowageError {
  constructor(message: string) {
    super('NOT_FOUND', message)
  }
}

/** A call's arguments are of the wrong type or shape. */
export class ArgumentError extends StowageError {
  constructor(message: string) {
    super('ARGUMENT', message)
  }
}

/**
 * A write conflicts with a concurrent one that committed first (e.g. two transactions creating an
 * object with the same chosen oid): nothing of it was written; run it again.
 */
export class ConflictError extends StowageError {
  constructor(message: string) {
    super('CONFLICT', message)
  }
}

/**
 * A `find()` query that cannot run: an unknown index or property, an operator or value that does
 * not fit the key type, conflicting conditions, bad paging, or a sort over more objects than it may
 * hold in memory. Thrown before anything is read, except the sort bound (see the README).
 */
export class QueryError extends StowageError {
  constructor(message: string) {
    super('QUERY', message)
  }
}

/**
 * A migration step failed (it threw, or returned something that is not an object or does not
 * validate for the model): names the model, the version the step produces and the object. Objects
 * migrated in earlier batches stay migrated; the next open continues from there.
 */
export class MigrationError extends StowageError {
  readonly model: string
  readonly version: number
  readonly oid: string | undefined
  constructor(model: string, version: number, oid: string | undefined, message: string, options?: { cause?: unknown }) {
    super('MIGRATION', `${model}${oid === undefined ? '' : ` ${oid}`}, migration to version ${version}: ${message}`, options)
    this.model = model
    this.version = version
    this.oid = oid
  }
}

/**
 * The store holds a model's objects written by a newer version of the model than this code knows
 * (the app was downgraded): refused at open unless the database allows read-only access.
 */
export class VersionError extends StowageError {
  constructor(message: string) {
    super('NEWER_VERSION', message)
  }
}

/** A write to a model the database opened read-only (its store is at a newer version than the code). */
export class ReadOnlyError extends StowageError {
  constructor(message: string) {
    super('READ_ONLY', message)
  }
}

/**
 * A change stream's consumer fell further behind than the events it may hold: the events in
 * between were dropped rather than kept without bound. Read the current state, then iterate again.
 */
export class OverflowError extends StowageError {
  constructor(message: string) {
    super('OVERFLOW', message)
  }
}

/**
 * An encrypted store's key problem: `WRONG_KEY` (the key does not open the store, or a store that is
 * encrypted was opened without one), `CORRUPTED_KEY` (its wrapped data key is damaged),
 * `NOT_ENCRYPTED` (a key was given for a store holding unencrypted data).
 */
export class KeyError extends StowageError {
  constructor(code: 'WRONG_KEY' | 'CORRUPTED_KEY' | 'NOT_ENCRYPTED', message: string) {
    super(code, message)
  }
}
