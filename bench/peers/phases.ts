/**
 * One system through the peer benchmark's workload in this process, printing its rates as one JSON
 * line: the quick way to compare two builds (run each build's copy in turn, alternating, in fresh
 * processes) or to profile one phase. Stowage is loaded as the package of the tree the script sits
 * in (its entry point, built by `npm run build`): to compare builds, build each in a tree of its
 * own (a `git worktree`).
 *
 *   node --expose-gc <dist>/bench/peers/phases.js <system> [<phase to profile: insert|gets|lookups|ranges> <dir for p.cpuprofile>]
 *
 * Environment: BENCH_PEERS_N (articles, default 100,000).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { Session } from 'node:inspector/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SYSTEMS } from './systems.js'
import { BATCH, SPAN, articleBatch, queries, type Id } from './workload.js'

const [system, profiled, out] = process.argv.slice(2)
if (system === undefined || SYSTEMS[system] === undefined) throw new Error(`Usage: phases.js <${Object.keys(SYSTEMS).join('|')}> [phase dir]`)
const n = Number(process.env.BENCH_PEERS_N ?? 100_000)
const q = queries(n)
const dir = mkdtempSync(join(tmpdir(), 'stowage-phases-'))
const store = await (await SYSTEMS[system]!.load()).open(dir)
const session = new Session()
session.connect()

/** Runs one phase, profiled if asked; its duration in ms. */
async function phase(name: string, fn: () => Promise<void>): Promise<number> {
  if (name === profiled) {
    await session.post('Profiler.enable')
    await session.post('Profiler.setSamplingInterval', { interval: 50 })
    await session.post('Profiler.start')
  }
  const t = performance.now()
  await fn()
  const ms = performance.now() - t
  if (name === profiled) {
    const { profile } = await session.post('Profiler.stop')
    writeFileSync(join(out ?? '.', 'p.cpuprofile'), JSON.stringify(profile))
  }
  return ms
}

const ids: Id[] = []
const insertMs = await phase('insert', async () => {
  for (let start = 0; start < n; start += BATCH) {
    ids.push(...(await store.insert(articleBatch(start, n))))
  }
})
;(globalThis as { gc?: () => void }).gc?.()
let got = 0
const getsMs = await phase('gets', async () => {
  for (const i of q.gets) if (await store.get(ids[i]!)) got++
})
let found = 0
const lookupsMs = await phase('lookups', async () => {
  for (const author of q.authors) found += await store.byAuthor(author)
})
let inRanges = 0
const rangesMs = await phase('ranges', async () => {
  for (const gte of q.ranges) inRanges += await store.scoreRange(gte, gte + SPAN)
})
await store.close()
rmSync(dir, { recursive: true, force: true })
const rate = (count: number, ms: number) => Math.round((count / ms) * 1000)
console.log(JSON.stringify({ system, n, insert: rate(n, insertMs), gets: rate(q.gets.length, getsMs), lookups: rate(q.authors.length, lookupsMs), ranges: rate(q.ranges.length, rangesMs), found: [got, found, inRanges] }))
