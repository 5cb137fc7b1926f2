import { ClosedError, ConflictError, CorruptionError, InvalidKeyError, InvalidPathError, StowageError, UnavailableError } from '../../errors.js'

/** Socket errors: the server cannot be reached or dropped the connection. */
const NETWORK = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ENOENT'])
/** SQLSTATE classes and codes of a server that is going away or not ready: retry later. */
const GONE = /^(08|57P0[1-4]|53300)/
/** Serialization failure and deadlock: the transaction lost a race and was rolled back. */
const RACE = new Set(['40001', '40P01'])
/** Password or role refused, unknown database, no permission. */
const REFUSED = new Set(['28P01', '28000', '3D000', '42501'])

/**
 * The Stowage error for one thrown by `pg` while `doing` something with `store` (e.g.
 * `PostgresEngine(127.0.0.1:5432/app, schema stowage)`), the original as `cause`. Stowage errors and
 * errors that are not pg's pass through. A write that fails this way wrote nothing (its
 * transaction was rolled back), or, if the connection was lost while committing, all of it.
 */
export function postgresError(err: unknown, store: string, doing: string): unknown {
  if (err instanceof StowageError || !(err instanceof Error)) return err
  const code = String((err as { code?: unknown }).code ?? '')
  const message = err.message
  if (NETWORK.has(code) || GONE.test(code) || /Connection terminated|connection timeout|Client has encountered a connection error|terminating connection/i.test(message)) {
    return new UnavailableError(`${store} cannot reach its server: ${doing} failed with "${message}"; nothing of it was applied, or all of it if the connection was lost while committing. Retry once the server is back`, { cause: err })
  }
  if (/Cannot use a pool after calling end|Client was closed and is not queryable/i.test(message)) return new ClosedError(`${store} was closed during the call (${doing})`)
  if (RACE.has(code)) return new ConflictError(`${store}: ${doing} lost a race with a concurrent write and was rolled back (${message}); nothing of it was applied, run it again`)
  if (REFUSED.has(code)) return new InvalidPathError(`${store} cannot be used: ${doing} failed with "${message}"`, { cause: err })
  if (code === '54000') return new InvalidKeyError(`${store}: ${doing} failed: ${message}`)
  // Anything but the server's own errors (a raw data source's, a bug's) passes through unchanged.
  if (!('severity' in err)) return err
  return new CorruptionError(`${store}: ${doing} failed with "${message}"${code ? ` (SQLSTATE ${code})` : ''}`, { cause: err })
}
