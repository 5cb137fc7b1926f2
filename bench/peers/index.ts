/**
 * `npm run bench -- peers`: Stowage beside embedded stores an application might use instead, on the
 * same articles and queries (./workload.ts), each system in child processes of its own (./child.ts)
 * so that memory figures are its own: one builds the store and runs the workloads, a fresh one
 * reopens it and reads one article. Prints a table of medians per N.
 *
 * Environment: BENCH_PEERS_N (articles, default 100000), BENCH_PEERS_RUNS (default 3),
 * BENCH_PEERS_1M=1 to add runs at 1,000,000 (BENCH_PEERS_1M_RUNS of them, default 1; about 25 minutes
 * more), BENCH_PEERS_SYSTEMS=stowage,nedb,... to run some systems only.
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { fmt, machine } from '../bench-utils.js'
import { SYSTEMS } from './systems.js'
import { GETS, LOOKUPS, RANGES, type Id } from './workload.js'

const CHILD = fileURLToPath(new URL('./child.js', import.meta.url))
/** In-memory peers (NeDB, LokiJS, lowdb) need more than the default heap at 1M. */
const CHILD_FLAGS = ['--expose-gc', '--max-old-space-size=12288']
const CHILD_TIMEOUT_MS = Number(process.env.BENCH_PEERS_TIMEOUT_MS ?? 20 * 60_000)
const MB = 2 ** 20

interface Figures {
  /** NaN where not measured (whole-file systems past BENCH_PEERS_FLUSH_EACH_MAX). */
  insertPerSec: number
  insertOncePerSec: number
  heapLoaded: number
  heapReopened: number
  /** The reopening process just before it opens the store (modules loaded). */
  rssBase: number
  getsPerSec: number
  lookupsPerSec: number
  rangesPerSec: number
  reopenMs: number
  closeMs: number
  rssLoaded: number
  anonLoaded: number
  rssReopened: number
  anonReopened: number
  diskBytes: number
  found: string
}

function child(args: string[]): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [...CHILD_FLAGS, CHILD, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    proc.stdout.on('data', (d) => (out += d))
    proc.stderr.on('data', (d) => (err += d))
    const timer = setTimeout(() => proc.kill('SIGKILL'), CHILD_TIMEOUT_MS)
    proc.on('exit', (code, signal) => {
      clearTimeout(timer)
      if (code === 0) return resolve(JSON.parse(out.trim().split('\n').pop()!) as Record<string, unknown>)
      const why = signal === 'SIGKILL' ? `killed after ${CHILD_TIMEOUT_MS / 60_000} min` : (err.trim().split('\n').find((l) => /Error|error:/.test(l)) ?? `exit code ${code}`)
      reject(new Error(why.trim()))
    })
  })
}

function diskBytes(dir: string): number {
  let total = 0
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) total += statSync(join(entry.parentPath, entry.name)).size
  }
  return total
}

async function measure(system: string, n: number): Promise<Figures> {
  const dir = mkdtempSync(join(tmpdir(), `stowage-bench-peers-${system}-`))
  try {
    type Rss = { rss: number; anon: number }
    const l = (await child([system, 'load', dir, String(n)])) as Record<string, number> & { firstId: Id; insertEachMs?: number; rssAfterInsert: Rss }
    const r = (await child([system, 'reopen', dir, String(n), JSON.stringify(l.firstId)])) as Record<string, number> & { baseRss: Rss; rssAfterReopen: Rss }
    return {
      insertPerSec: l.insertEachMs === undefined ? NaN : n / (l.insertEachMs / 1000),
      insertOncePerSec: n / (l.insertOnceMs! / 1000),
      heapLoaded: l.heapAfterInsert!,
      heapReopened: r.heapAfterReopen!,
      getsPerSec: GETS / (l.getsMs! / 1000),
      lookupsPerSec: LOOKUPS / (l.lookupsMs! / 1000),
      rangesPerSec: RANGES / (l.rangesMs! / 1000),
      reopenMs: r.reopenMs!,
      closeMs: l.closeMs!,
      rssBase: r.baseRss.rss,
      rssLoaded: l.rssAfterInsert.rss,
      anonLoaded: l.rssAfterInsert.anon,
      rssReopened: r.rssAfterReopen.rss,
      anonReopened: r.rssAfterReopen.anon,
      diskBytes: diskBytes(dir),
      found: `${l.gotten}/${l.lookupFound}/${l.rangeFound}`,
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/** The rate with every batch persisted, and the rate persisting once at the end where it differs. */
const insertCell = (each: number, once: number) =>
  each === once ? fmt(each) : `${Number.isNaN(each) ? 'n/a' : fmt(each)} (persisted once at the end: ${fmt(once)})`

const mem = (rss: number, anon: number) => `${fmt(rss / MB)} (${Number.isNaN(anon) ? '?' : fmt(anon / MB)})`

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2
}

type Row = { system: string; figures: Figures[]; failure?: string }

async function runAt(n: number, runs: number, systems: string[]): Promise<Row[]> {
  const rows: Row[] = systems.map((system) => ({ system, figures: [] }))
  for (let run = 0; run < runs; run++) {
    // Rotate the order each run, so that slow phases of a shared machine fall on different systems.
    const order = rows.map((_, k) => rows[(k + run) % rows.length]!)
    for (const row of order) {
      const sys = SYSTEMS[row.system]!
      if (row.failure) continue
      if (sys.maxN !== undefined && n > sys.maxN) {
        row.failure = `not run: ${sys.why}`
        continue
      }
      const t = performance.now()
      try {
        const f = await measure(row.system, n)
        row.figures.push(f)
        console.log(
          `  run ${run + 1}/${runs} ${row.system} (${((performance.now() - t) / 1000).toFixed(0)} s): insert ${insertCell(f.insertPerSec, f.insertOncePerSec)}/s, get ${fmt(f.getsPerSec)}/s, ` +
            `author ${fmt(f.lookupsPerSec)}/s, range ${fmt(f.rangesPerSec)}/s, reopen+get ${fmt(f.reopenMs)} ms, RSS ${mem(f.rssLoaded, f.anonLoaded)} MB, ` +
            `reopened ${mem(f.rssReopened, f.anonReopened)} MB (from ${fmt(f.rssBase / MB)}), heap ${fmt(f.heapLoaded / MB)} / ${fmt(f.heapReopened / MB)} MB, disk ${fmt(f.diskBytes / MB)} MB, found ${f.found}`,
        )
      } catch (err) {
        row.failure = `failed: ${(err as Error).message}`
        console.log(`  run ${run + 1}/${runs} ${row.system}: ${row.failure}`)
      }
    }
  }
  return rows
}

function table(n: number, rows: Row[]): void {
  const founds = new Set(rows.flatMap((r) => r.figures.map((f) => f.found)))
  console.log(`\n${fmt(n)} articles, median of ${Math.max(...rows.map((r) => r.figures.length))} runs:\n`)
  console.log('| system | insert, batches of 1,000, each persisted (objects/s) | get by id (/s) | author lookup, ~' + fmt(n / 1000) + ' objects (/s) | score range 1%, ~' + fmt(n / 100) + ' objects (/s) | reopen + first get (ms) | RSS after insert, MB (anon) | RSS after reopen + first get, MB (anon) | process before opening, MB | disk (MB) |')
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|')
  for (const r of rows) {
    const label = SYSTEMS[r.system]!.label
    if (r.figures.length === 0) {
      console.log(`| ${label} | ${r.failure ?? 'no figures'} | | | | | | | | |`)
      continue
    }
    const m = (k: keyof Omit<Figures, 'found'>) => median(r.figures.map((f) => f[k]))
    console.log(
      `| ${label}${r.failure ? ` (${r.failure})` : ''} | ${insertCell(m('insertPerSec'), m('insertOncePerSec'))} | ${fmt(m('getsPerSec'))} | ${fmt(m('lookupsPerSec'))} | ${fmt(m('rangesPerSec'))} | ${fmt(m('reopenMs'))} | ` +
        `${mem(m('rssLoaded'), m('anonLoaded'))} | ${mem(m('rssReopened'), m('anonReopened'))} | ${fmt(m('rssBase') / MB)} | ${fmt(m('diskBytes') / MB)} |`,
    )
  }
  if (founds.size > 1) console.log(`\nWARNING: the systems found different results (gets/lookup objects/range objects): ${[...founds].join(', ')}`)
  else console.log(`\nEvery system found the same: ${[...founds][0]} (gets / objects over all author lookups / objects over all ranges).`)
  goals(rows)
}

/** The goals of issue 7, read off the medians. */
function goals(rows: Row[]): void {
  const m = (system: string, k: keyof Omit<Figures, 'found'>) => {
    const r = rows.find((x) => x.system === system)
    return r && r.figures.length > 0 ? median(r.figures.map((f) => f[k])) : undefined
  }
  const sto = (k: keyof Omit<Figures, 'found'>) => m('stowage', k)
  if (sto('insertPerSec') === undefined) return
  const mark = (ok: boolean) => (ok ? 'met' : 'MISSED')
  console.log('')
  console.log(`- reopen + first get: ${fmt(sto('reopenMs')!)} ms (goal: well under 1 s): ${mark(sto('reopenMs')! < 500)}`)
  for (const peer of ['nedb', 'lokijs']) {
    for (const [what, rss, anon] of [['after insert', 'rssLoaded', 'anonLoaded'], ['after reopen', 'rssReopened', 'anonReopened']] as const) {
      const p = m(peer, rss)
      const pa = m(peer, anon)
      if (p === undefined || pa === undefined) continue
      const share = (a: number, b: number) => `${((a / b) * 100).toFixed(0)}%`
      console.log(
        `- memory ${what}, Stowage / ${peer}: RSS ${share(sto(rss)!, p)}, anon ${share(sto(anon)!, pa)} (goal: under 20%): ${mark(sto(rss)! < p / 5)} / ${mark(sto(anon)! < pa / 5)}`,
      )
    }
  }
  for (const k of ['insertPerSec', 'lookupsPerSec'] as const) {
    for (const peer of ['nedb', 'lowdb', 'kysely']) {
      const p = m(peer, k)
      if (p !== undefined && !Number.isNaN(p)) console.log(`- ${k} vs ${peer}: ${(sto(k)! / p).toFixed(2)}x (goal: ahead): ${mark(sto(k)! > p)}`)
      const once = m(peer, 'insertOncePerSec')
      if (k === 'insertPerSec' && once !== undefined && once !== p) {
        console.log(`- ${k} vs ${peer} persisting once at the end: ${(sto(k)! / once).toFixed(2)}x: ${mark(sto(k)! > once)}`)
      }
    }
    const raw = m('classic-level', k)
    if (raw !== undefined) console.log(`- ${k} vs hand-rolled classic-level: ${(sto(k)! / raw).toFixed(2)}x (goal: >= 0.5x): ${mark(sto(k)! >= raw / 2)}`)
  }
}

export async function run(): Promise<void> {
  const n = Number(process.env.BENCH_PEERS_N ?? 100_000)
  const runs = Number(process.env.BENCH_PEERS_RUNS ?? 3)
  const systems = process.env.BENCH_PEERS_SYSTEMS?.split(',') ?? Object.keys(SYSTEMS)
  const unknown = systems.filter((s) => !(s in SYSTEMS))
  if (unknown.length > 0) throw new Error(`Unknown system(s) ${unknown.join(', ')} in BENCH_PEERS_SYSTEMS; known: ${Object.keys(SYSTEMS).join(', ')}`)
  const sizes: [number, number][] = [[n, runs]]
  if (process.env.BENCH_PEERS_1M === '1') sizes.push([1_000_000, Number(process.env.BENCH_PEERS_1M_RUNS ?? 1)])
  console.log(`Machine: ${machine()}`)
  console.log(`Date: ${new Date().toISOString()}  Command: npm run bench -- peers (${sizes.map(([s, r]) => `${fmt(s)} articles x ${r} runs`).join(', ')})`)
  for (const [size, count] of sizes) {
    console.log(`\n${fmt(size)} articles:`)
    table(size, await runAt(size, count, systems))
  }
}
