import { createHash } from 'node:crypto'
import { prefixEnd } from './postgres-sql.js'

/**
 * The statements of a PostgresEngine write, with every value inlined as a literal, so that a write
 * and the locks it takes travel as one simple query of several statements: one round trip. Such a
 * query runs as one transaction (implicitly, or inside the BEGIN of a held write lock), and in READ
 * COMMITTED each of its statements reads a fresh snapshot: a statement after the one taking the
 * locks sees every commit of the locks' previous holders. Only plain SQL literals: E'' strings
 * (whatever standard_conforming_strings says) holding bytea in hex.
 */

/** A bytea literal. */
export function bytes(value: Buffer): string {
  return `E'\\\\x${value.toString('hex')}'::bytea`
}

/** A bytea[] literal. */
export function bytesArray(values: Buffer[]): string {
  if (values.length === 0) return `'{}'::bytea[]`
  let out = `E'{`
  for (let i = 0; i < values.length; i++) out += `${i === 0 ? '' : ','}"\\\\\\\\x${values[i]!.toString('hex')}"`
  return out + `}'::bytea[]`
}

/** A text literal (any string, NUL aside, which text cannot hold). */
export function text(value: string): string {
  return `convert_from(${bytes(Buffer.from(value))}, 'UTF8')`
}

/**
 * The advisory lock keys of a store (by its schema): one shared by the whole store, one per record,
 * one per claimed unique key. A collision of two keys only makes two writes wait for each other.
 */
export class LockKeys {
  constructor(private readonly schema: string) {}

  /** Every write holding records takes it shared; a write that may rewrite other objects' records, exclusive. */
  get store(): bigint {
    return this.#key('s', '')
  }

  record(collection: string, id: string): bigint {
    return this.#key('r', `${collection}\0${id}`)
  }

  /** The unique key an index entry claims: its stored key up to the last NUL (before the oid). */
  claim(entryKey: Buffer): bigint {
    return this.#key('u', entryKey.subarray(0, entryKey.lastIndexOf(0)))
  }

  #key(kind: string, name: string | Buffer): bigint {
    return createHash('sha1').update(this.schema).update('\0').update(kind).update(name).digest().readBigInt64BE(0)
  }
}

/**
 * One statement taking the store's lock (shared, or exclusive for a write that may rewrite records
 * it did not lock one by one), then these exclusive locks, always in the same order: no two writes
 * deadlock on them. Empty if there is nothing to lock.
 */
export function lockStatement(keys: bigint[], store?: { key: bigint; exclusive: boolean }): string {
  const sorted = [...new Set(keys)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
  const calls = sorted.map((k) => `pg_advisory_xact_lock(${k})`)
  if (store !== undefined) calls.unshift(`pg_advisory_xact_lock${store.exclusive ? '' : '_shared'}(${store.key})`)
  return calls.length === 0 ? '' : `SELECT ${calls.join(', ')}`
}

/**
 * The condition that a claimed entry is, once the batch is written, the only entry of its unique
 * key (its key up to the last NUL): no entry under that prefix but those the batch deletes or writes.
 */
export function claimHolds(s: string, claim: Buffer, batchKeys: Buffer[]): string {
  const prefix = claim.subarray(0, claim.lastIndexOf(0) + 1)
  const end = prefixEnd(prefix)
  const ours = batchKeys.filter((k) => k.length >= prefix.length && prefix.equals(k.subarray(0, prefix.length)))
  return `NOT EXISTS (SELECT 1 FROM ${s}.entries WHERE key >= ${bytes(prefix)}${end ? ` AND key < ${bytes(end)}` : ''} AND key <> ALL(${bytesArray(ours)}))`
}
