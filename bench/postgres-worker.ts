// One process of bench/postgres.ts: `node postgres-worker.js <task> <url> <schema> <from> <count>`,
// prints one JSON line { ms, cpuMs } (and, for Stowage's inserts, the oids it made; for the cases
// that hear each other's commits, how many of the other processes' rows it heard by its end).
import { pack } from 'msgpackr'
import pg from 'pg'
import { batchStatement, LockKeys } from '../src/engine/postgres/postgres-writes.js'
import { Database, PostgresEngine } from '../src/index.js'
import { member, MemberModel } from './postgres-member.js'

const [task, url, schema, fromText, countText] = process.argv.slice(2) as [string, string, string, string, string]
const from = Number(fromText)
const count = Number(countText)
/** Inserts made before the timed ones (ids of their own), so that the timed ones run on warmed-up code. */
const warmup = Number(process.env.BENCH_WARMUP ?? 0)
/** Ids of the untimed inserts: their own range per worker (workers start at `from` 0, 500, 1000...). */
const WARM_IDS = 50_000_000
/** Inserts made together (BENCH_GROUP): Stowage's saves issued at once (one commit), pg's rows in one INSERT. */
const group = Number(process.env.BENCH_GROUP ?? 1)
const NIL = Buffer.from([0xc0])
const MEMBERS = Buffer.from('members')

/** Runs `insert` over the ids [from, to), `group` at a time. */
async function inGroups(from: number, to: number, insert: (ids: number[]) => Promise<unknown>): Promise<void> {
  for (let i = from; i < to; i += group) await insert(Array.from({ length: Math.min(group, to - i) }, (_, k) => i + k))
}

/** The untimed inserts (`warm`), then the timed ones (`insert`) over this worker's ids, into `out`. */
async function warmThenTimed(warm: (ids: number[]) => Promise<unknown>, insert = warm): Promise<void> {
  await inGroups(WARM_IDS + from * 1000, WARM_IDS + from * 1000 + warmup, warm)
  Object.assign(out, await timed(() => inGroups(from, from + count, insert)))
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
    await warmThenTimed(create, async (ids) => oids.push(...(await create(ids)).map((m) => m.oid)))
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
    // With BENCH_ANNOUNCE, each statement also tells every other process of its rows, which each
    // process parses: the least work by which processes hear each other's commits. `notify`: a
    // NOTIFY (delivered on commit), LISTENed to on the connection making the inserts; `log`: a row
    // in a table of changes, which each process reads every 5 ms on a second connection (by id
    // alone, which may miss a commit made out of order: a bound on the cost, not a change feed).
    const announce = process.env.BENCH_ANNOUNCE ? await announcing(url, schema, process.env.BENCH_ANNOUNCE) : undefined
    const insert = async (ids: number[]) => {
      const rows = ids.map((_, k) => `($${4 * k + 1}, $${4 * k + 2}, $${4 * k + 3}, $${4 * k + 4})`).join(', ')
      const values = ids.flatMap((i) => {
        const m = member(i)
        return [`m${i}`, m.email.toLowerCase(), m.name, JSON.stringify(m)]
      })
      const statement = `INSERT INTO "${schema}".members (id, email, name, data) VALUES ${rows}`
      if (announce === undefined) return pool.query(statement, values)
      const payload = JSON.stringify({ o: announce.origin, r: ids.map((i) => ['members', `m${i}`]) })
      const tell = announce.how === 'notify' ? `SELECT pg_notify('${schema}', $${values.length + 1})` : `INSERT INTO "${schema}".changes (payload) VALUES ($${values.length + 1}) RETURNING 1`
      await announce.client.query(`WITH i AS (${statement} RETURNING 1), t AS (${tell}) SELECT (SELECT count(*) FROM i), (SELECT count(*) FROM t)`, [...values, payload])
    }
    await warmThenTimed(insert)
    if (announce !== undefined) {
      out.heard = announce.heard()
      await announce.end()
    }
  } else if (task === 'pg-rows') {
    // Stowage's rows written by hand: the PostgresEngine's batch call of a create (record, two index
    // entries and the keys record, the unique key's lock and check, the notice), built directly,
    // on a connection that LISTENs to the store's notices as the engine's does: Stowage's server work
    // with almost none of its work in the process.
    const locks = new LockKeys(schema)
    const channel = `stowage_${schema}`
    const announce = await announcing(url, channel, 'notify')
    const insert = async (ids: number[]) => {
      const entries: Array<[Buffer, Buffer]> = []
      const records: Array<[Buffer, Buffer, Buffer]> = []
      const claims: Buffer[] = []
      for (const i of ids) {
        const m = member(i)
        const oid = `01m8${i.toString(36).padStart(22, '0')}`
        const email = Buffer.from(`idx\0e\0members\0email\0s${m.email.toLowerCase()}\0${oid}`)
        claims.push(email)
        entries.push([email, NIL], [Buffer.from(`idx\0e\0members\0name\0s${m.name}\0${oid}`), NIL])
        entries.push([Buffer.from(`idx\0k\0members\0${oid}`), pack(`email\0s${m.email.toLowerCase()}\0\0name\0s${m.name}`)])
        const now = Date.now()
        records.push([MEMBERS, Buffer.from(oid), pack({ properties: m, updates: { email: now, name: now, score: now } })])
      }
      entries.sort((a, b) => Buffer.compare(a[0], b[0]))
      records.sort((a, b) => Buffer.compare(a[1], b[1]))
      const payload = JSON.stringify({ o: announce.origin, r: records.map(([, id]) => ['members', id.toString()]) })
      // A create's rows are all new: the engine sends them as such (plain INSERTs).
      const rows = { store: undefined, shared: locks.indexes, locks: claims.map((c) => locks.claim(c)), claims, delKeys: [], putKeys: [], putValues: [], delRecords: [], putRecords: [], newKeys: entries.map((e) => e[0]), newValues: entries.map((e) => e[1]), newRecords: records, channel, payload, targets: [] }
      const { rows: [answer] } = await announce.client.query(batchStatement(`"${schema}"`, schema, rows))
      if (answer.ok !== true) throw new Error('refused')
    }
    await warmThenTimed(insert)
    out.heard = announce.heard()
    await announce.end()
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

/**
 * The connection making the inserts, its process hearing the others' commits as `how` says (see
 * 'pg-insert'): on the channel `schema` names, or from the table of changes of schema `schema`.
 */
async function announcing(url: string, schema: string, how: string): Promise<{ how: string; client: pg.Client; origin: string; heard: () => number; end: () => Promise<void> }> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  const origin = `${process.pid}`
  const own = `{"o":"${origin}",`
  let heard = 0
  const hear = (payload: string) => {
    if (!payload.startsWith(own)) heard += (JSON.parse(payload) as { r: unknown[] }).r.length
  }
  if (how === 'notify') {
    client.on('notification', (message) => hear(message.payload!))
    await client.query(`LISTEN ${schema}`)
    return { how, client, origin, heard: () => heard, end: () => client.end() }
  }
  const reader = new pg.Client({ connectionString: url })
  await reader.connect()
  let last = (await reader.query(`SELECT coalesce(max(id), 0) AS id FROM "${schema}".changes`)).rows[0].id as string
  let stopped = false
  const read = async (): Promise<void> => {
    while (!stopped) {
      const { rows } = await reader.query({ name: 'changes', text: `SELECT id, payload FROM "${schema}".changes WHERE id > $1 ORDER BY id`, values: [last] })
      for (const row of rows) hear(row.payload)
      if (rows.length > 0) last = rows.at(-1).id
      await new Promise((resolve) => setTimeout(resolve, 5))
    }
  }
  const reading = read()
  return { how, client, origin, heard: () => heard, end: async () => {
    stopped = true
    await reading
    await Promise.all([client.end(), reader.end()])
  } }
}
