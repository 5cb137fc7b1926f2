/**
 * Lookups by key, as an app makes them one request at a time (a login finds an account by email,
 * a page lists a city's accounts): `index('email').one(key)`, `find({ where: { email } }).first()`
 * and `find({ where: { city } }).first()`, on this build beside another build, in one process and
 * in alternating rounds, on LMDB and LevelDB. Both sides are the package as users load it (its
 * bundle, dist/lib), each with the model defined through its own `defineModel`, so that what the
 * bundling does to the code is measured too. `BENCH_BASELINE` is the `dist` folder of the other
 * build (a `git worktree` of an earlier commit, built there with `npm run build`). Each side has its
 * own store of `BENCH_QUERIES_N` accounts (default 20,000).
 *
 *   BENCH_BASELINE=/work/old/dist npm run bench -- builds-queries
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import type * as Stowage from '../src/index.js'
import { BuildComparison, fmt, machine } from './bench-utils.js'

const N = Number(process.env.BENCH_QUERIES_N ?? 20_000)
const CALLS = 200
const CITIES = 5000
/** This tree's package, through its entry point (named through a constant: TypeScript takes the types from the sources). */
const PACKAGE = 'stowage'

type Lib = typeof Stowage
interface Lookups {
  one(key: string): Promise<unknown>
  find(query: { where: Record<string, string> }): { first(): Promise<unknown> }
  index(name: string): { one(key: string): Promise<unknown> }
}

const email = (i: number) => `user${i}@example.org`

async function side(lib: Lib, engine: 'lmdb' | 'level', dir: string) {
  const Account = lib.defineModel(class Account extends lib.StoredObject {}, {
    collection: 'accounts',
    properties: { email: lib.Types.EMAIL, name: lib.Types.STRING, logins: lib.Types.INTEGER, city: lib.Types.STRING },
    indexes: { email: { property: 'email', unique: true }, city: { property: 'city' } },
  }) as unknown as Lookups & (new (props: object) => Stowage.StoredObject)
  const db = await lib.Database.open({ engine: engine === 'lmdb' ? new lib.LmdbEngine(join(dir, 'store.lmdb')) : new lib.LevelEngine(join(dir, 'store')), models: [Account as never] })
  for (let i = 0; i < N; i += 1000) {
    await db.transaction(() => {
      for (let j = i; j < Math.min(N, i + 1000); j++) new Account({ email: email(j), name: `User ${j}`, logins: j % 50, city: `city${j % CITIES}` })
    })
  }
  let k = 0
  /** The i-th call's account: spread over the store. */
  const next = () => (k++ * 7919) % N
  return {
    db,
    cases: {
      "index('email').one(key)": async () => {
        for (let i = 0; i < CALLS; i++) if ((await Account.index('email').one(email(next()))) === undefined) throw new Error('missing')
      },
      'find({ where: { email } }).first()': async () => {
        for (let i = 0; i < CALLS; i++) if ((await Account.find({ where: { email: email(next()) } }).first()) === undefined) throw new Error('missing')
      },
      'find({ where: { city } }).first()': async () => {
        for (let i = 0; i < CALLS; i++) if ((await Account.find({ where: { city: `city${next() % CITIES}` } }).first()) === undefined) throw new Error('missing')
      },
    },
  }
}

export async function run(): Promise<void> {
  const baseline = process.env.BENCH_BASELINE
  if (baseline === undefined) {
    console.log('Set BENCH_BASELINE to the dist folder of the build to compare with (see bench/builds-queries.ts).')
    return
  }
  console.log(`Machine: ${machine()}`)
  console.log(`Date: ${new Date().toISOString()}  Command: BENCH_BASELINE=${baseline} npm run bench -- builds-queries  (${fmt(N)} accounts per store, ${CALLS} calls per round)`)
  const libs: Array<[string, Lib]> = [
    ['baseline', (await import(pathToFileURL(join(baseline, 'lib', 'index.js')).href)) as Lib],
    ['this build', (await import(PACKAGE)) as Lib],
  ]
  const dir = mkdtempSync(join(tmpdir(), 'stowage-bench-builds-queries-'))
  const table = new BuildComparison()
  try {
    for (const engine of ['lmdb', 'level'] as const) {
      const sides = await Promise.all(libs.map(([name, lib]) => side(lib, engine, join(dir, `${name}-${engine}`))))
      for (const what of Object.keys(sides[0]!.cases) as Array<keyof (typeof sides)[number]['cases']>) {
        await table.compare(engine === 'lmdb' ? 'LmdbEngine' : 'LevelEngine', what, [
          { name: 'baseline', units: CALLS, fn: () => sides[0]!.cases[what]() },
          { name: 'this build', units: CALLS, fn: () => sides[1]!.cases[what]() },
        ])
      }
      for (const s of sides) await s.db.close()
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
  table.print()
}
