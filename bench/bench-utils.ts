import { cpus, totalmem } from 'node:os'
import Benchmark from 'benchmark'

/** One line describing the machine, for RESULTS.md. */
export function machine(): string {
  return `${cpus().length} cores (nproc), ${cpus()[0]?.model ?? 'unknown CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB RAM, Node ${process.version}, ${process.platform}`
}

export interface Case {
  name: string
  /** Work units per call (e.g. records per batch), to report units per second. */
  units: number
  fn: () => Promise<unknown> | unknown
}

export interface Result {
  name: string
  unitsPerSec: number
  rme: number
  samples: number
}

/** Runs cases side by side with `benchmark` (async cases deferred), bounded by `maxTime` seconds each. */
export function runSuite(cases: Case[], maxTime = 3): Promise<Result[]> {
  return new Promise((resolve, reject) => {
    const suite = new Benchmark.Suite()
    for (const c of cases) {
      suite.add(c.name, {
        defer: true,
        maxTime,
        minSamples: 5,
        fn: (deferred: { resolve(): void }) => {
          const r = c.fn()
          if (r && typeof (r as Promise<unknown>).then === 'function') (r as Promise<unknown>).then(() => deferred.resolve(), reject)
          else deferred.resolve()
        },
      })
    }
    const results: Result[] = []
    suite.on('cycle', (ev: { target: Benchmark }) => {
      const t = ev.target
      const c = cases.find((x) => x.name === t.name)!
      const r = { name: t.name!, unitsPerSec: t.hz! * c.units, rme: t.stats!.rme, samples: t.stats!.sample.length }
      results.push(r)
      console.log(`  ${r.name}: ${fmt(r.unitsPerSec)}/s ±${r.rme.toFixed(1)}% (${r.samples} samples)`)
    })
    suite.on('complete', () => resolve(results))
    suite.on('error', (ev: { target: { error: unknown } }) => reject(ev.target.error))
    suite.run({ async: true })
  })
}

/**
 * Runs the cases in alternating rounds (A B, B A, A B...) and reports each one's median rate, so that
 * load that comes and goes on the machine falls on both sides alike. A round repeats a case's call
 * for at least `roundMs`. Comparisons with raw classic-level use it rather than `runSuite`, where
 * the case run second pays for LevelDB's background compaction of the first one's writes.
 */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 15)
export async function interleaved(cases: Case[], roundMs = 150): Promise<Result[]> {
  const rates = cases.map(() => [] as number[])
  for (const c of cases) await c.fn() // warm up
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? cases.map((_, i) => i) : cases.map((_, i) => cases.length - 1 - i)
    for (const i of order) {
      const c = cases[i]!
      const start = performance.now()
      let calls = 0
      do {
        await c.fn()
        calls++
      } while (performance.now() - start < roundMs)
      rates[i]!.push((calls * c.units) / ((performance.now() - start) / 1000))
    }
  }
  return cases.map((c, i) => {
    const sorted = rates[i]!.sort((a, b) => a - b)
    const median = sorted[Math.floor(sorted.length / 2)]!
    const spread = ((sorted[Math.floor(sorted.length * 0.75)]! - sorted[Math.floor(sorted.length * 0.25)]!) / median) * 100
    console.log(`  ${c.name}: ${fmt(median)}/s median of ${sorted.length} rounds (interquartile spread ${spread.toFixed(0)}%)`)
    return { name: c.name, unitsPerSec: median, rme: spread, samples: sorted.length }
  })
}

export function fmt(n: number): string {
  return n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(1)
}

/** A ~300-byte record (as msgpack), varied by `i`. */
export function sampleRecord(i: number): Record<string, unknown> {
  return {
    name: `User number ${i}`,
    email: `user${i}@example.com`,
    age: 20 + (i % 60),
    active: i % 3 !== 0,
    score: i * 1.25,
    created: new Date(1700000000000 + i * 1000),
    tags: ['alpha', 'beta', `t${i % 10}`],
    address: { street: `${i} Main Street`, city: 'Springfield', zip: String(10000 + (i % 90000)) },
    bio: `Bio of user ${i}: `.padEnd(120, 'lorem ipsum dolor sit amet '),
  }
}

/** The record Stowage stores for an object with these properties (values, update times, change time), so raw baselines write the same bytes. */
export function storedForm(properties: Record<string, unknown>): Record<string, unknown> {
  const now = Date.now()
  const updates: Record<string, number> = {}
  for (const key of Object.keys(properties)) updates[key] = now
  return { properties, updates, changed: now }
}

/**
 * The rows of a comparison of this build with a baseline build (bench/builds.ts, builds-reads.ts):
 * `compare` runs the two cases (baseline first) in alternating rounds and keeps a row; `print` prints
 * the table.
 */
export class BuildComparison {
  readonly #rows: string[] = []

  async compare(engine: string, what: string, [baseline, current]: [Case, Case]): Promise<void> {
    console.log(`\n${engine}: ${what}`)
    const [base, mine] = await interleaved([baseline, current], 300)
    this.#rows.push(`| ${engine} | ${what} | ${fmt(base!.unitsPerSec)}/s | ${fmt(mine!.unitsPerSec)}/s | ${Math.round((mine!.unitsPerSec / base!.unitsPerSec) * 100)}% |`)
  }

  print(): void {
    console.log('\n| engine | workload | baseline | this build | this / baseline |')
    console.log('|---|---|---:|---:|---:|')
    for (const row of this.#rows) console.log(row)
  }
}
