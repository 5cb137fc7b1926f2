/**
 * Author lookups and 1% ranges on a store that already holds the articles, in a process that only
 * reads: the steady state of an app reading a large store, without the insert phase's garbage and
 * identity-map entries. The first call builds the store in `<dir>` and exits; later calls open it,
 * warm up (30 lookups, 3 ranges) and time 300 lookups and 30 ranges. Prints one JSON line. To
 * compare two builds, run each build's copy on the same directory in turn, alternating.
 *
 *   node --expose-gc <dist>/bench/peers/steady-reads.js <system> <dir>
 *
 * Environment: BENCH_PEERS_N (articles, default 1,000,000).
 */
import { existsSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { SYSTEMS } from './systems.js'
import { BATCH, SPAN, articleBatch, queries } from './workload.js'

const [system, dir] = process.argv.slice(2)
if (system === undefined || SYSTEMS[system] === undefined || dir === undefined) throw new Error(`Usage: steady-reads.js <${Object.keys(SYSTEMS).join('|')}> <dir>`)
const n = Number(process.env.BENCH_PEERS_N ?? 1_000_000)
const built = join(dir, 'built')
const fresh = !existsSync(built)
mkdirSync(dir, { recursive: true })
const store = await (await SYSTEMS[system]!.load()).open(dir)
if (fresh) {
  for (let start = 0; start < n; start += BATCH) {
    await store.insert(articleBatch(start, n))
  }
  await store.flush?.()
  await store.close()
  mkdirSync(built)
  console.log(JSON.stringify({ system, n, built: dir }))
} else {
  const q = queries(n)
  for (let i = 0; i < 30; i++) await store.byAuthor(q.authors[i]!)
  for (let i = 0; i < 3; i++) await store.scoreRange(q.ranges[i]!, q.ranges[i]! + SPAN)
  let found = 0
  const cpu = process.cpuUsage()
  let t = performance.now()
  for (let i = 30; i < 330; i++) found += await store.byAuthor(q.authors[i]!)
  const lookups = 300 / ((performance.now() - t) / 1000)
  t = performance.now()
  for (let i = 3; i < 33; i++) found += await store.scoreRange(q.ranges[i]!, q.ranges[i]! + SPAN)
  const ranges = 30 / ((performance.now() - t) / 1000)
  const used = process.cpuUsage(cpu)
  await store.close()
  /** CPU time of both timed parts per object found (steadier than the rates where other work shares the machine). */
  const cpuUsPerObject = Number(((used.user + used.system) / found).toFixed(2))
  console.log(JSON.stringify({ system, n, lookups: Math.round(lookups), ranges: Number(ranges.toFixed(1)), cpuUsPerObject, found }))
}
