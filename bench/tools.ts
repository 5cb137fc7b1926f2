/**
 * `npm run bench -- tools`: dump, restore, copy and backup of a store of N objects (two indexes, one
 * link each) and R MB of raw data, on each engine, against `cp -r` of the closed store (and, on
 * LMDB, lmdb-js's `backup()`: mdb_copy). Each run is a child process over the store: its wall and
 * CPU time, peak RSS (the kernel's VmHWM of that child alone), and the peaks of its anonymous RSS
 * (what it allocated) and file-backed RSS (mapped file pages: LMDB's map) sampled every 20 ms;
 * objects/s count the objects, MB/s the store's bytes on disk (for dump: the dump file's). Then the
 * write throughput of the app (transactions of 100 saves) while an online backup runs, against the
 * same writes without one, alternating rounds in one process; and the same writes with a snapshot
 * held open but not read, against none (what keeping a view costs by itself).
 *
 * Environment: BENCH_TOOLS_N (default 100000), BENCH_TOOLS_RAW_MB (default 100),
 * BENCH_TOOLS_ENGINES=level,lmdb,directory (default all three), BENCH_TOOLS_ROUNDS (online rounds,
 * default 3), BENCH_TOOLS_ONLINE_S (the app writes for at most this many seconds of each online
 * backup, then lets it finish; default: all of it), BENCH_TOOLS_LOG=1 (each step's start on stderr).
 */
import { execFileSync, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

type Lib = typeof import('../src/index.js')
const RAW_OBJECT = 1024 * 1024
const ROUNDS = Number(process.env.BENCH_TOOLS_ROUNDS ?? 3)

function storePath(dir: string, kind: string, name = 'store'): string {
  return join(dir, kind === 'lmdb' ? `${name}.lmdb` : name)
}

function statusBytes(status: string, field: string): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)
  return m ? Number(m[1]) * 1024 : NaN
}

/**
 * Peak memory of this process: VmHWM (the kernel's peak RSS), and the peaks of RssAnon (heap,
 * native buffers: what the process allocated) and RssFile (file pages mapped in, such as LMDB's
 * map: the kernel drops them under pressure), sampled every 20 ms.
 */
function memoryPeaks(): () => { rss: number; anon: number; file: number } {
  let anon = 0
  let file = 0
  const sample = () => {
    const status = readFileSync('/proc/self/status', 'utf8')
    anon = Math.max(anon, statusBytes(status, 'RssAnon'))
    file = Math.max(file, statusBytes(status, 'RssFile'))
  }
  const timer = setInterval(sample, 20).unref()
  return () => {
    clearInterval(timer)
    sample()
    return { rss: statusBytes(readFileSync('/proc/self/status', 'utf8'), 'VmHWM'), anon, file }
  }
}

function diskBytes(path: string): number {
  const stat = statSync(path)
  if (!stat.isDirectory()) return stat.size
  let n = 0
  for (const name of readdirSync(path)) n += diskBytes(join(path, name))
  return n
}

function models(lib: Lib) {
  const { Model, Property, Index, Indexing, Relation, Types, StoredObject, StoredRaw } = lib
  class Item extends StoredObject {}
  Property(Types.STRING)(Item.prototype, 'title')
  Index(Indexing.value, { version: 1 })(Item.prototype, 'title')
  Property(Types.INTEGER)(Item.prototype, 'n')
  Index(Indexing.value, { version: 1 })(Item.prototype, 'n')
  Relation(() => Item)(Item.prototype, 'parent')
  class Blob extends StoredRaw {}
  return { Item: Model({ collection: 'items' })(Item) as any, Blob: Model({ collection: 'blobs' })(Blob) as any }
}

/** In a child: one task; prints its figures as JSON. */
async function child(task: string, kind: string, dir: string, n: number, rawMb: number): Promise<unknown> {
  const lib = (await import('../src/index.js')) as Lib
  const { engineAt } = await import('../src/tools/store-path.js')
  const store = storePath(dir, kind)
  const peaks = memoryPeaks()
  const started = performance.now()
  const cpu0 = process.cpuUsage()
  if (task === 'build') {
    const { Item, Blob } = models(lib)
    const db = await lib.Database.open({ engine: engineAt(store, kind as never), models: [Item, Blob] })
    let previous: any
    for (let i = 0; i < n; i += 1000) {
      await db.transaction(() => {
        for (let j = i; j < Math.min(n, i + 1000); j++) {
          const item = new Item({ title: `item ${j % 5000}`, n: j })
          if (previous !== undefined) item.parent.set(previous)
          previous = item
        }
      })
    }
    // Random bytes: LevelDB would compress a pattern.
    for (let i = 0; i < rawMb; i++) await Blob.create(randomBytes(RAW_OBJECT), { format: 'bin' })
    await db.close()
  } else if (task === 'dump') {
    const engine = engineAt(store, kind as never)
    await engine.open()
    await lib.dumpToFile(engine, join(dir, 'dump.jsonl'))
    await engine.close()
  } else if (task === 'restore') {
    await lib.restoreToPath(join(dir, 'dump.jsonl'), storePath(dir, kind, 'restored'), { engine: kind as never })
  } else if (task === 'copy') {
    const target = kind === 'level' ? 'lmdb' : 'level'
    const engine = engineAt(store, kind as never)
    await engine.open()
    await lib.copyToPath(engine, storePath(dir, target, 'copied'), { engine: target as never })
    await engine.close()
  } else if (task === 'backup') {
    const db = await lib.Database.open({ engine: engineAt(store, kind as never) })
    await db.backup(join(dir, 'backup.jsonl'))
    await db.close()
  } else if (task === 'cp') {
    execFileSync('cp', ['-r', store, storePath(dir, kind, 'cp')])
  } else if (task === 'mdb_copy') {
    // lmdb-js's backup(): LMDB's mdb_env_copy2, a consistent copy of an open environment.
    const { open } = await import('lmdb')
    const env = open(store, { noSubdir: true, encoding: 'binary' } as object)
    await env.backup(storePath(dir, kind, 'mdbcopy'), false)
    await env.close()
  } else if (task === 'view-cost') {
    return viewCost(lib, kind, store)
  } else if (task === 'online') {
    const result = await online(lib, kind, store, dir)
    return { ...result, ...peaks() }
  }
  const ms = performance.now() - started
  const cpu = process.cpuUsage(cpu0)
  return { ms, cpuMs: (cpu.user + cpu.system) / 1000, ...peaks() }
}

/**
 * Transactions of 100 saves (updates of stored objects, so the store keeps its size) for the time a
 * backup takes, then for as long without one, in alternating rounds: transactions per second with
 * and without the backup running.
 */
async function online(lib: Lib, kind: string, store: string, dir: string): Promise<{ rounds: { during: number[]; without: number[]; backupMs: number[] } }> {
  const { engineAt } = await import('../src/tools/store-path.js')
  const { Item, Blob } = models(lib)
  const db = await lib.Database.open({ engine: engineAt(store, kind as never), models: [Item, Blob] })
  const rounds: { during: number[]; without: number[]; backupMs: number[] } = { during: [], without: [], backupMs: [] }
  const window = Number(process.env.BENCH_TOOLS_ONLINE_S ?? Infinity) * 1000
  const items = await Item.list({ count: 1000 })
  let k = 0
  // Each write waits for the event loop's next turn, as writes made for requests or events do.
  const write = async () => {
    await new Promise((next) => setImmediate(next))
    await db.transaction(() => {
      for (let j = 0; j < 100; j++) items[k++ % items.length].n = -k
    })
  }
  for (let round = 0; round < ROUNDS; round++) {
    let done = 0
    let running = true
    const started = performance.now()
    const backup = db.backup(join(dir, `online-${round}.jsonl`)).finally(() => (running = false))
    while (running && performance.now() - started < window) {
      await write()
      done++
    }
    const ms = performance.now() - started
    await backup
    rounds.backupMs.push(performance.now() - started)
    rounds.during.push((done * 1000) / ms)
    rmSync(join(dir, `online-${round}.jsonl`), { force: true })
    let alone = 0
    const begun = performance.now()
    while (performance.now() - begun < ms) {
      await write()
      alone++
    }
    rounds.without.push((alone * 1000) / (performance.now() - begun))
  }
  await db.close()
  return { rounds }
}

/**
 * What an open snapshot costs the app's writes by itself (no backup reading it): transactions of 100
 * saves for 3 s with a snapshot held open (taken afresh each round, so every file a write touches
 * is kept for it first) and 3 s without, alternating rounds; wall and CPU time per transaction.
 */
async function viewCost(lib: Lib, kind: string, store: string): Promise<unknown> {
  const { engineAt } = await import('../src/tools/store-path.js')
  const { Item, Blob } = models(lib)
  const db = await lib.Database.open({ engine: engineAt(store, kind as never), models: [Item, Blob] })
  const items = await Item.list({ count: 1000 })
  let k = 0
  const result: { with: number[]; without: number[]; cpuWith: number[]; cpuWithout: number[] } = { with: [], without: [], cpuWith: [], cpuWithout: [] }
  for (let round = 0; round < 8; round++) {
    const open = round % 2 === 0
    const view = open ? await db.engine.snapshot() : undefined
    let done = 0
    const cpu0 = process.cpuUsage()
    const started = performance.now()
    while (performance.now() - started < 3000) {
      await db.transaction(() => {
        for (let j = 0; j < 100; j++) items[k++ % items.length].n = -k
      })
      done++
    }
    const cpu = process.cpuUsage(cpu0)
    ;(open ? result.with : result.without).push((done * 1000) / (performance.now() - started))
    ;(open ? result.cpuWith : result.cpuWithout).push((cpu.user + cpu.system) / 1000 / done)
    await view?.release()
  }
  await db.close()
  return result
}

function runChild(task: string, kind: string, dir: string, n: number, rawMb: number): Promise<any> {
  if (process.env.BENCH_TOOLS_LOG) console.error(`${new Date().toISOString()} ${kind} ${task}`)
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), task, kind, dir, String(n), String(rawMb)], { stdio: ['ignore', 'pipe', 'inherit'] })
    let out = ''
    proc.stdout.on('data', (d) => (out += d))
    proc.on('close', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`${task} on ${kind} exited with ${code}`))))
  })
}

export async function run(): Promise<void> {
  const { fmt, machine } = await import('./bench-utils.js')
  const n = Number(process.env.BENCH_TOOLS_N ?? 100_000)
  const rawMb = Number(process.env.BENCH_TOOLS_RAW_MB ?? 100)
  const kinds = (process.env.BENCH_TOOLS_ENGINES ?? 'level,lmdb,directory').split(',')
  console.log(`${machine()}; ${new Date().toISOString()}; load average ${(await import('node:os')).loadavg().map((l) => l.toFixed(1)).join(' ')}`)
  console.log(`${fmt(n)} objects (2 indexes, 1 link each) and ${rawMb} MB of raw data (${rawMb} objects of 1 MiB)\n`)
  console.log('| engine | operation | time | CPU | objects/s | MB/s | peak RSS | peak anon RSS | peak file RSS |')
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- |')
  for (const kind of kinds) {
    const dir = mkdtempSync(join(tmpdir(), 'stowage-bench-tools-'))
    try {
      const built = await runChild('build', kind, dir, n, rawMb)
      const storeBytes = diskBytes(storePath(dir, kind))
      const objects = n + rawMb
      const mb = (b: number) => `${Math.round(b / 2 ** 20)} MB`
      const row = (op: string, r: { ms: number; cpuMs: number; rss: number; anon: number; file: number }, bytes: number, own = true) =>
        console.log(
          `| ${kind} | ${op} | ${(r.ms / 1000).toFixed(1)} s | ${own ? `${(r.cpuMs / 1000).toFixed(1)} s` : '-'} | ${fmt(Math.round((objects * 1000) / r.ms))} | ${((bytes / 2 ** 20) * 1000 / r.ms).toFixed(0)} | ${own ? `${mb(r.rss)} | ${mb(r.anon)} | ${mb(r.file)}` : '- | - | -'} |`,
        )
      console.log(`| ${kind} | build (${fmt(n)} objects in transactions of 1,000, then raw data) | ${(built.ms / 1000).toFixed(1)} s | | | | | | |`)
      // cp is another process: its time counts, its CPU and memory are not the child's.
      row(`cp -r (store ${Math.round(storeBytes / 2 ** 20)} MB)`, await runChild('cp', kind, dir, n, rawMb), storeBytes, false)
      if (kind === 'lmdb') row('mdb_copy (lmdb-js backup())', await runChild('mdb_copy', kind, dir, n, rawMb), storeBytes)
      const dumped = await runChild('dump', kind, dir, n, rawMb)
      const dumpBytes = statSync(join(dir, 'dump.jsonl')).size
      row(`dump (file ${Math.round(dumpBytes / 2 ** 20)} MB)`, dumped, dumpBytes)
      for (const copy of ['cp', 'mdbcopy']) rmSync(storePath(dir, kind, copy), { recursive: true, force: true })
      row('restore (same engine)', await runChild('restore', kind, dir, n, rawMb), storeBytes)
      for (const suffix of ['', '-lock', '-owner']) rmSync(storePath(dir, kind, 'restored') + suffix, { recursive: true, force: true })
      row(`copy (to ${kind === 'level' ? 'lmdb' : 'level'})`, await runChild('copy', kind, dir, n, rawMb), storeBytes)
      for (const suffix of ['', '-lock', '-owner']) rmSync(storePath(dir, kind === 'level' ? 'lmdb' : 'level', 'copied') + suffix, { recursive: true, force: true })
      rmSync(join(dir, 'dump.jsonl'), { force: true })
      row('backup (db.backup to a file)', await runChild('backup', kind, dir, n, rawMb), storeBytes)
      rmSync(join(dir, 'backup.jsonl'), { force: true })
      const { rounds } = await runChild('online', kind, dir, n, rawMb)
      const show = (xs: number[]) => xs.map((x) => fmt(Math.round(x))).join(' / ')
      const secs = (xs: number[]) => xs.map((x) => (x / 1000).toFixed(1)).join(' / ')
      const cost = await runChild('view-cost', kind, dir, n, rawMb)
      const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!
      console.log(
        `| ${kind} | app writes with a snapshot held open (no reader) | tx of 100 saves/s: ${show(cost.with)} with, ${show(cost.without)} without (4 + 4 alternating rounds of 3 s); CPU per tx (median) ${median(cost.cpuWith).toFixed(1)} ms with, ${median(cost.cpuWithout).toFixed(1)} ms without | | | | | | |`,
      )
      console.log(
        `| ${kind} | app writes during online backup | tx of 100 saves/s: ${show(rounds.during)} with, ${show(rounds.without)} without (${ROUNDS} alternating rounds); the backups took ${secs(rounds.backupMs)} s | | | | | | |`,
      )
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [task, kind, dir, n, rawMb] = process.argv.slice(2)
  console.log(JSON.stringify(await child(task!, kind!, dir!, Number(n), Number(rawMb))))
}
