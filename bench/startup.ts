/**
 * What loading the package costs an app before it opens a store: the time of `import` and the
 * resident memory after it (settled by three full collections), each in a fresh process. Stowage
 * as apps load it (the package entry, the bundle in dist/lib), the same code as one module per
 * source file (dist/src, as tsc writes it), and the native stores users would pick instead.
 *
 *   npm run bench -- startup        (BENCH_STARTUP_RUNS processes per system, default 7)
 */
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { fmt, machine } from './bench-utils.js'
import type { Loaded } from './startup-child.js'

/** The child imports nothing but what it measures (this file's imports would count otherwise). */
const CHILD = fileURLToPath(new URL('./startup-child.js', import.meta.url))
const RUNS = Number(process.env.BENCH_STARTUP_RUNS ?? 7)

/** What each system's app imports. */
const SYSTEMS: Record<string, { label: string; modules: string[] }> = {
  stowage: { label: 'Stowage, the package (dist/lib bundle)', modules: ['stowage'] },
  'stowage-modules': { label: 'Stowage, one module per source file (dist/src)', modules: [new URL('../src/index.js', import.meta.url).href] },
  'stowage-lmdb': { label: 'Stowage, the package, with lmdb loaded', modules: ['lmdb', 'stowage'] },
  lmdb: { label: 'lmdb', modules: ['lmdb'] },
  'classic-level': { label: 'classic-level + msgpackr', modules: ['classic-level', 'msgpackr'] },
  sqlite: { label: 'better-sqlite3', modules: ['better-sqlite3'] },
  none: { label: 'Node alone (nothing imported)', modules: [] },
}

function spawnChild(system: string): Promise<Loaded> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--expose-gc', CHILD, ...SYSTEMS[system]!.modules], (err, stdout, stderr) => {
      if (err) reject(new Error(`${system}: ${err.message}\n${stderr}`))
      else resolve(JSON.parse(stdout.trim().split('\n').pop()!) as Loaded)
    })
  })
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const mb = (bytes: number) => (bytes / 2 ** 20).toFixed(1)

export async function run(): Promise<void> {
  console.log(`Machine: ${machine()}`)
  console.log(`Date: ${new Date().toISOString()}  Command: npm run bench -- startup  (${RUNS} fresh processes per system, taking turns; medians)`)
  const results = new Map<string, Loaded[]>(Object.keys(SYSTEMS).map((s) => [s, []]))
  for (let round = 0; round < RUNS; round++) {
    for (const system of Object.keys(SYSTEMS)) results.get(system)!.push(await spawnChild(system))
  }
  console.log('\n| system | import (ms) | RSS after import (MB) | anonymous (MB) | V8 heap used (MB) |')
  console.log('|---|---:|---:|---:|---:|')
  for (const [system, runs] of results) {
    const m = (f: (r: Loaded) => number) => median(runs.map(f))
    console.log(`| ${SYSTEMS[system]!.label} | ${fmt(m((r) => r.importMs))} | ${mb(m((r) => r.rss))} | ${mb(m((r) => r.anon))} | ${mb(m((r) => r.heap))} |`)
  }
}
