/**
 * What the server spends on one create of Stowage's, against the same member as a plain row, and
 * as a row of a table per model: each case run inside the server by a procedure that makes one
 * insert per transaction (COMMIT each, so each pays its WAL flush), with no client, network or
 * driver in the way. It prints microseconds per insert (each round), the backend's CPU time per
 * insert (a server on this machine only) and WAL bytes per insert.
 *
 * Stowage's case calls the engine's own batch function (postgres-writes.ts) with the arguments a
 * create of the bench's member sends: its record, its two index entries and its keys record (as new
 * rows: plain INSERTs), the unique key's lock and check, the NOTIFY. The keys are built in SQL with \x01 where Stowage has a
 * NUL (text cannot hold NUL): same lengths, same order. "Call only" is a function of the same
 * signature that writes nothing: the cost of building the arguments in SQL and of the call, which
 * the other cases do not pay, to subtract from Stowage's. The batch function is also run with one of
 * its parts taken out at a time (`functionParts`), and its four rows written by two plain INSERT
 * statements, to show what each part costs.
 *
 * Two cases measure another way of holding unique keys: the entries table with a `claim` column
 * (the unique key, on its index's entries only) under a partial unique index, so that PostgreSQL
 * refuses a second holder itself, with no advisory lock and no range check (`nativeClaims`): once
 * by the batch function so changed, once by one statement (its writes as data-modifying WITH
 * clauses, the shared lock taken first).
 */
import pg from 'pg'
import { BATCH_FUNCTION, batchFunction } from '../src/engine/postgres/postgres-writes.js'
import { Database, PostgresEngine } from '../src/index.js'
import { MemberModel } from './postgres-member.js'
import { processCpuMs } from './proc-stat.js'

const PER_ROUND = 3000
const ROUNDS = 3

const SEP = `chr(1)`
/** SQL of member i's keys: its email's index entry up to the oid, its name's entry, its keys record and that record's value. */
const EMAIL = `convert_to('idx' || ${SEP} || 'e' || ${SEP} || 'members' || ${SEP} || 'email' || ${SEP} || 'smember' || i || '@example.com' || ${SEP}, 'UTF8')`
const NAME = `convert_to('idx' || ${SEP} || 'e' || ${SEP} || 'members' || ${SEP} || 'name' || ${SEP} || 'sMember ' || (i % 1000) || ${SEP}, 'UTF8') || oid`
const KEYS = `convert_to('idx' || ${SEP} || 'k' || ${SEP} || 'members' || ${SEP}, 'UTF8') || oid`
const KEYS_VALUE = `convert_to('email' || ${SEP} || 'smember' || i || '@example.com' || ${SEP} || ${SEP} || 'name' || ${SEP} || 'sMember ' || (i % 1000), 'UTF8')`
/** SQL of member i's entries as two arrays (keys, values): email entry, name entry and, if `keysRecord`, the keys record. */
const entryArrays = (keysRecord: boolean) => `ARRAY[em || oid, ${NAME}${keysRecord ? `, ${KEYS}` : ''}], ARRAY['\\xc0'::bytea, '\\xc0'::bytea${keysRecord ? `, ${KEYS_VALUE}` : ''}]`
/** SQL of member i's record as three arrays (collections, ids, values). */
const RECORD_ARRAYS = `ARRAY['members'::bytea], ARRAY[oid], ARRAY[record]`
/** SQL of the notice payload announcing member i, as Stowage writes it. */
const PAYLOAD = `'{"o":"0123456789abcdef","r":[["members","' || convert_from(oid, 'UTF8') || '"]]}'`

/**
 * SQL building, for member i, what Stowage's create of it passes to the batch function (the claim's
 * range: its key up to the NUL, that byte incremented): its rows as new rows, as the engine sends a
 * create's; `upserts`: as rows to put over any stored one, as function versions before 4 wrote every
 * put; `native`: as new rows, each entry's claim (NULL for the entries of other indexes) in the
 * claims array and no lock per claim, for `nativeClaimsFunction`.
 */
function stowageCall(fn: string, s: string, keysRecord: boolean, how: 'new' | 'upserts' | 'native' = 'new'): string {
  const claims = how === 'native' ? `'{}'::bigint[], ARRAY[em, NULL${keysRecord ? ', NULL' : ''}], '{}'::bytea[]` : `ARRAY[hashtext(em::text)::bigint], ARRAY[em], ARRAY[substring(em from 1 for length(em) - 1) || '\\x02'::bytea]`
  const entries = entryArrays(keysRecord)
  const noEntries = `'{}'::bytea[], '{}'::bytea[]`
  const noRecords = `'{}'::bytea[], '{}'::bytea[], '{}'::bytea[]`
  const [puts, putRecords, news, newRecords] = how === 'upserts' ? [entries, RECORD_ARRAYS, noEntries, noRecords] : [noEntries, noRecords, entries, RECORD_ARRAYS]
  return `em := ${EMAIL};
    PERFORM ${fn}(NULL::bigint, hashtext('${s}')::bigint, ${claims}, '{}'::bytea[], ${puts}, '{}'::bytea[], '{}'::bytea[], ${putRecords},
      'stowage_${s}', ${PAYLOAD}, '{}'::bytea[], '{}'::bytea[], ${news}, ${newRecords});`
}

/**
 * The batch function of schema `s` with one of its parts taken out, as functions in pg_temp; throws
 * if a part is no longer found in its text (the bench must then be brought up to date).
 */
function functionParts(s: string): Array<{ name: string; label: string; text: string }> {
  const whole = batchFunction(s)
  const without = (label: string, name: string, ...cuts: Array<[RegExp, string]>) => {
    let text = whole.replace(`CREATE FUNCTION ${s}.${BATCH_FUNCTION}(`, `CREATE FUNCTION pg_temp.parts_${name}(`)
    for (const [cut, by] of cuts) {
      const next = text.replace(cut, by)
      if (next === text) throw new Error(`bench/postgres-layout.ts: the batch function has no ${cut} any more`)
      text = next
    }
    return { name, label, text }
  }
  return [
    without('the batch function without its advisory locks', 'no_locks', [/IF store_lock IS NOT NULL[\s\S]*?END LOOP;/, '']),
    without('the batch function without its unique check', 'no_check', [/FOR i IN 1 \.\. coalesce[\s\S]*?END LOOP;/, '']),
    without('the batch function without its NOTIFY', 'no_notify', [/IF payload IS NOT NULL THEN[\s\S]*?END IF;/, '']),
    without('the batch function, its two INSERTs only', 'writes_only', [/BEGIN\n[\s\S]*?IF array_length\(del_keys/, 'BEGIN\n  IF array_length(del_keys'], [/IF payload IS NOT NULL THEN[\s\S]*?END IF;/, '']),
  ]
}

/**
 * The batch function writing the entries of `claimed_entries` (a `claim` column under a partial
 * unique index) with the claims as a column, in place of its per-claim advisory locks and range checks.
 */
function nativeClaimsFunction(s: string): string {
  const text = batchFunction(s)
    .replace(`CREATE FUNCTION ${s}.${BATCH_FUNCTION}(`, 'CREATE FUNCTION pg_temp.native_claims(')
    .replace(/FOREACH k IN ARRAY locks LOOP[\s\S]*?END LOOP;\n  FOR i IN 1 \.\. coalesce[\s\S]*?END LOOP;/, '')
    .replace(`INSERT INTO ${s}.entries (key, value) SELECT * FROM unnest(new_keys, new_values)`, `INSERT INTO ${s}.claimed_entries (key, value, claim) SELECT * FROM unnest(new_keys, new_values, claim_starts)`)
  if (text.includes('FOREACH k IN ARRAY locks') || !text.includes('claimed_entries')) throw new Error('bench/postgres-layout.ts: the batch function no longer has the parts nativeClaimsFunction replaces')
  return text
}

/** A procedure making `n` inserts from member `base`, one transaction each. */
function procedure(name: string, body: string): string {
  return `CREATE PROCEDURE pg_temp.${name}(base int, n int) LANGUAGE plpgsql AS $p$
DECLARE i int; oid bytea; em bytea; record bytea;
BEGIN
  FOR i IN base .. base + n - 1 LOOP
    oid := convert_to('01m8' || lpad(i::text, 22, '0'), 'UTF8');
    -- The bench member's record as Stowage stores it is about 125 bytes of msgpack.
    record := convert_to(repeat('x', 120) || i, 'UTF8');
    ${body}
    COMMIT;
  END LOOP;
END $p$`
}

export async function layout(url: string): Promise<void> {
  const s = `bench_layout_${process.pid}`
  const db = await Database.open({ engine: new PostgresEngine({ connectionString: url, schema: s, poolSize: 2 }), models: [MemberModel] })
  await db.close() // the schema and its batch function exist now
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    await client.query(`CREATE TABLE ${s}.hand (id text PRIMARY KEY, email text NOT NULL UNIQUE, name text NOT NULL, data jsonb NOT NULL); CREATE INDEX ON ${s}.hand (name, id);
      CREATE TABLE ${s}.per_model (oid bytea PRIMARY KEY, record bytea NOT NULL, email bytea NOT NULL UNIQUE, name bytea NOT NULL); CREATE INDEX ON ${s}.per_model (name, oid);
      CREATE TABLE ${s}.claimed_entries (key bytea PRIMARY KEY, value bytea NOT NULL, claim bytea); CREATE UNIQUE INDEX ON ${s}.claimed_entries (claim) WHERE claim IS NOT NULL`)
    await client.query(nativeClaimsFunction(s))
    // The batch function's signature, writing nothing.
    await client.query(`CREATE FUNCTION pg_temp.call_only(bigint, bigint, bigint[], bytea[], bytea[], bytea[], bytea[], bytea[], bytea[], bytea[], bytea[], bytea[], bytea[], text, text, bytea[], bytea[], bytea[], bytea[], bytea[], bytea[], bytea[]) RETURNS boolean LANGUAGE plpgsql VOLATILE AS $f$ BEGIN RETURN true; END $f$`)
    const notify = `PERFORM pg_notify('${s}', ${PAYLOAD});`
    const plain = `INSERT INTO ${s}.hand (id, email, name, data) VALUES (convert_from(oid, 'UTF8'), 'member' || i || '@example.com', 'Member ' || (i % 1000), jsonb_build_object('email', 'member' || i || '@example.com', 'name', 'Member ' || (i % 1000), 'score', i));`
    const cases: Array<{ label: string; body: string; tables: string[] }> = [
      { label: "Stowage's create (record, two index entries, keys record, lock, unique check, NOTIFY)", body: stowageCall(`${s}.${BATCH_FUNCTION}`, s, true), tables: ['entries', 'records'] },
      { label: 'the same without its keys record', body: stowageCall(`${s}.${BATCH_FUNCTION}`, s, false), tables: ['entries', 'records'] },
      { label: 'the same, its rows as upserts (ON CONFLICT), as the batch function wrote every put before version 4', body: stowageCall(`${s}.${BATCH_FUNCTION}`, s, true, 'upserts'), tables: ['entries', 'records'] },
      { label: "Stowage's call only (its arguments built, a function that writes nothing)", body: stowageCall('pg_temp.call_only', s, true), tables: [] },
      { label: 'plain row (three btree indexes)', body: plain, tables: ['hand'] },
      { label: 'plain row + NOTIFY', body: `${plain}\n    ${notify}`, tables: ['hand'] },
      { label: 'a table per model: one row (record, unique email key, name key) + NOTIFY', body: `INSERT INTO ${s}.per_model VALUES (oid, record, convert_to('smember' || i || '@example.com', 'UTF8'), convert_to('sMember ' || (i % 1000), 'UTF8'));\n    ${notify}`, tables: ['per_model'] },
    ]
    const parts = functionParts(s)
    for (const part of parts) {
      await client.query(part.text)
      cases.push({ label: part.label, body: stowageCall(`pg_temp.parts_${part.name}`, s, true), tables: ['entries', 'records'] })
    }
    cases.push({
      label: 'its four rows by two INSERT ... VALUES statements + NOTIFY (no function, no lock, no check)',
      body: `em := ${EMAIL};
    INSERT INTO ${s}.entries (key, value) VALUES (em || oid, '\\xc0'::bytea), (${NAME}, '\\xc0'::bytea), (${KEYS}, ${KEYS_VALUE});
    INSERT INTO ${s}.records (collection, id, value) VALUES ('members'::bytea, oid, record);
    ${notify}`,
      tables: ['entries', 'records'],
    })
    cases.push({
      label: 'the same by INSERT ... SELECT FROM unnest of arrays (as the batch function writes)',
      body: `em := ${EMAIL};
    INSERT INTO ${s}.entries (key, value) SELECT * FROM unnest(${entryArrays(true)});
    INSERT INTO ${s}.records (collection, id, value) SELECT * FROM unnest(${RECORD_ARRAYS});
    ${notify}`,
      tables: ['entries', 'records'],
    })
    cases.push({ label: 'claims kept by a unique index: the batch function without per-claim locks and range checks', body: stowageCall('pg_temp.native_claims', s, true, 'native'), tables: ['claimed_entries', 'records'] })
    cases.push({
      label: 'claims kept by a unique index, the batch as one statement (WITH clauses, plain INSERTs, no function)',
      body: `em := ${EMAIL};
    WITH l AS (SELECT pg_advisory_xact_lock_shared(hashtext('${s}')::bigint)),
      e AS (INSERT INTO ${s}.claimed_entries (key, value, claim) SELECT * FROM unnest(${entryArrays(true)}, ARRAY[em, NULL, NULL]) WHERE (SELECT count(*) FROM l) = 1),
      r AS (INSERT INTO ${s}.records (collection, id, value) SELECT * FROM unnest(${RECORD_ARRAYS}))
    SELECT pg_notify('${s}', ${PAYLOAD}) INTO em;`,
      tables: ['claimed_entries', 'records'],
    })
    for (const [i, c] of cases.entries()) await client.query(procedure(`layout_${i}`, c.body))
    const micros: number[][] = cases.map(() => [])
    const wal: number[] = cases.map(() => 0)
    const cpu: Array<number | undefined> = cases.map(() => 0)
    const backend = (await client.query('SELECT pg_backend_pid() AS pid')).rows[0].pid as number
    for (let round = 0; round < ROUNDS; round++) {
      // Each round in another order, every case from empty tables.
      for (let k = 0; k < cases.length; k++) {
        const i = (k + round * 2) % cases.length
        if (cases[i]!.tables.length > 0) await client.query(`TRUNCATE ${cases[i]!.tables.map((t) => `${s}.${t}`).join(', ')}`)
        const { rows: [before] } = await client.query('SELECT pg_current_wal_insert_lsn() AS lsn')
        const cpuBefore = processCpuMs(backend)
        const t = performance.now()
        await client.query(`CALL pg_temp.layout_${i}(${round * PER_ROUND}, ${PER_ROUND})`)
        micros[i]!.push(((performance.now() - t) * 1000) / PER_ROUND)
        const cpuAfter = processCpuMs(backend)
        cpu[i] = cpuBefore === undefined || cpuAfter === undefined || cpu[i] === undefined ? undefined : cpu[i]! + ((cpuAfter - cpuBefore) * 1000) / PER_ROUND / ROUNDS
        const { rows: [diff] } = await client.query('SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), $1) AS bytes', [before.lsn])
        wal[i]! += Number(diff.bytes) / PER_ROUND / ROUNDS
      }
    }
    console.log(`\nThe server's work per insert, inside one backend (${PER_ROUND} inserts per round, one transaction each, no client in the way)`)
    console.log('| case | µs per insert, each round | backend CPU µs per insert | WAL bytes per insert |')
    console.log('| --- | --- | --- | --- |')
    for (const [i, c] of cases.entries()) console.log(`| ${c.label} | ${micros[i]!.map((m) => m.toFixed(0)).join(' / ')} | ${cpu[i]?.toFixed(0) ?? '-'} | ${wal[i]!.toFixed(0)} |`)
  } finally {
    await client.query(`DROP SCHEMA ${s} CASCADE`).catch(() => {})
    await client.end()
  }
}
