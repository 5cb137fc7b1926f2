/**
 * PostgresEngine with 1, 2 and 4 writer processes on one store: inserts/s and gets/s in total,
 * against the same work done with pg by hand (one row per object, the same two indexes) and
 * against the LevelEngine in one process; and the latency from a save in one process to its
 * change event (the instance refreshed) in another; the writers again on warmed-up code, beside
 * pg by hand that also tells the other processes of each commit (a NOTIFY, or a change row), as
 * Stowage must, and Stowage's own rows written by hand (the engine's batch calls built directly).
 * Needs a server: STOWAGE_BENCH_POSTGRES_URL. BENCH_POSTGRES_TABLES=steady|grouped|hearing|layout
 * runs one table alone; =turns runs the paired table (not part of the full run: several minutes),
 * BENCH_POSTGRES_ROUNDS rounds per writer count.
 */
import { execFile, spawn } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import pg from 'pg'
import { Database, LevelEngine } from '../src/index.js'
import { member, MemberModel } from './postgres-member.js'
import { layout } from './postgres-layout.js'
import { processCpuMs, ticks } from './proc-stat.js'

const WORKER = join(import.meta.dirname, 'postgres-worker.js')
const INSERTS = 2000
const GETS = 4000
/** The steady-state table: untimed inserts per process, then timed inserts in total. */
const STEADY_WARMUP = 3000
const STEADY_INSERTS = 8000
/** Inserts made together in the grouped table. */
const GROUP = 10
const exec = promisify(execFile)

type Out = { ms: number; cpuMs: number; oids?: string[]; heard?: number }

async function workers(task: string, url: string, schema: string, n: number, total: number, env: Record<string, string> = {}, offset = 0): Promise<{ ms: number; outs: Out[] }> {
  const per = Math.floor(total / n)
  const outs = await Promise.all(
    Array.from({ length: n }, async (_, i) => {
      const { stdout } = await exec(process.execPath, [WORKER, task, url, schema, String(offset + i * per), String(per)], { env: { ...process.env, ...env }, maxBuffer: 64 << 20 })
      return JSON.parse(stdout.trim().split('\n').at(-1)!) as Out
    }),
  )
  // The processes run at once: the work took as long as the slowest (process start and open not counted).
  return { ms: Math.max(...outs.map((o) => o.ms)), outs }
}

async function sql(url: string, text: string): Promise<void> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  await client.query(text)
  await client.end()
}

const rate = (n: number, ms: number) => Math.round((n / ms) * 1000)

/**
 * Empty schemas for one case: `schema` for Stowage, whose schema one process creates first (so that
 * the timed runs do not), and the returned one holding the hand-written table with its two indexes.
 */
async function freshSchemas(url: string, schema: string): Promise<string> {
  const handSchema = `${schema}_hand`
  await sql(url, `DROP SCHEMA IF EXISTS ${schema} CASCADE; DROP SCHEMA IF EXISTS ${handSchema} CASCADE; CREATE SCHEMA ${handSchema}; CREATE TABLE ${handSchema}.members (id text PRIMARY KEY, email text NOT NULL UNIQUE, name text NOT NULL, data jsonb NOT NULL); CREATE INDEX ON ${handSchema}.members (name, id); CREATE TABLE ${handSchema}.changes (id bigserial PRIMARY KEY, payload text NOT NULL)`)
  await workers('stowage-insert', url, schema, 1, 1, {}, 10_000_000)
  return handSchema
}

/**
 * `n` workers making `total` inserts between them, each after `warmup` untimed inserts of its own,
 * their timed parts started together once all are warm; the slowest one's time, and each one's CPU.
 */
async function warmWorkers(task: string, url: string, schema: string, n: number, total: number, warmup: number, env: Record<string, string> = {}): Promise<{ ms: number; outs: Out[] }> {
  const per = Math.floor(total / n)
  const children = Array.from({ length: n }, (_, i) =>
    spawn(process.execPath, [WORKER, task, url, schema, String(i * per), String(per)], { env: { ...process.env, ...env, BENCH_WARMUP: String(warmup), BENCH_TOGETHER: '1' }, stdio: ['pipe', 'pipe', 'inherit'] }),
  )
  let warm = 0
  let go!: () => void
  const allWarm = new Promise<void>((resolve) => (go = resolve))
  const outs = Promise.all(
    children.map(
      (child) =>
        new Promise<Out>((resolve, reject) => {
          let buffer = ''
          child.stdout!.on('data', (d) => {
            buffer += d
            for (let nl = buffer.indexOf('\n'); nl !== -1; nl = buffer.indexOf('\n')) {
              const line = JSON.parse(buffer.slice(0, nl))
              buffer = buffer.slice(nl + 1)
              if (line.warm && ++warm === n) go()
              else if (!line.warm) resolve(line as Out)
            }
          })
          child.on('exit', (code) => code !== 0 && reject(new Error(`${task} worker exited with ${code}`)))
        }),
    ),
  )
  await allWarm
  for (const child of children) child.stdin!.end('go\n')
  const done = await outs
  return { ms: Math.max(...done.map((o) => o.ms)), outs: done }
}

/**
 * CPU time (ms) the server has spent so far, if it runs on this machine (Linux): its postmaster's
 * own and that of its children, ended (counted in the postmaster's cutime/cstime once reaped) or
 * running. Undefined for a remote server or a role that may not read data_directory.
 */
async function serverCpuMs(url: string): Promise<number | undefined> {
  // The backends of workers that just ended exit and are reaped meanwhile: counted once, in cutime.
  await new Promise((resolve) => setTimeout(resolve, 300))
  try {
    const client = new pg.Client({ connectionString: url })
    await client.connect()
    const dir = (await client.query('SHOW data_directory')).rows[0].data_directory as string
    await client.end()
    const postmaster = readFileSync(join(dir, 'postmaster.pid'), 'utf8').split('\n')[0]!
    // Fields after the command: state is 0, ppid 1, utime 11, stime 12, cutime 13, cstime 14.
    let total = ticks(readFileSync(`/proc/${postmaster}/stat`, 'utf8'), 11, 4)
    for (const pid of readdirSync('/proc')) {
      if (!/^\d+$/.test(pid)) continue
      let stat: string
      try {
        stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
      } catch {
        continue // ended meanwhile
      }
      if (stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1] === postmaster) total += ticks(stat, 11, 2)
    }
    return total * 10 // USER_HZ is 100 on Linux
  } catch {
    return undefined
  }
}

export async function run(): Promise<void> {
  const url = process.env.STOWAGE_BENCH_POSTGRES_URL
  if (!url) {
    console.log('Set STOWAGE_BENCH_POSTGRES_URL to a PostgreSQL server this bench may create schemas on.')
    return
  }
  // One table alone, for comparing builds run by turns.
  const only = ({ steady, grouped, hearing, layout, turns } as Record<string, (url: string) => Promise<void>>)[process.env.BENCH_POSTGRES_TABLES ?? '']
  if (only !== undefined) return only(url)
  console.log(`load average before: ${loadavg().map((l) => l.toFixed(2)).join(' ')}; ${INSERTS} inserts and ${GETS} gets in total per case, each process one at a time`)
  console.log('| writers | Stowage inserts/s | pg by hand inserts/s | ratio | Stowage gets/s | pg by hand gets/s | ratio |')
  console.log('| --- | --- | --- | --- | --- | --- | --- |')
  const cpuLines: string[] = []
  for (const n of [1, 2, 4]) {
    const schema = `bench_${process.pid}_${n}`
    const handSchema = await freshSchemas(url, schema)
    const server = [await serverCpuMs(url)]
    const ins = await workers('stowage-insert', url, schema, n, INSERTS)
    server.push(await serverCpuMs(url))
    const hand = await workers('pg-insert', url, handSchema, n, INSERTS)
    server.push(await serverCpuMs(url))
    const oids = ins.outs.flatMap((o) => o.oids ?? []) // the warm-up's member is not among them
    const gets = await workers('stowage-get', url, schema, n, GETS, { BENCH_OIDS: JSON.stringify(oids) })
    const handGets = await workers('pg-get', url, handSchema, n, GETS, { BENCH_ROWS: String(INSERTS) })
    const r = (a: number, b: number) => (a / b).toFixed(2)
    console.log(
      `| ${n} | ${rate(INSERTS, ins.ms)} | ${rate(INSERTS, hand.ms)} | ${r(hand.ms, ins.ms)}x | ${rate(GETS, gets.ms)} | ${rate(GETS, handGets.ms)} | ${r(handGets.ms, gets.ms)}x |`,
    )
    const cpu = (outs: Out[], at: number) => {
      const own = (outs.reduce((sum, o) => sum + o.cpuMs, 0) / INSERTS).toFixed(3)
      const before = server[at]
      const after = server[at + 1]
      return before === undefined || after === undefined ? `${own} ms` : `${own} + ${((after - before) / INSERTS).toFixed(3)} ms`
    }
    cpuLines.push(`${n} writer${n === 1 ? '' : 's'}: Stowage ${cpu(ins.outs, 0)}, by hand ${cpu(hand.outs, 1)}`)
    if (n === 1) await latency(url, schema, oids[0]!)
    await sql(url, `DROP SCHEMA ${schema} CASCADE; DROP SCHEMA ${handSchema} CASCADE`)
  }
  await steady(url)
  await grouped(url)
  await hearing(url)
  await layout(url)
  // On a busy machine the wall figures above move with the load; CPU time per insert much less.
  console.log(`\nCPU time per insert, in the writer processes (user + system, all threads) + in the server (a local one only; its processes' CPU over the timed runs, worker start and open included): ${cpuLines.join('; ')}\n`)
  await level()
  console.log(`load average after: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`)
}

/**
 * The table's writers again on warmed-up code, as processes of a service that has run for a while:
 * each makes STEADY_WARMUP untimed inserts first, then all make STEADY_INSERTS timed ones between
 * them, started together (the table above times processes while V8 still compiles their code). Its
 * one-writer row is the warmed-up single writer.
 */
async function steady(url: string): Promise<void> {
  console.log(`\nThe same writers on warmed-up code: ${STEADY_WARMUP} untimed inserts in each process, then ${STEADY_INSERTS} timed in total, started together`)
  await warmTable(url, 'steady', {})
}

/**
 * The steady-state table with inserts made GROUP at a time: Stowage's saves issued together (one
 * Promise.all of creates: one batch, one commit, one notice), pg's rows in one INSERT statement.
 */
async function grouped(url: string): Promise<void> {
  console.log(`\nThe same, ${GROUP} inserts at a time: Stowage's creates issued together (one commit), pg's rows in one INSERT`)
  await warmTable(url, 'grouped', { BENCH_GROUP: String(GROUP) })
}

/**
 * A case that hears the others' commits (its workers report `heard`) must have heard some when
 * several workers ran, or it measured less than it says.
 */
function checkHeard(outs: Out[], label: string): void {
  if (outs.length > 1 && outs.some((o) => o.heard === 0)) throw new Error(`${label}: a worker heard none of the others' rows`)
}

async function warmTable(url: string, name: string, env: Record<string, string>): Promise<void> {
  // pg by hand whose every statement also tells the other processes of its rows, which each parses:
  // by NOTIFY (LISTENed to), or by a row in a table of changes (read every 5 ms): the least work by
  // which processes hear each other's commits either way.
  // Stowage's rows by hand: the engine's batch calls built directly (bench/postgres-worker.ts, pg-rows).
  console.log('| writers | Stowage inserts/s | pg by hand inserts/s | ratio | by hand + NOTIFY | its ratio to by hand | by hand + change row | its ratio to by hand | Stowage\'s rows by hand | its ratio to by hand | Stowage CPU per insert, ms (process + server) | by hand | by hand + NOTIFY | by hand + change row | Stowage\'s rows by hand |')
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |')
  for (const n of [1, 2, 4]) {
    const schema = `bench_${process.pid}_${name}_${n}`
    const handSchema = await freshSchemas(url, schema)
    const cpu = async (task: string, on: string, more: Record<string, string> = {}) => {
      const before = await serverCpuMs(url)
      const { ms, outs } = await warmWorkers(task, url, on, n, STEADY_INSERTS, STEADY_WARMUP, { ...env, ...more })
      checkHeard(outs, `${task} ${JSON.stringify(more)}`)
      const after = await serverCpuMs(url)
      const own = outs.reduce((sum, o) => sum + o.cpuMs, 0) / STEADY_INSERTS
      // The server's time covers the untimed inserts too: per insert made.
      const server = before === undefined || after === undefined ? '' : ` + ${((after - before) / (STEADY_INSERTS + n * STEADY_WARMUP)).toFixed(3)}`
      return { ms, text: `${own.toFixed(3)}${server}` }
    }
    const stowage = await cpu('stowage-insert', schema)
    const hand = await cpu('pg-insert', handSchema)
    await sql(url, `TRUNCATE ${handSchema}.members`)
    const notified = await cpu('pg-insert', handSchema, { BENCH_ANNOUNCE: 'notify' })
    await sql(url, `TRUNCATE ${handSchema}.members`)
    const logged = await cpu('pg-insert', handSchema, { BENCH_ANNOUNCE: 'log' })
    const rowsSchema = `${schema}_rows`
    await workers('stowage-insert', url, rowsSchema, 1, 1, {}, 10_000_000) // the engine's schema and batch function
    const rows = await cpu('pg-rows', rowsSchema)
    const ratio = (of: { ms: number }) => `${(hand.ms / of.ms).toFixed(2)}x`
    console.log(
      `| ${n} | ${rate(STEADY_INSERTS, stowage.ms)} | ${rate(STEADY_INSERTS, hand.ms)} | ${ratio(stowage)} | ${rate(STEADY_INSERTS, notified.ms)} | ${ratio(notified)} | ${rate(STEADY_INSERTS, logged.ms)} | ${ratio(logged)} | ${rate(STEADY_INSERTS, rows.ms)} | ${ratio(rows)} | ${stowage.text} | ${hand.text} | ${notified.text} | ${logged.text} | ${rows.text} |`,
    )
    await sql(url, `DROP SCHEMA ${schema} CASCADE; DROP SCHEMA ${handSchema} CASCADE; DROP SCHEMA ${rowsSchema} CASCADE`)
  }
}

/** The paired table: rounds per writer count, and each case's inserts (timed in total, untimed per process). */
const TURN_ROUNDS = Number(process.env.BENCH_POSTGRES_ROUNDS ?? 6)
const TURN_INSERTS = 4000
const TURN_WARMUP = 1500

/**
 * Stowage and the two hand-written cases that bound it, run by turns (the order reversed every
 * other round), so that each round's ratios compare runs made within seconds of each other: on a
 * machine whose speed moves by a third within minutes, only paired ratios tell where a figure
 * stands. Plain inserts are the reference; hand-written inserts that NOTIFY, each process
 * LISTENing and parsing the others' notices, are the least work that meets its other demand (every
 * process hears the others' commits), so no code that meets it can be expected above their ratio.
 */
async function turns(url: string): Promise<void> {
  console.log(`\nBy turns, ${TURN_ROUNDS} rounds per row: ${TURN_WARMUP} untimed inserts in each process, then ${TURN_INSERTS} timed in total; load average before ${loadavg().map((l) => l.toFixed(2)).join(' ')}`)
  console.log('| writers | by hand + NOTIFY / plain, each round | median | rounds at 0.6x or more | Stowage / plain, each round | median | rounds at 0.6x or more | Stowage / by hand + NOTIFY, median | plain inserts/s, median |')
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- |')
  const median = (v: number[]) => [...v].sort((a, b) => a - b)[v.length >> 1]!
  for (const n of [1, 2, 4]) {
    const ms: Record<'plain' | 'notify' | 'stowage', number[]> = { plain: [], notify: [], stowage: [] }
    for (let round = 0; round < TURN_ROUNDS; round++) {
      const schema = `bench_${process.pid}_turns_${n}`
      const handSchema = await freshSchemas(url, schema)
      const cases = [
        ['plain', () => warmWorkers('pg-insert', url, handSchema, n, TURN_INSERTS, TURN_WARMUP)],
        ['notify', () => warmWorkers('pg-insert', url, handSchema, n, TURN_INSERTS, TURN_WARMUP, { BENCH_ANNOUNCE: 'notify' })],
        ['stowage', () => warmWorkers('stowage-insert', url, schema, n, TURN_INSERTS, TURN_WARMUP)],
      ] as const
      for (const [name, go] of round % 2 === 0 ? cases : [...cases].reverse()) {
        await sql(url, `TRUNCATE ${handSchema}.members`)
        const { ms: took, outs } = await go()
        checkHeard(outs, name)
        ms[name].push(took)
      }
      await sql(url, `DROP SCHEMA ${schema} CASCADE; DROP SCHEMA ${handSchema} CASCADE`)
    }
    const ratios = (of: number[], to: number[]) => of.map((m, i) => to[i]! / m)
    const notify = ratios(ms.notify, ms.plain)
    const stowage = ratios(ms.stowage, ms.plain)
    const list = (v: number[]) => v.map((r) => r.toFixed(2)).join(' / ')
    const atLeast = (v: number[]) => `${v.filter((r) => r >= 0.6).length} of ${v.length}`
    console.log(
      `| ${n} | ${list(notify)} | ${median(notify).toFixed(2)}x | ${atLeast(notify)} | ${list(stowage)} | ${median(stowage).toFixed(2)}x | ${atLeast(stowage)} | ${median(ratios(ms.stowage, ms.notify)).toFixed(2)}x | ${rate(TURN_INSERTS, median(ms.plain))} |`,
    )
  }
}

/**
 * What hearing another process's commits costs a process: the CPU of a listening process over
 * HEARD inserts made one at a time by another, per commit, holding nothing, then holding one
 * object whose `changes()` it subscribes to (other objects' records need not be read back for it).
 */
async function hearing(url: string): Promise<void> {
  const HEARD = 3000
  console.log(`\nA process hearing another's ${HEARD} inserts (one at a time): its CPU per commit heard`)
  console.log('| listening process | CPU per commit heard (µs) |')
  console.log('| --- | ---: |')
  for (const idle of [true, false]) {
    const schema = `bench_${process.pid}_hearing_${idle ? 'idle' : 'held'}`
    await sql(url, `DROP SCHEMA IF EXISTS ${schema} CASCADE`)
    const { stdout } = await exec(process.execPath, [WORKER, 'stowage-insert', url, schema, '0', '1'])
    const oid = (JSON.parse(stdout) as { oids: string[] }).oids[0]!
    const listener = spawn(process.execPath, [WORKER, 'stowage-listen', url, schema, '0', '0'], {
      env: { ...process.env, BENCH_OID: oid, ...(idle ? { BENCH_IDLE: '1' } : {}) },
      stdio: ['pipe', 'pipe', 'inherit'],
    })
    await new Promise((resolve) => listener.stdout!.once('data', resolve))
    await new Promise((resolve) => setTimeout(resolve, 500))
    const before = processCpuMs(listener.pid!)!
    await exec(process.execPath, [WORKER, 'stowage-insert', url, schema, '100', String(HEARD)], { maxBuffer: 64 << 20 })
    await new Promise((resolve) => setTimeout(resolve, 500))
    const used = processCpuMs(listener.pid!)! - before
    listener.stdin!.end()
    await new Promise((resolve) => listener.once('exit', resolve))
    console.log(`| ${idle ? 'holding nothing, no stream' : "holding one object, its changes() subscribed"} | ${Math.round((used / HEARD) * 1000)} |`)
    await sql(url, `DROP SCHEMA ${schema} CASCADE`)
  }
}

/** From the start of a save in one process to the change event of the instance held in another. */
async function latency(url: string, schema: string, oid: string): Promise<void> {
  const listener = spawn(process.execPath, [WORKER, 'stowage-listen', url, schema, '0', '0'], { env: { ...process.env, BENCH_OID: oid }, stdio: ['pipe', 'pipe', 'inherit'] })
  const seen = new Map<number, number>()
  let buffer = ''
  const ready = new Promise<void>((resolve) =>
    listener.stdout!.on('data', (d) => {
      buffer += d
      for (let nl = buffer.indexOf('\n'); nl !== -1; nl = buffer.indexOf('\n')) {
        const line = JSON.parse(buffer.slice(0, nl))
        buffer = buffer.slice(nl + 1)
        if (line.ready) resolve()
        else seen.set(line.score, line.seen)
      }
    }),
  )
  await ready
  const { stdout } = await exec(process.execPath, [WORKER, 'stowage-touch', url, schema, '100000', '50'], { env: { ...process.env, BENCH_OID: oid } })
  await new Promise((r) => setTimeout(r, 300))
  listener.stdin!.end()
  const delays = stdout.trim().split('\n').map((l) => JSON.parse(l)).filter((l) => l.began !== undefined).map((l) => seen.get(l.score)! - l.began).filter(Number.isFinite).sort((a, b) => a - b)
  const at = (q: number) => delays[Math.min(delays.length - 1, Math.floor(q * delays.length))]!.toFixed(1)
  console.log(`\ncommit-to-refresh latency (save begun in one process -> change event of the held instance in another), ${delays.length} of 50 saves seen: median ${at(0.5)} ms, p90 ${at(0.9)} ms, max ${at(1)} ms\n`)
}

/** The same inserts and gets on the LevelEngine in one process. */
async function level(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'stowage-bench-pg-'))
  const db = await Database.open({ engine: new LevelEngine(join(dir, 'db')), models: [MemberModel], cache: { max: 0 } })
  let t = performance.now()
  const oids: string[] = []
  for (let i = 0; i < INSERTS; i++) oids.push((await MemberModel.create(member(i) as never)).oid)
  const insMs = performance.now() - t
  t = performance.now()
  for (let i = 0; i < GETS; i++) await MemberModel.get(oids[(i * 7919) % oids.length]!)
  const getMs = performance.now() - t
  console.log(`LevelEngine, one process, same work: ${rate(INSERTS, insMs)} inserts/s, ${rate(GETS, getMs)} gets/s (gets partly answered by live instances not yet collected)`)
  await db.close()
  rmSync(dir, { recursive: true, force: true })
}
