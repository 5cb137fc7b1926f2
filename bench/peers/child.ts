/**
 * One system in one process: `node --expose-gc child.js <system> load <dir> <n>` builds the store and
 * runs the workloads; `... reopen <dir> <n> <id as JSON>` opens it again in a fresh process and reads
 * one article. Prints one JSON line of figures (times in ms, memory in bytes).
 */
import { settledRss } from '../settled-rss.js'
import { SYSTEMS } from './systems.js'
import { BATCH, SPAN, articleBatch, queries, type Id } from './workload.js'

const FLUSH_EACH_MAX = Number(process.env.BENCH_PEERS_FLUSH_EACH_MAX ?? 200_000)

async function load(system: string, dir: string, n: number) {
  const peer = await SYSTEMS[system]!.load()
  const q = queries(n)
  const wanted = new Map<number, Id | undefined>(q.gets.map((i) => [i, undefined]))
  wanted.set(q.first, undefined)
  const baseRss = await settledRss()

  const store = await peer.open(dir)
  // Systems that persist by writing a whole file (flush) write it after every batch up to
  // FLUSH_EACH_MAX articles (then the cost grows with the square of n), and once at the end anyway.
  const flushEach = store.flush !== undefined && n <= FLUSH_EACH_MAX
  let insertMs = 0
  let flushesMs = 0
  let lastFlushMs = 0
  for (let start = 0; start < n; start += BATCH) {
    const batch = articleBatch(start, n)
    let t = performance.now()
    const ids = await store.insert(batch)
    insertMs += performance.now() - t
    ids.forEach((id, k) => {
      if (wanted.has(start + k)) wanted.set(start + k, id)
    })
    if (flushEach || (store.flush && start + BATCH >= n)) {
      t = performance.now()
      await store.flush!()
      lastFlushMs = performance.now() - t
      flushesMs += lastFlushMs
    }
  }
  const rssAfterInsert = await settledRss()
  const heapAfterInsert = process.memoryUsage().heapUsed

  let t = performance.now()
  let gotten = 0
  for (const i of q.gets) if (await store.get(wanted.get(i)!)) gotten++
  const getsMs = performance.now() - t

  t = performance.now()
  let lookupFound = 0
  for (const author of q.authors) lookupFound += await store.byAuthor(author)
  const lookupsMs = performance.now() - t

  t = performance.now()
  let rangeFound = 0
  for (const gte of q.ranges) rangeFound += await store.scoreRange(gte, gte + SPAN)
  const rangesMs = performance.now() - t
  const rssAfterReads = await settledRss()

  t = performance.now()
  await store.close()
  const closeMs = performance.now() - t
  return {
    baseRss,
    /** Every batch persisted before the next (for whole-file systems: only when flushEach). */
    insertEachMs: flushEach || !store.flush ? insertMs + flushesMs : undefined,
    /** Persisted once, after the last batch. */
    insertOnceMs: insertMs + lastFlushMs,
    heapAfterInsert,
    rssAfterInsert, getsMs, gotten, lookupsMs, lookupFound, rangesMs, rangeFound, rssAfterReads, closeMs, firstId: wanted.get(q.first) }
}

async function reopen(system: string, dir: string, id: Id) {
  const peer = await SYSTEMS[system]!.load()
  const baseRss = await settledRss()
  const t = performance.now()
  const store = await peer.open(dir)
  const first = await store.get(id)
  const reopenMs = performance.now() - t
  if (!first) throw new Error(`${system}: article ${JSON.stringify(id)} not found after reopening ${dir}`)
  const rssAfterReopen = await settledRss()
  const heapAfterReopen = process.memoryUsage().heapUsed
  await store.close()
  return { baseRss, reopenMs, rssAfterReopen, heapAfterReopen }
}

const [system, phase, dir, n, id] = process.argv.slice(2)
if (!system || !(system in SYSTEMS) || !dir || !n || (phase !== 'load' && phase !== 'reopen')) {
  console.error('usage: child.js <system> load|reopen <dir> <n> [<id as JSON>]')
  process.exit(2)
}
const result = phase === 'load' ? await load(system, dir, Number(n)) : await reopen(system, dir, JSON.parse(id!) as Id)
console.log(JSON.stringify(result))
