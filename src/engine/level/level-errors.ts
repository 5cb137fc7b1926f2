import { ClosedError, CorruptionError, InvalidPathError, LockedError, StowageError } from '../../errors.js'

/** A level database an engine uses, as the errors translated from it name it. */
export interface LevelStore {
  /** The engine, e.g. `LevelEngine(./data)`. */
  engine: string
  /** The LevelDB directory, or the database's class name when it has none. */
  location: string
  /** The call that repairs the store (e.g. `LevelEngine.repair("./data")`), where LevelDB's repair applies. */
  repair?: string
}

/** Codes of file system errors that mean the path itself cannot hold a store. */
const PATH_CODES = new Set(['EEXIST', 'ENOTDIR', 'EACCES', 'EPERM', 'EROFS'])
const NOT_OPEN = new Set(['LEVEL_DATABASE_NOT_OPEN', 'LEVEL_ITERATOR_NOT_OPEN', 'LEVEL_BATCH_NOT_OPEN'])

/**
 * The Stowage error for an error thrown by abstract-level or LevelDB while `doing` something with
 * `store` (e.g. `reading record Account/a1`), with the original as `cause`. LevelDB's corruption
 * and I/O errors (codes LEVEL_CORRUPTION and LEVEL_IO_ERROR, or only a "Corruption: " or "IO error: "
 * message on classic-level's synchronous paths) become CorruptionError; a lock held elsewhere
 * LockedError; a path that cannot hold a store InvalidPathError; a database closed under the call
 * ClosedError. Stowage errors and anything else pass through unchanged.
 */
export function levelError(err: unknown, store: LevelStore, doing: string): unknown {
  if (err instanceof StowageError || err === null || typeof err !== 'object') return err
  // abstract-level reports a failed open as LEVEL_DATABASE_NOT_OPEN with LevelDB's error as cause.
  const reason = innermost(err)
  const code = reason.code
  const message = String(reason.message ?? '')
  if (code === 'LEVEL_LOCKED') {
    return new LockedError(
      `Cannot open the LevelDB store at ${store.location}: another process (or another engine in this process) holds it. Close it there first. (${message})`,
      { cause: err },
    )
  }
  // Only from an open (abstract-level's wrapper around it): elsewhere such a code is some other file's.
  if (code !== undefined && PATH_CODES.has(code) && reason !== err) {
    return new InvalidPathError(`Cannot use ${store.location} for a LevelDB store: ${message}`, { cause: err })
  }
  const corrupt = code === 'LEVEL_CORRUPTION' || (code === undefined && message.startsWith('Corruption:'))
  const io = code === 'LEVEL_IO_ERROR' || (code === undefined && message.startsWith('IO error:'))
  if (corrupt || io) {
    // An I/O error is also what LevelDB reports for a table file cut short, or one that is missing.
    const what = corrupt ? 'is damaged' : 'cannot be read or written (a damaged, truncated or missing file, or a file system error)'
    return new CorruptionError(`The LevelDB store at ${store.location} ${what}: ${doing} failed with "${message}".${repairHint(store)}`, { cause: err })
  }
  if (code !== undefined && NOT_OPEN.has(code) && (err as { cause?: unknown }).cause === undefined) {
    return new ClosedError(`${store.engine} was closed during the call (${doing})`)
  }
  return err
}

/** `p`, its failure translated by `levelError` (what it was doing named only if it fails). */
export function translated<T>(p: Promise<T>, store: LevelStore, doing: string | (() => string)): Promise<T> {
  return p.catch((err) => {
    throw levelError(err, store, typeof doing === 'string' ? doing : doing())
  })
}

/** The advice a CorruptionError about a whole store ends with. */
export function repairHint(store: LevelStore): string {
  if (!store.repair) return ''
  return ` With every engine on it closed, ${store.repair} rebuilds the store from the records LevelDB can still read (copy the directory first: what it cannot read is dropped).`
}

/** The deepest error in a chain of causes that carries a code (the error itself if none does). */
function innermost(err: object): { code?: string; message?: unknown } {
  let found = err as { code?: string; message?: unknown; cause?: unknown }
  let at: unknown = found.cause
  for (let depth = 0; depth < 4 && at !== null && typeof at === 'object'; depth++) {
    const e = at as { code?: string; message?: unknown; cause?: unknown }
    if (typeof e.code === 'string' || (typeof e.message === 'string' && /^(?:Corruption|IO error): /.test(e.message))) found = e
    at = e.cause
  }
  return found
}
