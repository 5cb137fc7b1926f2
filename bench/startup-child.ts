/**
 * One fresh process of the startup bench (bench/startup.ts): imports the modules named in its
 * arguments, in order, then prints the time that took and the resident memory after three full
 * garbage collections, as one JSON line. It imports nothing else, so that only they count.
 */
import { readFileSync } from 'node:fs'

export interface Loaded {
  importMs: number
  rss: number
  anon: number
  heap: number
}

const started = performance.now()
for (const m of process.argv.slice(2)) await import(m)
const importMs = performance.now() - started
const gc = (globalThis as { gc?: () => void }).gc
for (let i = 0; i < 3; i++) {
  gc?.()
  await new Promise((resolve) => setTimeout(resolve, 20))
}
const status = readFileSync('/proc/self/status', 'utf8')
const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024
const loaded: Loaded = { importMs, rss: kb('VmRSS'), anon: kb('RssAnon'), heap: process.memoryUsage().heapUsed }
console.log(JSON.stringify(loaded))
