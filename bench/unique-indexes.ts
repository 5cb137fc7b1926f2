/**
 * `npm run bench -- unique-indexes`: unique indexes, N objects (`BENCH_UNIQUE_N`, default 100,000).
 *
 * - Lookups by unique key, as a login finds an account by email: `Model.index('email').one(key)`,
 *   `.has(key)` and `find({ where: { email } }).first()` on LevelDB and LMDB, beside the raw engines doing the same work (classic-level
 *   `getSync` and lmdb-js `get` of an email -> oid entry, then of the record, decoded with msgpackr)
 *   and better-sqlite3 (`SELECT ... WHERE email = ?` over a UNIQUE column), interleaved in rounds.
 * - The first open of a store written before unique indexes kept claims: a store of N notes (three
 *   indexes and a unique one) whose claims are deleted and whose unique index's signature is put
 *   back as such a store has it. Timed: open + first create, which builds the claims from the
 *   index's entries; and, for comparison, `db.reindex()`, which rebuilds every index from the
 *   stored objects (what a changed definition costs).
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Sqlite from 'better-sqlite3'
import { ClassicLevel } from 'classic-level'
import { open as openLmdb } from 'lmdb'
import { Packr } from 'msgpackr'
import { Database, Index, LevelEngine, LmdbEngine, Model, Property, StoredObject, Types, type Engine } from '../src/index.js'
import { PACKR_OPTIONS } from '../src/engine/level/msgpack-codec.js'
import { claimPrefix, signatureKey, signatureOf } from '../src/indexes/layout.js'
import { metaOf } from '../src/model/meta.js'
import { deletePrefix } from '../src/engine/pages.js'
import { newOid } from '../src/model/oid.js'
import { fmt, interleaved, machine, type Case } from './bench-utils.js'
import { uniqueNote, uniqueNoteModel } from './single-saves.js'

const N = Number(process.env.BENCH_UNIQUE_N ?? 100_000)

interface AccountModel {
  index(name: string): { one(key: string): Promise<unknown>; has(key: string): Promise<boolean> }
  find(query: { where: { email: string } }): { first(): Promise<unknown> }
}

function accountModel(): typeof StoredObject & AccountModel {
  @Model({ collection: 'accounts' })
  class Account extends StoredObject {
    @Property(Types.EMAIL) @Index({ unique: true }) email!: string
    @Property(Types.STRING) name!: string
    @Property(Types.INTEGER) logins!: number
  }
  return Account as never
}

const account = (i: number) => ({ email: `user${i}@example.org`, name: `User number ${i}`, logins: i % 50 })
/** The i-th lookup's key: spread over the store, each key taken alike. */
const wanted = (i: number) => `user${(i * 7919) % N}@example.org`

async function stowageLookups(name: string, engine: Engine): Promise<{ cases: Case[]; close(): Promise<void> }> {
  const Account = accountModel()
  const db = await Database.open({ engine, models: [Account] })
  for (let i = 0; i < N; i += 1000) {
    await db.transaction(() => {
      for (let j = i; j < Math.min(N, i + 1000); j++) new Account(account(j))
    })
  }
  const email = Account.index('email')
  let i = 0
  let j = 0
  let k = 0
  return {
    cases: [
      { name: `Stowage (${name}) index('email').one(key)`, units: 1, fn: async () => void (await email.one(wanted(i++))) },
      { name: `Stowage (${name}) index('email').has(key)`, units: 1, fn: async () => void (await email.has(wanted(j++))) },
      { name: `Stowage (${name}) find({ where: { email } }).first()`, units: 1, fn: async () => void (await Account.find({ where: { email: wanted(k++) } }).first()) },
    ],
    close: () => db.close(),
  }
}

async function lookups(dir: string): Promise<void> {
  const packr = new Packr(PACKR_OPTIONS)
  const level = await stowageLookups('LevelEngine', new LevelEngine(join(dir, 'level-accounts')))
  const lmdb = await stowageLookups('LmdbEngine', new LmdbEngine(join(dir, 'accounts.lmdb')))

  const classic = new ClassicLevel<string, Buffer>(join(dir, 'classic-accounts'), { keyEncoding: 'utf8', valueEncoding: 'buffer' })
  const rawLmdb = openLmdb(join(dir, 'raw-accounts.lmdb'), { noSubdir: true, encoding: 'binary', compression: false } as object)
  const sqlite = new Sqlite(join(dir, 'accounts.sqlite'))
  sqlite.pragma('journal_mode = WAL')
  sqlite.pragma('synchronous = NORMAL')
  sqlite.exec('CREATE TABLE accounts (id TEXT PRIMARY KEY, email TEXT NOT NULL UNIQUE, name TEXT, logins INTEGER)')
  const insert = sqlite.prepare('INSERT INTO accounts VALUES (?, ?, ?, ?)')
  for (let i = 0; i < N; i += 1000) {
    const batch: Array<{ type: 'put'; key: string; value: Buffer }> = []
    const rows: Array<[string, ReturnType<typeof account>]> = []
    for (let j = i; j < Math.min(N, i + 1000); j++) {
      const oid = newOid()
      const a = account(j)
      rows.push([oid, a])
      batch.push({ type: 'put', key: `e!${a.email}`, value: Buffer.from(oid) }, { type: 'put', key: `a!${oid}`, value: packr.pack(a) })
    }
    await classic.batch(batch)
    await rawLmdb.transaction(() => {
      for (const [oid, a] of rows) {
        void rawLmdb.put(`e!${a.email}`, Buffer.from(oid))
        void rawLmdb.put(`a!${oid}`, packr.pack(a))
      }
    })
    sqlite.transaction(() => {
      for (const [oid, a] of rows) insert.run(oid, a.email, a.name, a.logins)
    })()
  }
  const byEmail = sqlite.prepare('SELECT id, email, name, logins FROM accounts WHERE email = ?')
  let k = 0
  const cases: Case[] = [
    ...level.cases,
    {
      name: 'classic-level getSync of email -> oid, then of the record',
      units: 1,
      fn: () => {
        const oid = classic.getSync(`e!${wanted(k++)}`)
        if (oid !== undefined) packr.unpack(classic.getSync(`a!${oid.toString()}`)!)
      },
    },
    ...lmdb.cases,
    {
      name: 'lmdb get of email -> oid, then of the record',
      units: 1,
      fn: () => {
        const oid = rawLmdb.get(`e!${wanted(k++)}`) as Buffer | undefined
        if (oid !== undefined) packr.unpack(rawLmdb.get(`a!${oid.toString()}`) as Buffer)
      },
    },
    { name: 'better-sqlite3 SELECT ... WHERE email = ? (UNIQUE column)', units: 1, fn: () => void byEmail.get(wanted(k++)) },
  ]
  console.log(`\nlookups by unique key over ${fmt(N)} objects (lookups/s):`)
  const results = await interleaved(cases, 300)
  console.log('\n| case | lookups/s | µs per lookup |\n|---|---:|---:|')
  for (const r of results) console.log(`| ${r.name} | ${fmt(r.unitsPerSec)} | ${(1e6 / r.unitsPerSec).toFixed(1)} |`)
  await Promise.all([level.close(), lmdb.close(), classic.close(), rawLmdb.close()])
  sqlite.close()
}

async function upgrade(name: string, engine: () => Engine): Promise<string> {
  const Note = uniqueNoteModel()
  let db = await Database.open({ engine: engine(), models: [Note] })
  for (let i = 0; i < N; i += 1000) {
    await db.transaction(() => {
      for (let j = i; j < Math.min(N, i + 1000); j++) new Note(uniqueNote(j))
    })
  }
  const meta = metaOf(Note)!
  const index = meta.indexes.get('slug')!
  await db.close()

  const raw = engine()
  await raw.open()
  await deletePrefix(raw, claimPrefix(meta.collection, 'slug'))
  await raw.batch([{ type: 'put', key: signatureKey(meta.collection, 'slug'), value: signatureOf(index, false) }])
  await raw.close()

  let t = performance.now()
  db = await Database.open({ engine: engine(), models: [Note] })
  await Note.create(uniqueNote(N))
  const upgrade = performance.now() - t
  t = performance.now()
  await db.reindex([Note])
  const reindex = performance.now() - t
  await db.close()
  return `| ${name} | ${fmt(N)} | ${fmt(upgrade)} | ${fmt(reindex)} |`
}

export async function run(): Promise<void> {
  console.log(`Machine: ${machine()}`)
  console.log(`Date: ${new Date().toISOString()}  Command: npm run bench -- unique-indexes  (BENCH_UNIQUE_N=${N})`)
  const dir = mkdtempSync(join(tmpdir(), 'stowage-bench-unique-'))
  try {
    await lookups(dir)
    const rows = [await upgrade('LevelEngine', () => new LevelEngine(join(dir, 'level'))), await upgrade('LmdbEngine', () => new LmdbEngine(join(dir, 'db.lmdb')))]
    console.log('\nthe first open of a store written before claims:\n\n| engine | objects | first open + create, claims built from the entries (ms) | db.reindex(), every index from the objects (ms) |\n|---|---:|---:|---:|')
    for (const row of rows) console.log(row)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
