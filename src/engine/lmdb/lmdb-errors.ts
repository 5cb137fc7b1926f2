import { ClosedError, CorruptionError, InvalidKeyError, InvalidPathError, StowageError } from '../../errors.js'

/** LMDB's codes for a damaged store: page not found, corrupted, panic, version mismatch, invalid file. */
const DAMAGED = new Set([-30797, -30796, -30795, -30794, -30793])
const MAP_FULL = -30792
/** errno codes (as lmdb-js reports them, positive) that mean the path cannot hold a store. */
const PATH_ERRNOS = new Set([1, 13, 20, 21, 30]) // EPERM, EACCES, ENOTDIR, EISDIR, EROFS

/**
 * The Stowage error for one thrown by lmdb-js while `doing` something with `store` (e.g.
 * `LmdbEngine(./db.lmdb)`), the original as `cause`. Stowage errors and anything that is not an
 * LMDB error pass through unchanged. A write that fails this way wrote nothing (its transaction
 * was aborted).
 */
export function lmdbError(err: unknown, store: string, doing: string): unknown {
  if (err instanceof StowageError || !(err instanceof Error)) return err
  const code = (err as { code?: unknown }).code
  const message = err.message
  if (/maximum key size|Key of size \d+ was too large/.test(message)) return new InvalidKeyError(`${store}: ${doing} failed: ${message}`)
  if (/has been closed|Database is closed|environment is already closed/i.test(message)) return new ClosedError(`${store} was closed during the call (${doing})`)
  if (typeof code !== 'number') return err
  if (doing === 'opening it' && PATH_ERRNOS.has(code)) return new InvalidPathError(`Cannot use ${store} for an LMDB store: ${message}`, { cause: err })
  if (DAMAGED.has(code)) return new CorruptionError(`The LMDB store of ${store} is damaged: ${doing} failed with "${message}"`, { cause: err })
  if (code === MAP_FULL) {
    return new CorruptionError(`The LMDB store of ${store} is full and its map could not grow (disk or address space full?): ${doing} failed with "${message}"; nothing of it was written`, { cause: err })
  }
  return new CorruptionError(`The LMDB store of ${store} cannot be read or written (a file system error?): ${doing} failed with "${message}"`, { cause: err })
}
