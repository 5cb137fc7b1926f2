import { prefixEnd } from './postgres-sql.js'

/**
 * How a PostgresEngine batch is written: one call of a function the engine creates in the store's
 * schema (`batchFunction`), one round trip. The function is VOLATILE PL/pgSQL, so each of its
 * statements reads a fresh snapshot (READ COMMITTED): the check after its locks sees every commit
 * of their previous holders. Its statements are prepared once per connection.
 *
 * A batch on its own is one prepared statement (`batchStatement`) whose arrays travel as bound
 * parameters in PostgreSQL's binary format: nothing to escape, nothing for the server to parse
 * again. A batch committing a write lock's open transaction (`batchCall`) inlines every value as a
 * literal instead, so that the call and its COMMIT travel as one simple query: one round trip.
 * Literals are E'' strings (whatever standard_conforming_strings says) holding bytea in hex.
 */

/** The function's name: a new one for each change of its text, so that versions side by side each find theirs. */
export const BATCH_FUNCTION = 'stowage_batch_4'

/**
 * Takes `store_lock` shared (if given: a batch linking to objects it does not write, which a removal,
 * holding it exclusively, must not remove meanwhile), then `shared_lock` shared (if given: the lock
 * index rebuilds hold exclusively), then the advisory `locks` (sorted: no two batches deadlock on
 * them). Returns false without writing anything if some claimed unique key (the range
 * [claim_starts[i], claim_ends[i]): the stored entry key up to its last NUL, both bounds given) has
 * an entry the batch neither writes nor deletes, and null if some object it links to (targets) is
 * no longer stored; else writes the batch, rows in key order (concurrent batches lock them in the
 * same order), announces `payload` on `channel` (delivered when, and only if, the transaction
 * commits), and returns true. The `new_` rows (keys that were not stored: a new object's) are plain
 * INSERTs, without the upsert's search for a row to replace and its WAL record; should one be
 * there after all, the INSERT fails (23505) and nothing is written.
 */
export function batchFunction(s: string): string {
  return `CREATE FUNCTION ${s}.${BATCH_FUNCTION}(store_lock bigint, shared_lock bigint, locks bigint[], claim_starts bytea[], claim_ends bytea[], del_keys bytea[], put_keys bytea[], put_values bytea[],
    del_collections bytea[], del_ids bytea[], put_collections bytea[], put_ids bytea[], put_records bytea[], channel text, payload text, target_collections bytea[], target_ids bytea[],
    new_keys bytea[], new_values bytea[], new_collections bytea[], new_ids bytea[], new_records bytea[])
  RETURNS boolean LANGUAGE plpgsql VOLATILE AS $fn$
DECLARE
  k bigint;
  i integer;
BEGIN
  IF store_lock IS NOT NULL THEN
    PERFORM pg_advisory_xact_lock_shared(store_lock);
  END IF;
  IF shared_lock IS NOT NULL THEN
    PERFORM pg_advisory_xact_lock_shared(shared_lock);
  END IF;
  FOREACH k IN ARRAY locks LOOP
    PERFORM pg_advisory_xact_lock(k);
  END LOOP;
  FOR i IN 1 .. coalesce(array_length(claim_starts, 1), 0) LOOP
    IF EXISTS (SELECT 1 FROM ${s}.entries WHERE key >= claim_starts[i] AND key < claim_ends[i] AND key <> ALL(put_keys) AND key <> ALL(del_keys) AND key <> ALL(new_keys)) THEN
      RETURN false;
    END IF;
  END LOOP;
  IF array_length(target_ids, 1) > 0 THEN
    IF EXISTS (SELECT 1 FROM unnest(target_collections, target_ids) AS t(c, i) WHERE NOT EXISTS (SELECT 1 FROM ${s}.records r WHERE r.collection = t.c AND r.id = t.i)) THEN
      RETURN NULL;
    END IF;
  END IF;
  IF array_length(del_keys, 1) > 0 THEN
    DELETE FROM ${s}.entries WHERE key = ANY(del_keys);
  END IF;
  IF array_length(put_keys, 1) > 0 THEN
    INSERT INTO ${s}.entries (key, value) SELECT * FROM unnest(put_keys, put_values) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value;
  END IF;
  IF array_length(new_keys, 1) > 0 THEN
    INSERT INTO ${s}.entries (key, value) SELECT * FROM unnest(new_keys, new_values);
  END IF;
  IF array_length(del_ids, 1) > 0 THEN
    DELETE FROM ${s}.records WHERE (collection, id) IN (SELECT * FROM unnest(del_collections, del_ids));
  END IF;
  IF array_length(put_ids, 1) > 0 THEN
    INSERT INTO ${s}.records (collection, id, value) SELECT * FROM unnest(put_collections, put_ids, put_records) ON CONFLICT (collection, id) DO UPDATE SET value = EXCLUDED.value;
  END IF;
  IF array_length(new_ids, 1) > 0 THEN
    INSERT INTO ${s}.records (collection, id, value) SELECT * FROM unnest(new_collections, new_ids, new_records);
  END IF;
  IF payload IS NOT NULL THEN
    PERFORM pg_notify(channel, payload);
  END IF;
  RETURN true;
END
$fn$`
}

/** What one batch writes, each list in key order. */
export interface BatchRows {
  /** The store's lock, to take shared first when the batch links to objects it does not write. */
  store: bigint | undefined
  /** The lock to take shared next, if any. */
  shared: bigint | undefined
  /** Exclusive advisory locks to take then. */
  locks: bigint[]
  /** Claimed unique index entries (stored keys). */
  claims: Buffer[]
  delKeys: Buffer[]
  putKeys: Buffer[]
  putValues: Buffer[]
  delRecords: Array<[collection: Buffer, id: Buffer]>
  putRecords: Array<[collection: Buffer, id: Buffer, value: Buffer]>
  /** Entries and records of keys that were not stored, inserted without looking for a row to replace. */
  newKeys: Buffer[]
  newValues: Buffer[]
  newRecords: Array<[collection: Buffer, id: Buffer, value: Buffer]>
  /** NOTIFY channel (unquoted) and payload; no payload, no notice. */
  channel: string
  payload: string | undefined
  /** Objects the batch links to and does not write (collection, id): all must be stored. */
  targets: Array<[collection: Buffer, id: Buffer]>
}

/** The function's arguments: bytea arrays as lists of buffers, in its order (after channel and payload: targets, then the new rows). */
function batchArgs(b: BatchRows): { lists: Buffer[][]; channel: string; payload: string | undefined; store: bigint | undefined; shared: bigint | undefined; locks: bigint[] } {
  const starts = b.claims.map((claim) => claim.subarray(0, claim.lastIndexOf(0) + 1))
  return {
    store: b.store,
    shared: b.shared,
    locks: sorted(b.locks),
    lists: [
      starts,
      starts.map((start) => prefixEnd(start)!), // defined: index entries begin with idx
      b.delKeys,
      b.putKeys,
      b.putValues,
      b.delRecords.map((r) => r[0]),
      b.delRecords.map((r) => r[1]),
      b.putRecords.map((r) => r[0]),
      b.putRecords.map((r) => r[1]),
      b.putRecords.map((r) => r[2]),
      b.targets.map((t) => t[0]),
      b.targets.map((t) => t[1]),
      b.newKeys,
      b.newValues,
      b.newRecords.map((r) => r[0]),
      b.newRecords.map((r) => r[1]),
      b.newRecords.map((r) => r[2]),
    ],
    channel: b.channel,
    payload: b.payload,
  }
}

/**
 * The statement writing a batch; it answers one row, `ok`: false if a claimed key was taken, null
 * if an object it links to is gone (then nothing was written).
 */
export function batchCall(s: string, b: BatchRows): string {
  const a = batchArgs(b)
  const l = a.lists.map(bytesArray)
  const args = [
    a.store === undefined ? 'NULL' : String(a.store),
    a.shared === undefined ? 'NULL' : String(a.shared),
    `'{${a.locks.join(',')}}'::bigint[]`,
    ...l.slice(0, 10),
    text(a.channel),
    a.payload === undefined ? 'NULL' : text(a.payload),
    ...l.slice(10),
  ]
  return `SELECT ${s}.${BATCH_FUNCTION}(${args.join(', ')}) AS ok`
}

/**
 * The same call as `batchCall`, as a prepared statement (named after the schema: prepared once per
 * connection) and its parameters: arrays in binary, which pg sends as they are.
 */
export function batchStatement(s: string, schema: string, b: BatchRows): { name: string; text: string; values: unknown[] } {
  const a = batchArgs(b)
  const l = a.lists.map(binaryBytesArray)
  return {
    name: `stowage-batch-${schema}`,
    text: `SELECT ${s}.${BATCH_FUNCTION}($1::bigint, $2::bigint, $3::bigint[], ${PARAMS}) AS ok`,
    values: [a.store === undefined ? null : String(a.store), a.shared === undefined ? null : String(a.shared), binaryBigints(a.locks), ...l.slice(0, 10), a.channel, a.payload ?? null, ...l.slice(10)],
  }
}

const PARAMS = [
  ...Array.from({ length: 10 }, (_, i) => `$${i + 4}::bytea[]`),
  '$14::text',
  '$15::text',
  ...Array.from({ length: 7 }, (_, i) => `$${i + 16}::bytea[]`),
].join(', ')

/** PostgreSQL's element type oids (pg_type) of the arrays sent in binary. */
const BYTEA = 17
const INT8 = 20

/**
 * A one-dimensional array of `count` elements (`size` bytes with their lengths) in PostgreSQL's
 * binary format, as array_recv reads it, with its header written: the elements go from byte 20.
 */
function binaryArray(type: number, count: number, size: number): Buffer {
  const out = Buffer.allocUnsafe(count === 0 ? 12 : 20 + size)
  out.writeInt32BE(count === 0 ? 0 : 1, 0) // dimensions
  out.writeInt32BE(0, 4) // no NULLs
  out.writeInt32BE(type, 8)
  if (count === 0) return out
  out.writeInt32BE(count, 12)
  out.writeInt32BE(1, 16) // lower bound
  return out
}

/** An empty bytea[]: most of a batch's lists are (a create deletes nothing and links to nothing). pg copies parameters as they are sent. */
const EMPTY_BYTES_ARRAY = binaryArray(BYTEA, 0, 0)

function binaryBytesArray(values: Buffer[]): Buffer {
  if (values.length === 0) return EMPTY_BYTES_ARRAY
  let size = 0
  for (const v of values) size += 4 + v.length
  const out = binaryArray(BYTEA, values.length, size)
  let at = 20
  for (const v of values) {
    out.writeInt32BE(v.length, at)
    v.copy(out, at + 4)
    at += 4 + v.length
  }
  return out
}

function binaryBigints(values: bigint[]): Buffer {
  const out = binaryArray(INT8, values.length, 12 * values.length)
  let at = 20
  for (const v of values) {
    out.writeInt32BE(8, at)
    out.writeBigInt64BE(v, at + 4)
    at += 12
  }
  return out
}

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

/** A text literal (any string but one holding NUL, which text cannot). */
export function text(value: string): string {
  return `convert_from(${bytes(Buffer.from(value))}, 'UTF8')`
}

/**
 * The advisory lock keys of a store (by its schema): two for the whole store, one per record, one
 * per claimed unique key. Every write takes them in this order: store, records, indexes, claims. A collision of two keys only makes two writes wait for each other.
 */
export class LockKeys {
  /** Every write holding records takes it shared; one that may rewrite other objects' records, exclusive. */
  readonly store: bigint
  /** Every batch takes it shared; an index rebuild, exclusive. */
  readonly indexes: bigint

  constructor(private readonly schema: string) {
    this.store = this.#key('s', '')
    this.indexes = this.#key('i', '')
  }

  record(collection: string, id: string): bigint {
    return this.#key('r', `${collection}\0${id}`)
  }

  /** The unique key an index entry claims: its stored key up to the last NUL (before the oid). */
  claim(entryKey: Buffer): bigint {
    return this.#key('u', entryKey.subarray(0, entryKey.lastIndexOf(0)))
  }

  #key(kind: string, name: string | Buffer): bigint {
    // Two 32-bit FNV-1a hashes (two offset bases) of schema, kind and name: a sha1 cost more than the rest of the key's use.
    let a = 0x811c9dc5
    let b = 0x01000193
    const add = (unit: number): void => {
      a = Math.imul(a ^ unit, 0x01000193)
      b = Math.imul(b ^ unit, 0x01000193) ^ (b >>> 15)
    }
    for (const part of [this.schema, '\0', kind]) for (let i = 0; i < part.length; i++) add(part.charCodeAt(i))
    if (typeof name === 'string') for (let i = 0; i < name.length; i++) add(name.charCodeAt(i))
    else for (let i = 0; i < name.length; i++) add(name[i]!)
    return BigInt.asIntN(64, (BigInt(a >>> 0) << 32n) | BigInt(b >>> 0))
  }
}

/**
 * Statements taking the store's lock (shared, or exclusive for a write that may rewrite records it
 * did not lock one by one), then these exclusive locks, always in the same order: no two writes
 * deadlock on them. The keys are an array literal (a target list holds at most 1664 calls).
 */
export function lockStatement(keys: bigint[], store: { key: bigint; exclusive: boolean }): string {
  const first = `SELECT pg_advisory_xact_lock${store.exclusive ? '' : '_shared'}(${store.key})`
  return keys.length === 0 ? first : `${first}; SELECT count(pg_advisory_xact_lock(k)) FROM unnest('{${sorted(keys).join(',')}}'::bigint[]) AS k`
}

function sorted(keys: bigint[]): bigint[] {
  return [...new Set(keys)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
}
