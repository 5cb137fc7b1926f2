/**
 * This build beside another build of Stowage, in one process and in alternating rounds, on the
 * same workloads: to show what a change costs, without the ±30% that separate runs give on a
 * shared machine. `BENCH_BASELINE` is the `dist` folder of the other build (e.g. a `git worktree`
 * of an earlier commit, built with `npx tsc -p tsconfig.build.json`). `BENCH_BUILDS_ENGINES` picks
 * engines (comma-separated; default LevelEngine, LmdbEngine, MemoryEngine and LevelEngine (encrypted),
 * a LevelEngine store opened with `encryption`).
 *
 *   BENCH_BASELINE=/tmp/old/dist npm run bench -- builds
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import * as current from '../src/index.js'
import { Person } from './models-person.js'
import { BuildComparison, machine, sampleRecord, type Case } from './bench-utils.js'

const N = Number(process.env.BENCH_RECORDS ?? 50_000)
const TX = 1000

interface Build {
  name: string
  lib: typeof current
  Person: typeof Person
}

export async function run(): Promise<void> {
  const baseline = process.env.BENCH_BASELINE
  if (baseline === undefined) {
    console.log('Set BENCH_BASELINE to the dist folder of the build to compare with (see bench/builds.ts).')
    return
  }
  console.log(`Machine: ${machine()}`)
  console.log(`Date: ${new Date().toISOString()}  Command: BENCH_BASELINE=${baseline} npm run bench -- builds  (${N} objects per store)`)
  const builds: Build[] = [
    {
      name: 'baseline',
      lib: await import(pathToFileURL(join(baseline, 'src', 'index.js')).href),
      Person: (await import(pathToFileURL(join(baseline, 'bench', 'models-person.js')).href)).Person,
    },
    { name: 'this build', lib: current, Person },
  ]
  const dir = mkdtempSync(join(tmpdir(), 'stowage-bench-builds-'))
  const table = new BuildComparison()
  try {
    const records = Array.from({ length: N }, (_, i) => sampleRecord(i))
    for (const engine of (process.env.BENCH_BUILDS_ENGINES?.split(',') ?? ['LevelEngine', 'LmdbEngine', 'MemoryEngine', 'LevelEngine (encrypted)']) as Array<'LevelEngine' | 'LmdbEngine' | 'MemoryEngine' | 'LevelEngine (encrypted)'>) {
      const sides = await Promise.all(
        builds.map(async (b) => {
          const db = await b.lib.Database.open({
            engine:
              engine === 'LevelEngine' || engine === 'LevelEngine (encrypted)'
                ? new b.lib.LevelEngine(join(dir, `${b.name}-${engine}`))
                : engine === 'LmdbEngine'
                  ? new b.lib.LmdbEngine(join(dir, `${b.name}-${engine}.lmdb`))
                  : new b.lib.MemoryEngine(),
            models: [b.Person],
            cache: { max: 0 },
            ...(engine === 'LevelEngine (encrypted)' ? { encryption: { key: 'correct horse battery staple' } } : {}),
          })
          return { build: b, db, oids: [] as string[], next: 0 }
        }),
      )
      const compare = (what: string, units: number, fn: (side: (typeof sides)[number]) => Promise<unknown>) =>
        table.compare(engine, what, sides.map((side) => ({ name: side.build.name, units, fn: () => fn(side) })) as [Case, Case])
      await compare('create+save, transactions of 1,000', TX, (side) =>
        side.db.transaction(async () => {
          for (let j = 0; j < TX; j++) side.oids.push(new side.build.Person(records[side.next++ % N] as never).oid)
        }),
      )
      for (const side of sides) {
        while (side.oids.length < N) {
          await side.db.transaction(async () => {
            for (let j = 0; j < TX; j++) side.oids.push(new side.build.Person(records[side.oids.length % N] as never).oid)
          })
        }
      }
      let seed = 7
      const pick = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) % N
      await compare('get(oid), not in memory (100 per call)', 100, async (side) => {
        for (let j = 0; j < 100; j++) {
          const oid = side.oids[pick()]!
          if ((await side.build.Person.get(oid)) === undefined) throw new Error('missing')
          side.db.identity.delete('Person', oid)
        }
      })
      await compare('update(): one property, one save (100 per call)', 100, async (side) => {
        for (let j = 0; j < 100; j++) {
          const p = (await side.build.Person.get(side.oids[pick()]!))!
          await p.update({ age: 20 + (j % 60) })
        }
      })
      await compare('all() streamed (1,000 per call)', 1000, async (side) => {
        let n = 0
        for await (const _ of side.build.Person.all()) if (++n === 1000) break
      })
      for (const side of sides) await side.db.close()
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
  table.print()
}
