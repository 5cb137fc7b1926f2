/**
 * Query figures (issue 14): on N articles (bench/peers/workload.ts, default 100k) with indexes on
 * author, status, score and tags, four queries (a rare and a common key; two common keys; a range and
 * a key; a sorted query with limit 20) through Stowage's find() beside the hand-written plans over
 * index() views, better-sqlite3 with the same indexes and NeDB's find(), all in one process in
 * alternating rounds (bench-utils' interleaved()). Every system's results are checked against the
 * others' first (same articles, same order for the sorted query), and explain() gives the objects
 * find() reads against those it returns. Everything is timed in two passes: with the identity map
 * as earlier queries leave it (objects they read, weakly held until collected, are found again
 * without reading the store), and with every object a Stowage query read dropped from it afterwards
 * (every read goes to the store).
 *
 * Environment: BENCH_RECORDS (articles, default 100000), BENCH_QUERIES_LMDB=0 to leave out the
 * LmdbEngine, BENCH_ROUNDS (default 15).
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import type { ClassicLevel } from 'classic-level'
import { LevelEngine, LmdbEngine, type Database } from '../src/index.js'
import { fmt, interleaved, machine, type Case } from './bench-utils.js'
import { article } from './peers/workload.js'
import { PARAMS, drawParams } from './queries-params.js'
import {
  LevelArticle,
  LmdbArticle,
  TOP,
  findOptions,
  handWritten,
  forgetting,
  handWrittenReads,
  openNedb,
  openSqlite,
  openStowage,
  stowageFind,
  type ArticleClass,
  type Found,
  type QueryName,
  type QuerySystem,
} from './queries-systems.js'

const N = Number(process.env.BENCH_RECORDS ?? 100_000)
const WITH_LMDB = process.env.BENCH_QUERIES_LMDB !== '0'
/** Parameter sets every system answers before timing, compared across systems. */
const CHECKS = 50

const QUERIES: { name: QueryName; label: string; counted: boolean }[] = [
  { name: 'rareAndCommon', label: 'author = ? AND status = ? (rare + common key)', counted: true },
  { name: 'twoCommon', label: 'status = ? AND tags has ? (two common keys)', counted: true },
  { name: 'rangeAndEquality', label: '1% score range AND status = ?', counted: false },
  { name: 'topByScore', label: `tags has ?, orderBy score desc, limit ${TOP}`, counted: false },
]

const WARM = 'objects as earlier queries left them'
const COLD = 'objects not in memory'
const MODES = [WARM, COLD] as const

interface System {
  label: string
  system: QuerySystem
  /** For Stowage: its database, to drop what a query read from its identity map in the second pass. */
  db?: Database
  handWrittenPlan?: boolean
  /** For find(): its model, for explain(). */
  model?: ArticleClass
  /** Hand-written with count(): only for the queries with two equality conditions. */
  countedOnly?: boolean
}

/** The article number a result is (titles end in "part <i>"). */
const numberOf = (f: Found) => Number(/part (\d+)$/.exec(f.title)![1])

/**
 * The same results: the same articles for unsorted queries; for the sorted one the same scores in
 * order and the same articles per score, except at the last score, where a cut among ties may differ
 * (NeDB does not order ties).
 */
function sameResults(sorted: boolean, a: Found[], b: Found[]): string | undefined {
  if (a.length !== b.length) return `${a.length} vs ${b.length} results`
  if (!sorted) {
    const x = a.map(numberOf).sort((p, q) => p - q)
    const y = b.map(numberOf).sort((p, q) => p - q)
    const i = x.findIndex((n, k) => n !== y[k])
    return i === -1 ? undefined : `different articles (first difference: ${x[i]} vs ${y[i]})`
  }
  const i = a.findIndex((f, k) => f.score !== b[k]!.score)
  if (i !== -1) return `different scores at position ${i}: ${a[i]!.score} vs ${b[i]!.score}`
  const last = a.at(-1)?.score
  const group = (list: Found[]) => list.filter((f) => f.score !== last).map(numberOf).sort((p, q) => p - q).join()
  return group(a) === group(b) ? undefined : 'different articles at equal scores'
}

interface Explained {
  plans: Map<string, number>
  estimated: { indexEntries: number; keysRecords: number; objects: number }
  actual: { indexEntries: number; keysRecords: number; objects: number; results: number; instancesChecked: number }
  /** Keys records read with no object in memory (each run after a full garbage collection). */
  keysRecordsCold: number
  handWrittenObjects: number
}

export async function run(): Promise<void> {
  const command = `npm run bench -- queries  (BENCH_RECORDS=${N}${WITH_LMDB ? '' : ', BENCH_QUERIES_LMDB=0'})`
  console.log(`Machine: ${machine()}`)
  console.log(`Date: ${new Date().toISOString()}  Command: ${command}`)
  console.log(`Load average at start (1, 5, 15 min): ${loadavg().map((l) => l.toFixed(2)).join(', ')}`)
  const dir = mkdtempSync(join(tmpdir(), 'stowage-bench-queries-'))
  const dbs: Database[] = []
  let closeSqlite = () => {}
  try {
    const articles = Array.from({ length: N }, (_, i) => article(i))
    const timed = async <T>(what: string, load: () => Promise<T> | T): Promise<T> => {
      const t = performance.now()
      const out = await load()
      console.log(`  loaded ${what}: ${fmt(N / ((performance.now() - t) / 1000))} articles/s`)
      return out
    }
    console.log(`\nloading ${fmt(N)} articles into each system:`)
    const level = await timed('Stowage (LevelEngine)', () => openStowage(LevelArticle, new LevelEngine(join(dir, 'level')), articles))
    dbs.push(level)
    // Reads should not run while LevelDB compacts the load's writes.
    await ((level.engine as LevelEngine).db as ClassicLevel<string, unknown>).compactRange('\u0000', '\uffff')
    if (WITH_LMDB) dbs.push(await timed('Stowage (LmdbEngine)', () => openStowage(LmdbArticle, new LmdbEngine(join(dir, 'lmdb')), articles)))
    const params = drawParams()
    const sqlite = await timed('better-sqlite3', () => openSqlite(dir, articles, params[0]!))
    closeSqlite = sqlite.close
    const nedb = await timed('NeDB', () => openNedb(dir, articles))

    const engines: { label: string; model: ArticleClass; db: Database }[] = [{ label: 'LevelEngine', model: LevelArticle, db: level }]
    if (WITH_LMDB) engines.push({ label: 'LmdbEngine', model: LmdbArticle, db: dbs[1]! })
    const systems: System[] = []
    for (const { label, model, db } of engines) {
      systems.push({ label: `Stowage find() (${label})`, system: stowageFind(model), model, db })
      systems.push({ label: `hand-written, count() picks the driver (${label})`, system: handWritten(model, true), countedOnly: true, db, handWrittenPlan: true })
      systems.push({ label: `hand-written, driver fixed (${label})`, system: handWritten(model, false), db, handWrittenPlan: true })
    }
    systems.push({ label: 'better-sqlite3, same indexes', system: sqlite.system })
    systems.push({ label: 'NeDB find(), ensureIndex', system: nedb })

    // Every system gives the same results before anything is timed.
    console.log(`\nchecking that every system gives the same results (${CHECKS} parameter sets per query)...`)
    const explained = new Map<string, Explained>()
    for (const { name } of QUERIES) {
      const sorted = name === 'topByScore'
      let total = 0
      for (const p of params.slice(0, CHECKS)) {
        const reference = await systems[0]!.system[name](p)
        total += reference.length
        for (const s of systems.slice(1)) {
          const why = sameResults(sorted, reference, await s.system[name](p))
          if (why !== undefined) throw new Error(`${name}(${JSON.stringify(p)}): ${s.label} differs from ${systems[0]!.label}: ${why}`)
        }
      }
      console.log(`  ${name}: the same on every system, ${fmt(total / CHECKS)} results per query`)
      for (const { label, model } of engines) {
        const e: Explained = {
          plans: new Map(),
          estimated: { indexEntries: 0, keysRecords: 0, objects: 0 },
          actual: { indexEntries: 0, keysRecords: 0, objects: 0, results: 0, instancesChecked: 0 },
          keysRecordsCold: 0,
          handWrittenObjects: 0,
        }
        for (const p of params.slice(0, CHECKS)) {
          const x = await model.find(findOptions(name, p)).explain()
          // The plan's shape, without this query's keys and counts.
          const shape = x.plan.replace(/"[^"]*"/g, '?').replace(/\b\d+\b/g, 'n')
          e.plans.set(shape, (e.plans.get(shape) ?? 0) + 1)
          for (const k of ['indexEntries', 'keysRecords', 'objects'] as const) {
            e.estimated[k] += x.estimated[k] / CHECKS
            e.actual[k] += x.actual[k] / CHECKS
          }
          e.actual.results += x.actual.results / CHECKS
          e.actual.instancesChecked += x.actual.instancesChecked / CHECKS
          handWrittenReads.objects = 0
          await handWritten(model, false)[name](p)
          e.handWrittenObjects += handWrittenReads.objects / CHECKS
        }
        explained.set(`${name} ${label}`, e)
      }
    }

    // Two passes: objects as the process leaves them (read by earlier queries, weakly held until
    // collected, found again in the identity map), then with every object a Stowage query read dropped
    // from the identity map after it (every read goes to the store).
    const rates = new Map<string, number>()
    for (const mode of MODES) {
      // Objects the first pass left weakly held are collected before the second.
      if (mode === COLD) (globalThis as { gc?: () => void }).gc?.()
      for (const { name, label, counted } of QUERIES) {
        console.log(`\n${label}, ${mode} (queries/s):`)
        const cases: Case[] = systems
          .filter((s) => counted || !s.countedOnly)
          .map((s) => {
            const system = mode === COLD && s.db !== undefined ? forgetting(s.db, s.system, s.handWrittenPlan === true) : s.system
            let next = 0
            return { name: s.label, units: 1, fn: () => system[name](params[next++ % PARAMS]!) }
          })
        for (const r of await interleaved(cases)) rates.set(`${mode} ${name} ${r.name}`, r.unitsPerSec)
      }
    }
    const loadAtEnd = loadavg()

    // Keys records read with no object in memory: instances the identity map holds only weakly go
    // with a full garbage collection (after the timing, which it would change).
    const gc = (globalThis as { gc?: () => void }).gc
    if (gc !== undefined) {
      for (const { name } of QUERIES) {
        for (const { label, model } of engines) {
          const e = explained.get(`${name} ${label}`)!
          for (const p of params.slice(0, CHECKS)) {
            gc()
            e.keysRecordsCold += (await model.find(findOptions(name, p)).explain()).actual.keysRecords / CHECKS
          }
        }
      }
    }

    let mode: (typeof MODES)[number] = WARM
    const rate = (name: QueryName, label: string) => rates.get(`${mode} ${name} ${label}`)
    const ratio = (a: number | undefined, b: number | undefined) => (a === undefined || b === undefined ? '' : `${(a / b).toFixed(2)}x`)
    const cell = (n: number | undefined) => (n === undefined ? 'n/a' : fmt(n))
    console.log(`\nLoad average at end (1, 5, 15 min): ${loadAtEnd.map((l) => l.toFixed(2)).join(', ')}`)
    for (const { label: engine } of engines) {
      for (mode of MODES) {
        console.log(`\n### ${fmt(N)} articles, Stowage on the ${engine}, ${mode} (queries/s, median of ${process.env.BENCH_ROUNDS ?? 15} alternating rounds)\n`)
        console.log('| query | find() | hand-written, count() picks the driver | hand-written, driver fixed | better-sqlite3 | NeDB | find / hand-written (count(), fixed) | find / better-sqlite3 | find / NeDB |')
        console.log('|---|---|---|---|---|---|---|---|---|')
        for (const { name, label, counted } of QUERIES) {
          const find = rate(name, `Stowage find() (${engine})`)
          const hc = counted ? rate(name, `hand-written, count() picks the driver (${engine})`) : undefined
          const hf = rate(name, `hand-written, driver fixed (${engine})`)
          const sq = rate(name, 'better-sqlite3, same indexes')
          const ne = rate(name, 'NeDB find(), ensureIndex')
          console.log(
            `| ${label} | ${cell(find)} | ${counted ? cell(hc) : '(same as fixed)'} | ${cell(hf)} | ${cell(sq)} | ${cell(ne)} | ${counted ? ratio(find, hc) + ', ' : ''}${ratio(find, hf)} | ${ratio(find, sq)} | ${ratio(find, ne)} |`,
          )
        }
      }
      console.log(`\nWork per query, Stowage on the ${engine} (means over ${CHECKS} parameter sets; explain() estimated / actual, objects as the checks left them in memory; keys records also after a full garbage collection, when few are left):\n`)
      console.log('| query | results | find(): objects read | find(): index entries | find(): keys records | find(): candidates checked on instances | find(): keys records, after a full garbage collection | hand-written: objects read | plan (find) |')
      console.log('|---|---|---|---|---|---|---|---|---|')
      for (const { name, label } of QUERIES) {
        const e = explained.get(`${name} ${engine}`)!
        const pair = (k: 'indexEntries' | 'keysRecords' | 'objects') => `${fmt(e.estimated[k])} / ${fmt(e.actual[k])}`
        const plans = [...e.plans].sort((a, b) => b[1] - a[1]).map(([text, n]) => `${text}${e.plans.size > 1 ? ` (${n}x)` : ''}`).join('; ')
        console.log(
          `| ${label} | ${fmt(e.actual.results)} | ${pair('objects')} | ${pair('indexEntries')} | ${pair('keysRecords')} | ${fmt(e.actual.instancesChecked)} | ${fmt(e.keysRecordsCold)} | ${fmt(e.handWrittenObjects)} | ${plans} |`,
        )
      }
    }
    console.log('\nbetter-sqlite3 plans (EXPLAIN QUERY PLAN with the first parameter set, after ANALYZE):')
    for (const { name } of QUERIES) console.log(`  ${name}: ${sqlite.plans[name]}`)
  } finally {
    for (const db of dbs) await db.close()
    closeSqlite()
    rmSync(dir, { recursive: true, force: true })
  }
}
