import { CommanderError } from 'commander'
import { StowageError } from '../errors.js'

/**
 * What `stowage` exits with, for scripts:
 *   0  done; for verify: no problem (left)
 *   1  problems found: verify found some it did not repair; get: no such object
 *   2  bad usage: unknown command or option, missing or malformed argument
 *   3  the store cannot be used: missing, not a store, locked by another process, damaged
 *   4  refused: a dump that is truncated or tampered with, a target store that holds data (without --merge)
 */
export const EXIT = { OK: 0, PROBLEMS: 1, USAGE: 2, STORE: 3, REFUSED: 4 } as const

const USAGE_CODES = new Set(['ARGUMENT', 'INVALID_KEY', 'INDEX', 'QUERY', 'NOT_REGISTERED', 'MODEL_DEFINITION'])
const REFUSED_CODES = new Set(['DUMP_INVALID', 'NOT_EMPTY'])

/** The exit code for an error a command ended with. */
export function exitCodeOf(err: unknown): number {
  if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT.OK : EXIT.USAGE
  if (err instanceof UsageError) return EXIT.USAGE
  if (err instanceof StowageError) {
    if (USAGE_CODES.has(err.code)) return EXIT.USAGE
    if (REFUSED_CODES.has(err.code)) return EXIT.REFUSED
  }
  return EXIT.STORE
}

/** A command given arguments it cannot use. */
export class UsageError extends Error {}
