/**
 * `npm run bench -- load-memory`: memory while bulk-inserting the peer benchmark's articles
 * (bench/peers/workload.ts: batches of 1,000, one transaction each, indexes on author, status and
 * score) into Stowage on each engine, and into the same writes made by hand on the engine's own
 * store. Each system runs in a child process of its own (RSS is per process). The child samples
 * RSS, anonymous RSS, heap used, external and arrayBuffers every SAMPLE_MS and reports the peaks
 * (and the kernel's high-water mark, VmHWM), then the figures after the last batch and after GC.
 *
 * Environment: BENCH_LOAD_N (articles, default 100000), BENCH_LOAD_RUNS (default 1),
 * BENCH_LOAD_1M=1 to add LevelDB and LMDB at 1,000,000, BENCH_LOAD_SYSTEMS=stowage-level,... to run some only.
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { mkdir, open as openFile, rename } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { ClassicLevel } from 'classic-level'
import type { Engine } from '../src/index.js'
import { newOid } from '../src/model/oid.js'
import { SYSTEMS as PEERS } from './peers/systems.js'
import { article, BATCH, type ArticleData, type Peer } from './peers/workload.js'

const SAMPLE_MS = 50
const MB = 2 ** 20
/** As bench/peers: the children of both benches run with the same heap settings. */
const CHILD_FLAGS = ['--expose-gc', '--max-old-space-size=12288']

/** One batch stored by hand, as an application would write it without Stowage. */
type Insert = (batch: ArticleData[]) => Promise<void>

interface Store {
  insert: Insert
  close(): Promise<void>
}

/** Opens a store under a directory; made once the system's modules are loaded. */
type Open = (dir: string) => Promise<Store>

interface System {
  label: string
  /** What it is compared with (a hand-rolled system), if it is Stowage. */
  baseline?: string
  /** Loads the system's modules (only its own: each child loads one system). */
  load(): Promise<Open>
}

const pad = (n: number) => String(n).padStart(7, '0')

/** The index entries of bench/peers/classic-level.ts, for one article. */
function entryKeys(a: ArticleData, oid: string): string[] {
  return [`idx!articles!author!${a.author}!${oid}`, `idx!articles!status!${a.status}!${oid}`, `idx!articles!score!${pad(a.score)}!${oid}`]
}

/** bench/peers/classic-level.ts's writes on memory-level: the record (msgpack) and three index entries per article, one batch per batch. */
async function memoryByHand(): Promise<Open> {
  const [{ MemoryLevel }, { Packr }] = await Promise.all([import('memory-level'), import('msgpackr')])
  return async () => {
    const db = new MemoryLevel<string, Buffer>({ keyEncoding: 'utf8', valueEncoding: 'buffer' })
    const packr = new Packr({ useRecords: false })
    return {
      async insert(batch) {
        const ops = []
        for (const a of batch) {
          const oid = newOid()
          ops.push({ type: 'put' as const, key: `articles!${oid}`, value: packr.pack(a) })
          for (const key of entryKeys(a, oid)) ops.push({ type: 'put' as const, key, value: Buffer.alloc(0) })
        }
        await db.batch(ops)
      },
      close: () => db.close(),
    }
  }
}

/**
 * The Directory engine's files written by hand: each record as pretty JSON in a temp file, written
 * and fsynced, renamed into place, the directory fsynced once per batch; the index entries in a
 * classic-level store, one synchronous batch per batch.
 */
async function directoryByHand(): Promise<Open> {
  const { ClassicLevel } = await import('classic-level')
  return (dir) => writeFiles(new ClassicLevel<string, string>(join(dir, 'files', '.index'), { keyEncoding: 'utf8', valueEncoding: 'utf8' }), join(dir, 'files', 'articles'))
}

async function writeFiles(db: ClassicLevel<string, string>, records: string): Promise<Store> {
  await mkdir(records, { recursive: true })
  await db.open()
  const writeFile = async (oid: string, text: string) => {
    const temp = join(records, `.tmp-${oid}`)
    const fh = await openFile(temp, 'wx')
    await fh.writeFile(text)
    await fh.sync()
    await fh.close()
    return temp
  }
  const syncDir = async () => {
    const fh = await openFile(records, 'r')
    await fh.sync()
    await fh.close()
  }
  return {
    async insert(batch: ArticleData[]) {
      const oids = batch.map(() => newOid())
      const temps: string[] = []
      for (let i = 0; i < batch.length; i += 32) {
        temps.push(...(await Promise.all(batch.slice(i, i + 32).map((a, k) => writeFile(oids[i + k]!, JSON.stringify(a, null, 2))))))
      }
      await db.batch(
        batch.flatMap((a, i) => entryKeys(a, oids[i]!).map((key) => ({ type: 'put' as const, key, value: '' }))),
        { sync: true },
      )
      for (let i = 0; i < temps.length; i += 32) {
        await Promise.all(temps.slice(i, i + 32).map((temp, k) => rename(temp, join(records, `${oids[i + k]}.json`))))
      }
      await syncDir()
    },
    close: () => db.close(),
  }
}

/** A system of bench/peers, inserting as it does there. */
async function peer(load: () => Promise<Peer>): Promise<Open> {
  const system = await load()
  return async (dir) => {
    const store = await system.open(dir)
    return { insert: async (batch) => void (await store.insert(batch)), close: async () => store.close() }
  }
}

/** The peer benchmark's Stowage workload on another engine. */
function stowageOn(engine: (lib: typeof import('../src/index.js'), dir: string) => Engine): () => Promise<Open> {
  return () =>
    peer(async () => {
      const { lib, onEngine } = await import('./peers/stowage.js')
      return onEngine((dir) => engine(lib, dir))
    })
}

const SYSTEMS: Record<string, System> = {
  'stowage-memory': { label: 'Stowage, MemoryEngine', baseline: 'memory-level', load: stowageOn((lib) => new lib.MemoryEngine()) },
  'memory-level': { label: 'memory-level + msgpackr by hand', load: memoryByHand },
  'stowage-level': { label: 'Stowage, LevelEngine', baseline: 'classic-level', load: () => peer(PEERS.stowage!.load) },
  'classic-level': { label: 'classic-level + msgpackr by hand', load: () => peer(PEERS['classic-level']!.load) },
  'stowage-directory': { label: 'Stowage, DirectoryEngine', baseline: 'files', load: stowageOn((lib, dir) => new lib.DirectoryEngine(join(dir, 'stowage'))) },
  files: { label: 'JSON files + classic-level entries by hand', load: directoryByHand },
  'stowage-lmdb': { label: 'Stowage, LmdbEngine', baseline: 'lmdb', load: () => peer(PEERS['stowage-lmdb']!.load) },
  lmdb: { label: 'lmdb by hand (dupSort index)', load: () => peer(PEERS.lmdb!.load) },
}

interface Figures {
  n: number
  insertMs: number
  samples: number
  /** Peaks over the samples, bytes. */
  peak: { rss: number; anon: number; heapUsed: number; external: number; arrayBuffers: number }
  /** The kernel's peak RSS of the process (VmHWM), bytes. */
  hwm: number
  /** Right after the last batch, then after forced GC. */
  end: { rss: number; anon: number; heapUsed: number; external: number; arrayBuffers: number }
  settled: { rss: number; anon: number; heapUsed: number; external: number; arrayBuffers: number }
  /** The process before the store was opened (modules loaded). */
  base: { rss: number; anon: number; heapUsed: number }
}

function status(field: string): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync('/proc/self/status', 'utf8'))
  return m ? Number(m[1]) * 1024 : NaN
}

function snapshot() {
  const m = process.memoryUsage()
  return { rss: m.rss, anon: status('RssAnon'), heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers }
}

async function collect(): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc
  for (let i = 0; i < 3; i++) {
    gc?.()
    await new Promise((r) => setTimeout(r, 20))
  }
}

/** In the child: loads n articles into one system and measures. */
async function child(name: string, dir: string, n: number): Promise<Figures> {
  const open = await SYSTEMS[name]!.load()
  await collect()
  const base = snapshot()
  const store = await open(dir)
  const peak = snapshot()
  let samples = 0
  const sample = () => {
    const s = snapshot()
    samples++
    for (const k of Object.keys(peak) as (keyof typeof peak)[]) if (s[k] > peak[k]) peak[k] = s[k]
  }
  const timer = setInterval(sample, SAMPLE_MS)
  const t = performance.now()
  for (let start = 0; start < n; start += BATCH) {
    const batch: ArticleData[] = []
    for (let i = start; i < Math.min(n, start + BATCH); i++) batch.push(article(i))
    await store.insert(batch)
  }
  const insertMs = performance.now() - t
  clearInterval(timer)
  sample()
  const end = snapshot()
  await collect()
  const settled = snapshot()
  const hwm = status('VmHWM')
  await store.close()
  return { n, insertMs, samples, peak, hwm, end, settled, base: { rss: base.rss, anon: base.anon, heapUsed: base.heapUsed } }
}

function runChild(name: string, n: number): Promise<Figures> {
  const dir = mkdtempSync(join(tmpdir(), `stowage-bench-load-${name}-`))
  return new Promise<Figures>((resolve, reject) => {
    const proc = spawn(process.execPath, [...CHILD_FLAGS, fileURLToPath(import.meta.url), name, dir, String(n)], { stdio: ['ignore', 'pipe', 'inherit'] })
    let out = ''
    proc.stdout.on('data', (d) => (out += d))
    proc.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').pop()!) as Figures) : reject(new Error(`${name}: exit code ${code}`))))
  }).finally(() => rmSync(dir, { recursive: true, force: true }))
}

export async function run(): Promise<void> {
  const { fmt, machine } = await import('./bench-utils.js')
  const mb = (bytes: number) => fmt(bytes / MB)
  const n = Number(process.env.BENCH_LOAD_N ?? 100_000)
  const runs = Number(process.env.BENCH_LOAD_RUNS ?? 1)
  const names = process.env.BENCH_LOAD_SYSTEMS?.split(',') ?? Object.keys(SYSTEMS)
  const unknown = names.filter((s) => !(s in SYSTEMS))
  if (unknown.length > 0) throw new Error(`Unknown system(s) ${unknown.join(', ')} in BENCH_LOAD_SYSTEMS; known: ${Object.keys(SYSTEMS).join(', ')}`)
  const sizes: Array<[number, string[]]> = [[n, names]]
  if (process.env.BENCH_LOAD_1M === '1') sizes.push([1_000_000, names.filter((s) => ['stowage-level', 'classic-level', 'stowage-lmdb', 'lmdb'].includes(s))])
  console.log(`Machine: ${machine()}`)
  console.log(`Date: ${new Date().toISOString()}  Command: npm run bench -- load-memory (${sizes.map(([s]) => fmt(s)).join(', ')} articles, ${runs} run(s), median)`)
  for (const [size, systems] of sizes) {
    const results = new Map<string, Figures[]>(systems.map((s) => [s, []]))
    for (let r = 0; r < runs; r++) {
      for (const name of systems) {
        const f = await runChild(name, size)
        results.get(name)!.push(f)
        console.log(
          `  ${name} ${fmt(size)}: ${fmt(size / (f.insertMs / 1000))}/s, peak RSS ${mb(f.peak.rss)} (HWM ${mb(f.hwm)}, anon ${mb(f.peak.anon)}), heap ${mb(f.peak.heapUsed)}, ` +
            `external ${mb(f.peak.external)}, arrayBuffers ${mb(f.peak.arrayBuffers)}; after GC RSS ${mb(f.settled.rss)} (anon ${mb(f.settled.anon)}), heap ${mb(f.settled.heapUsed)}; before opening ${mb(f.base.rss)} MB`,
        )
      }
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!
    const m = (name: string, pick: (f: Figures) => number) => median(results.get(name)!.map(pick))
    console.log(`\n${fmt(size)} articles in batches of ${fmt(BATCH)}, MB (median of ${runs}):\n`)
    console.log('| system | inserts/s | peak RSS (VmHWM) | peak anon RSS | peak heap used | peak external | peak arrayBuffers | RSS after GC (anon) | heap after GC | before opening | peak RSS / hand-rolled |')
    console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|')
    for (const name of systems) {
      const s = SYSTEMS[name]!
      const ratio = s.baseline !== undefined && results.has(s.baseline) ? `${(m(name, (f) => f.hwm) / m(s.baseline, (f) => f.hwm)).toFixed(2)}x` : ''
      console.log(
        `| ${s.label} | ${fmt(m(name, (f) => size / (f.insertMs / 1000)))} | ${mb(m(name, (f) => f.hwm))} | ${mb(m(name, (f) => f.peak.anon))} | ${mb(m(name, (f) => f.peak.heapUsed))} | ` +
          `${mb(m(name, (f) => f.peak.external))} | ${mb(m(name, (f) => f.peak.arrayBuffers))} | ${mb(m(name, (f) => f.settled.rss))} (${mb(m(name, (f) => f.settled.anon))}) | ` +
          `${mb(m(name, (f) => f.settled.heapUsed))} | ${mb(m(name, (f) => f.base.rss))} | ${ratio} |`,
      )
    }
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [name, dir, n] = process.argv.slice(2)
  if (!name || !(name in SYSTEMS) || !dir || !n) {
    console.error('usage: load-memory.js <system> <dir> <n>')
    process.exit(2)
  }
  console.log(JSON.stringify(await child(name, dir, Number(n))))
}
