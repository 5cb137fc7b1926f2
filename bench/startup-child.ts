/**
 * One fresh process of the startup bench (bench/startup.ts): imports the modules named in its
 * arguments, in order, then prints the time that took and the resident memory after three full
 * garbage collections, as one JSON line. It imports nothing else but node:fs (settled-rss.ts), so
 * that only they count.
 */
import { settledRss } from './settled-rss.js'

export interface Loaded {
  importMs: number
  rss: number
  anon: number
  heap: number
}

const started = performance.now()
for (const m of process.argv.slice(2)) await import(m)
const importMs = performance.now() - started
const { rss, anon } = await settledRss()
const loaded: Loaded = { importMs, rss, anon, heap: process.memoryUsage().heapUsed }
console.log(JSON.stringify(loaded))
