/**
 * `npm run bench -- live-queries`: write throughput with 0, 10 and 1,000 live queries watching
 * results that the writes do not touch (half index views `index('status').get(key).watch()`, half
 * `find({ where: { status: key }, orderBy: { n: 'desc' }, limit: 10 }).watch()`, each on a key of
 * its own), in one process and alternating rounds, on the MemoryEngine (where any CPU the watchers
 * cost shows most) and the LevelEngine; then the latency from a save to the update of a watcher
 * whose results it changes, with the 1,000 others watching.
 *
 * Environment: BENCH_ROUNDS (default 15).
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Database, defineModel, Indexing, LevelEngine, MemoryEngine, StoredObject, Types, type Engine, type Subscription } from '../src/index.js'
import { fmt, interleaved, machine, type Case } from './bench-utils.js'

const WATCHERS = [0, 10, 1000]
const TX = 100

/** A model class of its own per database (a class is bound to one open database at a time). */
function itemModel(collection: string) {
  class Item extends StoredObject {}
  return defineModel(Item, {
    collection,
    properties: { status: Types.STRING, n: Types.INTEGER, title: Types.STRING },
    indexes: { status: { property: 'status', fn: Indexing.value }, n: { property: 'n', fn: Indexing.value } },
  }) as any
}

async function setup(engine: () => Engine, watchers: number, tag: string) {
  const Item = itemModel(`items_${tag}_${watchers}`)
  const db = await Database.open({ engine: engine(), models: [Item] })
  // The same 3,000 objects in every store; each watched key holds 3, so each watcher has results to keep.
  await db.transaction(async () => {
    for (let i = 0; i < 1000; i++) for (let k = 0; k < 3; k++) new Item({ status: `w${i}`, n: k, title: `watched ${i}` }).save()
  })
  const subs: Subscription[] = []
  for (let i = 0; i < watchers; i++) {
    const live = i % 2 === 0 ? Item.index('status').get(`w${i}`).watch() : Item.find({ where: { status: `w${i}` }, orderBy: { n: 'desc' }, limit: 10 }).watch()
    subs.push(live.subscribe(() => {}))
  }
  await new Promise((r) => setTimeout(r, 200)) // every watcher has its first results
  let n = 0
  return {
    Item,
    db,
    one: async () => void (await Item.create({ status: 'busy', n: n++, title: 'a write no watcher sees' })),
    batch: () =>
      db.transaction(async () => {
        for (let i = 0; i < TX; i++) new Item({ status: 'busy', n: n++, title: 'a write no watcher sees' }).save()
      }),
    close: async () => {
      for (const s of subs) s.unsubscribe()
      await db.close()
    },
  }
}

/** Median CPU microseconds per object of each case, over alternating rounds of 200 ms. */
async function cpuPerObject(cases: Case[]): Promise<number[]> {
  const samples = cases.map(() => [] as number[])
  const rounds = Number(process.env.BENCH_ROUNDS ?? 15)
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? cases.map((_, i) => i) : cases.map((_, i) => cases.length - 1 - i)
    for (const i of order) {
      const c = cases[i]!
      const before = process.cpuUsage()
      const start = performance.now()
      let units = 0
      do {
        await c.fn()
        units += c.units
      } while (performance.now() - start < 200)
      const used = process.cpuUsage(before)
      samples[i]!.push((used.user + used.system) / units)
    }
  }
  return samples.map((xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!)
}

async function latency(engine: () => Engine, tag: string): Promise<{ median: number; p95: number }> {
  const s = await setup(engine, 1000, `${tag}_latency`)
  let resolve: (() => void) | undefined
  let expected = 0
  const sub = s.Item.index('status').get('hot').watch().subscribe((items: unknown[]) => {
    if (items.length === expected) resolve?.()
  })
  await new Promise((r) => setTimeout(r, 100))
  const times: number[] = []
  for (let i = 0; i < 200; i++) {
    expected = i + 1
    const updated = new Promise<void>((r) => (resolve = r))
    const t = performance.now()
    await s.Item.create({ status: 'hot', n: i, title: 'seen' })
    await updated
    times.push(performance.now() - t)
  }
  sub.unsubscribe()
  await s.close()
  times.sort((a, b) => a - b)
  return { median: times[Math.floor(times.length / 2)]!, p95: times[Math.floor(times.length * 0.95)]! }
}

export async function run(): Promise<void> {
  console.log(`Machine: ${machine()}`)
  console.log(`Date: ${new Date().toISOString()}  Command: npm run bench -- live-queries`)
  const dir = mkdtempSync(join(tmpdir(), 'stowage-bench-live-'))
  const engines: Array<[string, (w: number) => Engine]> = [
    ['MemoryEngine', () => new MemoryEngine()],
    ['LevelEngine', (w) => new LevelEngine(join(dir, `level-${w}-${Math.random().toString(36).slice(2)}`))],
  ]
  const rows: string[] = []
  try {
    for (const [name, make] of engines) {
      const stores = await Promise.all(WATCHERS.map((w) => setup(() => make(w), w, name)))
      for (const [label, pick, units] of [
        ['save()', (s: Awaited<ReturnType<typeof setup>>) => s.one, 1],
        [`transaction of ${TX} saves`, (s: Awaited<ReturnType<typeof setup>>) => s.batch, TX],
      ] as const) {
        console.log(`${name}, ${label}:`)
        const cases: Case[] = stores.map((s, i) => ({ name: `${WATCHERS[i]} watchers`, units, fn: pick(s) }))
        const results = await interleaved(cases)
        const base = results[0]!.unitsPerSec
        // CPU time per object (the process's, LevelDB's threads included) holds better than wall time on a busy machine.
        const cpu = await cpuPerObject(cases)
        rows.push(
          `| ${name} | ${label} | ${results.map((r, i) => `${fmt(r.unitsPerSec)} (${cpu[i]!.toFixed(1)} µs CPU)`).join(' | ')} | ` +
            `${results.slice(1).map((r) => `${((1 - r.unitsPerSec / base) * 100).toFixed(1)}%`).join(' / ')}; CPU ${cpu.slice(1).map((c) => `${((c / cpu[0]! - 1) * 100).toFixed(1)}%`).join(' / ')} |`,
        )
      }
      for (const s of stores) await s.close()
      const l = await latency(() => make(-1), name)
      rows.push(`| ${name} | save() -> update of a watcher it concerns, 1,000 others watching | median ${l.median.toFixed(2)} ms | p95 ${l.p95.toFixed(2)} ms | | |`)
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
  console.log('\n| engine | writes | 0 watchers: objects/s (CPU per object) | 10 watchers | 1,000 watchers | slower with 10 / 1,000: wall; CPU |')
  console.log('|---|---|---:|---:|---:|---:|')
  for (const row of rows) console.log(row)
}
