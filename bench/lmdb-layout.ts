/**
 * `npm run bench -- lmdb-layout`: how much the LMDB key layout costs bulk inserts. Batches of 1,000
 * articles, each one synchronous transaction with the LmdbEngine's flags, written by lmdb-js alone
 * in several layouts (the same bytes for the records and keys records in each), beside Stowage
 * inserting the same articles on the LmdbEngine (the peer benchmark's Stowage code, bench/peers/stowage.ts):
 * - Stowage's layout: one key space; per article its record, three index entries
 *   (`eidx\0e\0<collection>\0<index>\0<key>\0<oid>`, a sealed nil as value) and its keys record;
 * - the same without keys records;
 * - the same with a two-byte entry prefix in place of the 17-byte one;
 * - the hand-rolled peer's: records in a database of their own and the index entries in a dupSort
 *   database keyed by index and key, the oid as value (no keys records).
 * Cases alternate in rounds (`interleaved`), each in a store of its own, so all stores grow alike.
 * The table also gives each store's size on disk at the end.
 */
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { open as openLmdb, type Database as LmdbDatabase, type RootDatabase } from 'lmdb'
import { TXN_FLUSH_LATER } from '../src/engine/lmdb/lmdb-engine.js'
import { utf8Keys } from '../src/engine/lmdb/lmdb-keys.js'
import { newOid } from '../src/model/oid.js'
import { fmt, interleaved, machine, type Case } from './bench-utils.js'
import { lmdb as stowageOnLmdb } from './peers/stowage.js'
import { article, type ArticleData } from './peers/workload.js'

const BATCH = 1000
const FLAGS = TXN_FLUSH_LATER as unknown as import('lmdb').TransactionFlags

type Layout = 'stowage' | 'no keys records' | 'short entry prefix' | 'dupSort'

/** A record and a keys record as long as Stowage's for an article (294 and 69 bytes). */
const RECORD = randomBytes(294)
const KEYS_RECORD = randomBytes(69)
const SEALED_NIL = randomBytes(6)

function rawStore(dir: string, layout: Layout): { root: RootDatabase; write(first: number, async?: boolean): unknown } {
  const root = openLmdb(join(dir, 'db.lmdb'), { noSubdir: true, encoding: 'binary', keyEncoder: utf8Keys, overlappingSync: true, compression: false, cache: false } as object) as RootDatabase
  const open = (options: { name: string; dupSort?: boolean }) => root.openDB({ encoding: 'binary', keyEncoder: utf8Keys, ...options } as never) as unknown as LmdbDatabase
  const records = layout === 'dupSort' ? open({ name: 'records' }) : root
  const entries = layout === 'dupSort' ? open({ name: 'entries', dupSort: true }) : root
  const prefix = layout === 'short entry prefix' ? 'e\u0001' : 'eidx\u0000e\u0000articles\u0000'
  return {
    root,
    write(first, async = false) {
      const txn = () => {
        for (let i = first; i < first + BATCH; i++) {
          const a = article(i)
          const oid = newOid()
          const keys = [`author\u0000s${a.author}`, `status\u0000s${a.status}`, `score\u0000n${String(a.score).padStart(16, '0')}`]
          if (layout === 'dupSort') {
            records.putSync(oid, RECORD)
            for (const key of keys) entries.putSync(key, Buffer.from(oid))
          } else {
            root.putSync(`rarticles\u0000${oid}`, RECORD)
            for (const key of keys) root.putSync(`${prefix}${key}\u0000${oid}`, SEALED_NIL)
            if (layout !== 'no keys records') root.putSync(`eidx\u0000k\u0000articles\u0000${oid}`, KEYS_RECORD)
          }
        }
      }
      return async ? root.transaction(txn) : root.transactionSync(txn, FLAGS)
    },
  }
}

export async function run(): Promise<void> {
  console.log(`Machine: ${machine()}`)
  console.log(`Date: ${new Date().toISOString()}  Command: npm run bench -- lmdb-layout  (batches of ${fmt(BATCH)} articles)`)
  const dir = mkdtempSync(join(tmpdir(), 'stowage-bench-layout-'))
  try {
    const layouts: Layout[] = ['stowage', 'no keys records', 'short entry prefix', 'dupSort']
    const made = (layout: Layout) => {
      const at = mkdtempSync(join(dir, 'raw-'))
      return { layout, dir: at, store: rawStore(at, layout) }
    }
    const stores = layouts.map(made)
    const async = made('dupSort')
    const engineDir = mkdtempSync(join(dir, 'engine-'))
    // The peer benchmark's Stowage: the package as apps load it, the store at <dir>/stowage.lmdb.
    const stowage = await stowageOnLmdb.open(engineDir)
    const next = new Map<string, number>()
    const step = (name: string) => {
      const first = next.get(name) ?? 0
      next.set(name, first + BATCH)
      return first
    }
    const cases: Case[] = [
      ...stores.map((s) => ({ name: `lmdb-js, ${s.layout} layout`, units: BATCH, fn: () => s.store.write(step(s.layout)) })),
      { name: 'lmdb-js, dupSort layout, asynchronous transaction() (the peer benchmark\'s)', units: BATCH, fn: () => async.store.write(step('async'), true) as Promise<void> },
      {
        name: 'Stowage on the LmdbEngine (db.transaction of new Article)',
        units: BATCH,
        fn: () => {
          const first = step('engine')
          const batch: ArticleData[] = []
          for (let i = first; i < first + BATCH; i++) batch.push(article(i))
          return stowage.insert(batch)
        },
      },
    ]
    console.log('\ninserts (articles/s):')
    const results = await interleaved(cases, 400)
    const sizes = [...stores.map((s) => join(s.dir, 'db.lmdb')), join(async.dir, 'db.lmdb'), join(engineDir, 'stowage.lmdb')].map((file) => statSync(file).size / 1e6)
    console.log('\n| case | articles/s | µs per article | articles written | store size, MB |')
    console.log('|---|---:|---:|---:|---:|')
    const written = [...stores.map((s) => next.get(s.layout) ?? 0), next.get('async') ?? 0, next.get('engine') ?? 0]
    results.forEach((r, i) => console.log(`| ${r.name} | ${fmt(r.unitsPerSec)} | ${(1e6 / r.unitsPerSec).toFixed(1)} | ${fmt(written[i]!)} | ${sizes[i]!.toFixed(1)} |`))
    await stowage.close()
    for (const s of [...stores, async]) await s.store.root.close()
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
