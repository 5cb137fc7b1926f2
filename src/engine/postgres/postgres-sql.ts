import { ArgumentError } from '../../errors.js'
import type { Range } from '../engine.js'

/**
 * The layout of a PostgresEngine store: one schema of Stowage's own. Keys, collections and ids are
 * `bytea` holding their UTF-8 bytes: PostgreSQL compares bytea bytewise (memcmp, then length), which
 * is code point order whatever the database's collation, and bytea holds the NUL that keys may contain.
 * Values are msgpack (the LevelEngine's codec). Only plain SQL types and statements, so that
 * PostgreSQL-compatible databases (CockroachDB, YugabyteDB) accept them.
 */
export const FORMAT = 1

/** Statements creating the tables, each idempotent. */
export function schemaStatements(s: string): string[] {
  return [
    `CREATE SCHEMA IF NOT EXISTS ${s}`,
    `CREATE TABLE IF NOT EXISTS ${s}.meta (name text PRIMARY KEY, value text NOT NULL)`,
    `CREATE TABLE IF NOT EXISTS ${s}.entries (key bytea PRIMARY KEY, value bytea NOT NULL)`,
    `CREATE TABLE IF NOT EXISTS ${s}.records (collection bytea NOT NULL, id bytea NOT NULL, value bytea NOT NULL, PRIMARY KEY (collection, id))`,
    // Committed raw data: (collection, id) points at a token whose chunks hold the bytes.
    `CREATE TABLE IF NOT EXISTS ${s}.raw (collection bytea NOT NULL, id bytea NOT NULL, token text NOT NULL, size bigint NOT NULL, sha256 text NOT NULL, PRIMARY KEY (collection, id))`,
    // Staged raw data: size -1 while its chunks are still being written. `owner` is the engine that
    // staged it: only it may commit it, and it drops what it left uncommitted when it closes.
    `CREATE TABLE IF NOT EXISTS ${s}.staged (token text PRIMARY KEY, owner text NOT NULL, size bigint NOT NULL, sha256 text NOT NULL, since timestamptz NOT NULL DEFAULT now())`,
    `CREATE TABLE IF NOT EXISTS ${s}.chunks (token text NOT NULL, seq integer NOT NULL, data bytea NOT NULL, PRIMARY KEY (token, seq))`,
  ]
}

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/

/** The schema name, quoted; only lower-case SQL identifiers, so that nothing needs escaping. */
export function quoteSchema(schema: unknown): string {
  if (typeof schema !== 'string' || !IDENTIFIER.test(schema)) {
    throw new ArgumentError(`PostgresEngine schema must be a lower-case SQL identifier (letters, digits and _, at most 63, not starting with a digit), got ${JSON.stringify(schema)}`)
  }
  return `"${schema}"`
}

/**
 * PostgreSQL refuses a btree entry over about 2.7 KB: keys longer than this are refused before
 * anything is written (an index entry of a very long value).
 */
export const MAX_KEY_BYTES = 2600

/** A WHERE clause (without WHERE) over `column` and its parameters, numbered from `first`. */
export interface SqlRange {
  where: string[]
  params: Buffer[]
  /** Empty range: nothing to read. */
  empty: boolean
}

/**
 * The bounds of a Range as SQL conditions over a bytea column. A prefix is the half-open byte range
 * [prefix, prefix with its last byte below 0xff incremented).
 */
export function sqlRange(column: string, range: Range, firstParam: number): SqlRange {
  const where: string[] = []
  const params: Buffer[] = []
  const add = (op: string, bound: Buffer) => {
    params.push(bound)
    where.push(`${column} ${op} $${firstParam + params.length - 1}`)
  }
  if (range.gt !== undefined) add('>', Buffer.from(range.gt))
  if (range.gte !== undefined) add('>=', Buffer.from(range.gte))
  if (range.lt !== undefined) add('<', Buffer.from(range.lt))
  if (range.lte !== undefined) add('<=', Buffer.from(range.lte))
  if (range.prefix) {
    const prefix = Buffer.from(range.prefix)
    add('>=', prefix)
    const end = prefixEnd(prefix)
    if (end) add('<', end)
  }
  return { where, params, empty: range.limit === 0 }
}

/** The least byte string above every string starting with `prefix`; undefined if there is none. */
export function prefixEnd(prefix: Buffer): Buffer | undefined {
  let n = prefix.length
  while (n > 0 && prefix[n - 1] === 0xff) n--
  if (n === 0) return undefined
  const end = Buffer.from(prefix.subarray(0, n))
  end[n - 1]!++
  return end
}
