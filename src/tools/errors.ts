import { StowageError } from '../errors.js'

/**
 * A dump that cannot be restored: truncated, tampered with, of an unknown format or version, or
 * whose raw data does not match its recorded size and SHA-256. `line` is the 1-based line of the
 * fault (for a truncated dump, the line where its trailer was missing).
 */
export class DumpError extends StowageError {
  readonly line: number | undefined
  constructor(message: string, line?: number, options?: { cause?: unknown }) {
    super('DUMP_INVALID', line === undefined ? message : `line ${line}: ${message}`, options)
    this.line = line
  }
}

/** A restore or copy into a store that already holds data, without `merge`. */
export class NotEmptyError extends StowageError {
  constructor(message: string) {
    super('NOT_EMPTY', message)
  }
}
