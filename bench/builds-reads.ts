/**
 * The peer benchmark's reads (bench/peers: random gets, author lookups, 1% score ranges, with
 * Stowage's defaults, an LRU of 1,000) on this build beside another build, in one process and in
 * alternating rounds, on LMDB and LevelDB: to show what a change to the read path gains without the
 * ±30% that separate runs give on a shared machine. `BENCH_BASELINE` is the `dist` folder of the
 * other build (e.g. a `git worktree` of an earlier commit, built there with `npm run build`: each
 * side's peer loads the package of the tree it sits in, through its entry point, so a build copied
 * elsewhere in this tree would load this tree's bundle). Each side reads its own store of
 * `BENCH_READS_N` articles (default 100,000).
 *
 *   BENCH_BASELINE=/tmp/old/dist npm run bench -- builds-reads
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import * as current from './peers/stowage.js'
import { BuildComparison, fmt, machine, type Case } from './bench-utils.js'
import { article, AUTHORS, rng, SCORE_MAX, SPAN, type Id, type PeerStore } from './peers/workload.js'

const N = Number(process.env.BENCH_READS_N ?? 100_000)
const GETS = 1000
const LOOKUPS = 10
const RANGES = 2

interface Side {
  name: string
  store: PeerStore
  ids: Id[]
}

export async function run(): Promise<void> {
  const baseline = process.env.BENCH_BASELINE
  if (baseline === undefined) {
    console.log('Set BENCH_BASELINE to the dist folder of the build to compare with (see bench/builds-reads.ts).')
    return
  }
  console.log(`Machine: ${machine()}`)
  console.log(`Date: ${new Date().toISOString()}  Command: BENCH_BASELINE=${baseline} npm run bench -- builds-reads  (${fmt(N)} articles per store)`)
  const old = (await import(pathToFileURL(join(baseline, 'bench', 'peers', 'stowage.js')).href)) as typeof current
  const dir = mkdtempSync(join(tmpdir(), 'stowage-bench-builds-reads-'))
  const table = new BuildComparison()
  try {
    for (const engine of ['lmdb', 'level'] as const) {
      const sides: Side[] = []
      for (const [name, peers] of [['baseline', old], ['this build', current]] as const) {
        const store = await peers[engine].open(join(dir, `${name}-${engine}`))
        const ids: Id[] = []
        for (let at = 0; at < N; at += 1000) {
          const batch = []
          for (let i = at; i < Math.min(N, at + 1000); i++) batch.push(article(i))
          ids.push(...(await store.insert(batch)))
        }
        sides.push({ name, store, ids })
      }
      const compare = async (what: string, units: number, fn: (side: Side, r: () => number) => Promise<void>) => {
        const cases = sides.map((side) => {
          const r = rng(11)
          return { name: side.name, units, fn: () => fn(side, r) }
        })
        await table.compare(engine, what, cases as [Case, Case])
      }
      await compare(`get by id (${fmt(GETS)} random per call), objects/s`, GETS, async (side, r) => {
        for (let i = 0; i < GETS; i++) if ((await side.store.get(side.ids[Math.floor(r() * side.ids.length)]!)) === undefined) throw new Error('missing')
      })
      await compare(`author lookups (~${fmt(N / AUTHORS.length)} objects each), lookups/s`, LOOKUPS, async (side, r) => {
        for (let i = 0; i < LOOKUPS; i++) await side.store.byAuthor(AUTHORS[Math.floor(r() * AUTHORS.length)]!)
      })
      await compare('1% score ranges, ranges/s', RANGES, async (side, r) => {
        for (let i = 0; i < RANGES; i++) {
          const gte = Math.floor(r() * (SCORE_MAX - SPAN))
          await side.store.scoreRange(gte, gte + SPAN)
        }
      })
      for (const side of sides) await side.store.close()
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
  table.print()
}
