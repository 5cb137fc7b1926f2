// One process of bench/postgres.ts: `node postgres-worker.js <task> <url> <schema> <from> <count>`,
// prints one JSON line { ms, cpuMs } (and, for inserts, the oids it made).
import pg from 'pg'
import { Database, defineModel, Indexing, PostgresEngine, StoredObject, Types } from '../src/index.js'

class Member extends StoredObject {
  declare email: string
  declare name: string
  declare score: number
}
const MemberModel = defineModel(Member, {
  collection: 'members',
  properties: { email: Types.STRING, name: Types.STRING, score: Types.INTEGER },
  indexes: { email: { property: 'email', fn: Indexing.normalize, unique: true }, name: { property: 'name' } },
})

const [task, url, schema, fromText, countText] = process.argv.slice(2) as [string, string, string, string, string]
const from = Number(fromText)
const count = Number(countText)
const member = (i: number) => ({ email: `member${i}@example.com`, name: `Member ${i % 1000}`, score: i })
/** Inserts made before the timed ones (ids of their own), so that the timed ones run on warmed-up code. */
const warmup = Number(process.env.BENCH_WARMUP ?? 0)
/** Ids of the untimed inserts: their own range per worker (workers start at `from` 0, 500, 1000...). */
const WARM_IDS = 50_000_000
/** Inserts made together (BENCH_GROUP): Stowage's saves issued at once (one commit), pg's rows in one INSERT. */
const group = Number(process.env.BENCH_GROUP ?? 1)

/** Runs `insert` over the ids [from, to), `group` at a time. */
async function inGroups(from: number, to: number, insert: (ids: number[]) => Promise<unknown>): Promise<void> {
  for (let i = from; i < to; i += group) await insert(Array.from({ length: Math.min(group, to - i) }, (_, k) => i + k))
}

/**
 * With BENCH_TOGETHER set, a worker says `{"warm":true}` once warmed up and starts its timed part
 * when a line comes on stdin, so that the timed parts of several workers run at the same time.
 */
async function startSignal(): Promise<void> {
  if (!process.env.BENCH_TOGETHER) return
  process.stdout.write('{"warm":true}\n')
  await new Promise<void>((resolve) => process.stdin.once('data', () => resolve()))
  process.stdin.pause()
}

async function timed(fn: () => Promise<void>): Promise<{ ms: number; cpuMs: number }> {
  await startSignal()
  const cpu = process.cpuUsage()
  const t = performance.now()
  await fn()
  const used = process.cpuUsage(cpu)
  return { ms: performance.now() - t, cpuMs: (used.user + used.system) / 1000 }
}

const out: Record<string, unknown> = {}
if (task === 'stowage-insert' || task === 'stowage-get' || task === 'stowage-listen' || task === 'stowage-touch') {
  const db = await Database.open({ engine: new PostgresEngine({ connectionString: url, schema, poolSize: 4 }), models: [MemberModel], cache: { max: 0 } })
  if (task === 'stowage-insert') {
    const oids: string[] = []
    const create = (ids: number[]) => Promise.all(ids.map((i) => MemberModel.create(member(i) as never)))
    await inGroups(WARM_IDS + from * 1000, WARM_IDS + from * 1000 + warmup, create)
    Object.assign(out, await timed(() => inGroups(from, from + count, async (ids) => oids.push(...(await create(ids)).map((m) => m.oid)))))
    out.oids = oids
  } else if (task === 'stowage-get') {
    const oids = JSON.parse(process.env.BENCH_OIDS!) as string[]
    Object.assign(out, await timed(async () => {
      for (let i = 0; i < count; i++) if (!(await MemberModel.get(oids[(from + i * 7919) % oids.length]!))) throw new Error('missing')
    }))
  } else if (task === 'stowage-listen') {
    // Holds one member and reports, for each of its changes by another process, when it was seen here.
    // With BENCH_IDLE set, holds nothing and subscribes to nothing: it only hears commits.
    const held = process.env.BENCH_IDLE ? undefined : (await MemberModel.get(process.env.BENCH_OID!))!
    held?.changes().subscribe(() => process.stdout.write(JSON.stringify({ seen: performance.timeOrigin + performance.now(), score: held.score }) + '\n'))
    process.stdout.write('{"ready":true}\n')
    await new Promise((resolve) => process.stdin.on('end', resolve).resume())
  } else {
    // stowage-touch: saves one member `count` times, reporting when each save began.
    const m = (await MemberModel.get(process.env.BENCH_OID!))!
    for (let i = 1; i <= count; i++) {
      const began = performance.timeOrigin + performance.now()
      m.score = from + i
      await m.save()
      process.stdout.write(JSON.stringify({ began, score: m.score }) + '\n')
      await new Promise((r) => setTimeout(r, 20))
    }
  }
  await db.close()
} else {
  // The same work with pg by hand: one row per member, a unique index on the email and one on the name.
  const pool = new pg.Pool({ connectionString: url, max: 4 })
  if (task === 'pg-insert') {
    const insert = async (ids: number[]) => {
      const rows = ids.map((_, k) => `($${4 * k + 1}, $${4 * k + 2}, $${4 * k + 3}, $${4 * k + 4})`).join(', ')
      const values = ids.flatMap((i) => {
        const m = member(i)
        return [`m${i}`, m.email.toLowerCase(), m.name, JSON.stringify(m)]
      })
      await pool.query(`INSERT INTO "${schema}".members (id, email, name, data) VALUES ${rows}`, values)
    }
    await inGroups(WARM_IDS + from * 1000, WARM_IDS + from * 1000 + warmup, insert)
    Object.assign(out, await timed(() => inGroups(from, from + count, insert)))
  } else {
    Object.assign(out, await timed(async () => {
      const n = Number(process.env.BENCH_ROWS)
      for (let i = 0; i < count; i++) {
        const { rows } = await pool.query(`SELECT data FROM "${schema}".members WHERE id = $1`, [`m${(from + i * 7919) % n}`])
        if (rows.length === 0) throw new Error('missing')
      }
    }))
  }
  await pool.end()
}
process.stdout.write(JSON.stringify(out) + '\n')
