/**
 * `npm run bench -- migrations`: an eager migration of N stored articles (version 1 -> 2, one index
 * affected: the migration rewrites `title`, indexed by `Indexing.normalize`) by `Database.open()`,
 * against a hand-written read-transform-write loop over the same engine doing the same work (the
 * record rewritten at version 2, the title index entry moved, the keys record updated; batches of
 * 256 objects, each one atomic write). Each run is a child process over its own copy of one store
 * (peak RSS is the kernel's VmHWM). Then, in `migrate: 'lazy'` mode, what a get() of an object not
 * yet migrated costs against one already migrated.
 *
 * Environment: BENCH_MIGRATE_N (default 100000), BENCH_MIGRATE_ENGINES=level,lmdb,directory
 * (default level,lmdb), BENCH_MIGRATE_RUNS (default 1).
 */
import { spawn } from 'node:child_process'
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Engine, WriteOp } from '../src/index.js'

type Lib = typeof import('../src/index.js')
const COLLECTION = 'articles'
const BATCH = 256
const LAZY_GETS = 2000

function engineOf(lib: Lib, kind: string, dir: string): Engine {
  if (kind === 'level') return new lib.LevelEngine(join(dir, 'db'))
  if (kind === 'lmdb') return new lib.LmdbEngine(join(dir, 'db.lmdb'))
  if (kind === 'directory') return new lib.DirectoryEngine(join(dir, 'files'))
  throw new Error(`unknown engine ${kind}`)
}

/** The step both sides apply: the title gets the article's section (so its index keys change). */
function migrateTitle(props: { title: string; n: number }): string {
  return `${props.title} / section ${props.n % 10}`
}

function models(lib: Lib) {
  const { Model, Property, Index, Indexing, Types, StoredObject } = lib
  /** Both versions declare the same members; version 2 only rewrites titles. */
  const article = () => {
    class Article extends StoredObject {}
    Property(Types.STRING)(Article.prototype, 'title')
    Index(Indexing.normalize, { version: 1 })(Article.prototype, 'title')
    Property(Types.STRING)(Article.prototype, 'body')
    Property(Types.INTEGER)(Article.prototype, 'n')
    Index(Indexing.value, { version: 1 })(Article.prototype, 'n')
    return Article
  }
  return {
    V1: Model({ collection: COLLECTION })(article()) as any,
    V2: Model({ collection: COLLECTION, version: 2, migrations: { 2: (old: any) => ({ ...old, title: migrateTitle(old) }) } })(article()) as any,
  }
}

function hwm(): number {
  const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'))
  return m ? Number(m[1]) * 1024 : NaN
}

/** In a child: one task over the store in dir; prints its figures as JSON. */
async function child(task: string, kind: string, dir: string, n: number): Promise<unknown> {
  const lib = (await import('../src/index.js')) as Lib
  const { V1, V2 } = models(lib)
  const base = process.memoryUsage().rss
  if (task === 'setup') {
    const db = await lib.Database.open({ engine: engineOf(lib, kind, dir), models: [V1] })
    for (let start = 0; start < n; start += 1000) {
      await db.transaction(async () => {
        for (let i = start; i < Math.min(n, start + 1000); i++) new V1({ title: `Article ${i} about thing ${i % 977}`, body: 'x'.repeat(200), n: i }).save()
      })
    }
    await db.close()
    return {}
  }
  if (task === 'stowage') {
    const t = performance.now()
    const db = await lib.Database.open({ engine: engineOf(lib, kind, dir), models: [V2] })
    const ms = performance.now() - t
    await db.close()
    return { ms, hwm: hwm(), base }
  }
  if (task === 'by-hand') {
    const { encodeKey } = await import('../src/indexes/key-codec.js')
    const { entryPrefix, keysRecordKey } = await import('../src/indexes/layout.js')
    const { readKeysRecord, writeKeysRecord } = await import('../src/indexes/index-writes.js')
    const engine = engineOf(lib, kind, dir)
    const t = performance.now()
    await engine.open()
    const prefix = entryPrefix(COLLECTION, 'title')
    let after: string | undefined
    for (;;) {
      const chunk: [string, any][] = []
      for await (const entry of engine.records(COLLECTION, { ...(after === undefined ? {} : { gt: after }), limit: BATCH })) chunk.push(entry)
      if (chunk.length === 0) break
      after = chunk[chunk.length - 1]![0]
      const keys = await engine.getMany(chunk.map(([oid]) => keysRecordKey(COLLECTION, oid)))
      const ops: WriteOp[] = []
      chunk.forEach(([oid, record], i) => {
        if (record.version === 2) return
        const title = migrateTitle(record.properties)
        const now = Date.now()
        ops.push({ type: 'putRecord', collection: COLLECTION, id: oid, value: { ...record, properties: { ...record.properties, title }, updates: { ...record.updates, title: now }, changed: now, version: 2 } })
        const kr = readKeysRecord(keys[i])
        for (const key of kr.title ?? []) ops.push({ type: 'del', key: prefix + key + '\x00' + oid })
        const next = encodeKey(lib.Indexing.normalize(title) as string)
        ops.push({ type: 'put', key: prefix + next + '\x00' + oid, value: null })
        ops.push({ type: 'put', key: keysRecordKey(COLLECTION, oid), value: writeKeysRecord({ ...kr, title: [next] }) })
      })
      await engine.batch(ops)
      if (chunk.length < BATCH) break
    }
    const ms = performance.now() - t
    await engine.close()
    return { ms, hwm: hwm(), base }
  }
  if (task === 'lazy') {
    // Objects near the end of the collection are read while the pass is at its start.
    const oids: string[] = []
    {
      const engine = engineOf(lib, kind, dir)
      await engine.open()
      for await (const oid of engine.recordIds(COLLECTION)) oids.push(oid)
      await engine.close()
    }
    const late = oids.slice(-LAZY_GETS)
    const early = oids.slice(0, LAZY_GETS)
    const db = await lib.Database.open({ engine: engineOf(lib, kind, dir), models: [V2], migrate: 'lazy', cache: { max: 0 } })
    let t = performance.now()
    for (const oid of late) await V2.get(oid)
    const unmigratedUs = ((performance.now() - t) * 1000) / late.length
    await V2.count() // waits for the pass
    t = performance.now()
    for (const oid of early) await V2.get(oid)
    const migratedUs = ((performance.now() - t) * 1000) / early.length
    await db.close()
    return { unmigratedUs, migratedUs }
  }
  throw new Error(`unknown task ${task}`)
}

function runChild(task: string, kind: string, dir: string, n: number): Promise<any> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), task, kind, dir, String(n)], { stdio: ['ignore', 'pipe', 'inherit'] })
    let out = ''
    proc.stdout.on('data', (d) => (out += d))
    proc.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').pop()!)) : reject(new Error(`${task} on ${kind}: exit code ${code}`))))
  })
}

export async function run(): Promise<void> {
  const { fmt, machine } = await import('./bench-utils.js')
  const n = Number(process.env.BENCH_MIGRATE_N ?? 100_000)
  const runs = Number(process.env.BENCH_MIGRATE_RUNS ?? 1)
  const kinds = (process.env.BENCH_MIGRATE_ENGINES ?? 'level,lmdb').split(',')
  const mb = (b: number) => fmt(b / 2 ** 20)
  console.log(`Machine: ${machine()}`)
  console.log(`Date: ${new Date().toISOString()}  Command: npm run bench -- migrations (${fmt(n)} articles, engines ${kinds.join(', ')}, ${runs} run(s))`)
  const rows: string[] = []
  for (const kind of kinds) {
    const source = mkdtempSync(join(tmpdir(), `stowage-bench-migrate-${kind}-`))
    try {
      await runChild('setup', kind, source, n)
      for (let r = 0; r < runs; r++) {
        const figures: Record<string, any> = {}
        // Alternating order between runs: neither side always gets the warmer page cache.
        for (const task of r % 2 === 0 ? ['stowage', 'by-hand', 'lazy'] : ['by-hand', 'stowage', 'lazy']) {
          const dir = mkdtempSync(join(tmpdir(), `stowage-bench-migrate-${kind}-${task}-`))
          try {
            cpSync(source, dir, { recursive: true })
            figures[task] = await runChild(task, kind, dir, n)
          } finally {
            rmSync(dir, { recursive: true, force: true })
          }
        }
        const s = figures.stowage
        const h = figures['by-hand']
        const l = figures.lazy
        const line =
          `| ${kind} | ${fmt(n / (s.ms / 1000))} | ${fmt(n / (h.ms / 1000))} | ${(h.ms / s.ms).toFixed(2)}x | ${mb(s.hwm)} (${mb(s.base)} before) | ${mb(h.hwm)} (${mb(h.base)} before) | ` +
          `${fmt(l.unmigratedUs)} | ${fmt(l.migratedUs)} |`
        console.log(line)
        rows.push(line)
      }
    } finally {
      rmSync(source, { recursive: true, force: true })
    }
  }
  console.log(`\n${fmt(n)} articles, version 1 -> 2, one index affected:\n`)
  console.log('| engine | Stowage, objects/s | by hand, objects/s | Stowage / by hand | Stowage peak RSS, MB | by hand peak RSS, MB | lazy get() not yet migrated (µs) | get() migrated (µs) |')
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|')
  for (const row of rows) console.log(row)
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [task, kind, dir, n] = process.argv.slice(2)
  console.log(JSON.stringify(await child(task!, kind!, dir!, Number(n))))
}
