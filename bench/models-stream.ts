/**
 * Child process of the models bench: opens a store of Person objects and streams `all()` over it,
 * printing memory samples as JSON, so that what the writing phase left in the parent's heap does not
 * blur the figure. RSS includes LevelDB's memory-mapped table files (page cache the kernel can drop),
 * so anonymous RSS (`RssAnon`, the process's own memory) and the JS heap are reported too.
 */
import { readFileSync } from 'node:fs'
import { Database } from '../src/index.js'
import { Person } from './models-person.js'

const gc = (globalThis as { gc?: () => void }).gc!
const rssAnonMb = (): number => Math.round(Number(/RssAnon:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? 0) / 1024)
const sample = () => ({
  rss: Math.round(process.memoryUsage().rss / 2 ** 20),
  rssAnon: rssAnonMb(),
  heap: Math.round(process.memoryUsage().heapUsed / 2 ** 20),
})

const db = await Database.open({ path: process.argv[2]!, models: [Person] })
gc()
const before = sample()
const peak = { ...before }
let n = 0
for await (const p of Person.all()) {
  if (p.age < 0) throw new Error('impossible')
  if (++n % 10_000 === 0) {
    const s = sample()
    peak.rss = Math.max(peak.rss, s.rss)
    peak.rssAnon = Math.max(peak.rssAnon, s.rssAnon)
    peak.heap = Math.max(peak.heap, s.heap)
  }
}
gc()
await new Promise((r) => setTimeout(r, 100))
gc()
const after = sample()
const tracked = db.identity.size
await db.close()
console.log(JSON.stringify({ n, before, peak, after, tracked }))
