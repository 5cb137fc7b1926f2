/**
 * One query of bench/queries.ts on one system, in a loop, for profiling:
 * `npm run build && node --cpu-prof --cpu-prof-dir=/tmp/prof dist/bench/queries-profile.js <query> <find|hand> [seconds] [level|lmdb]`
 * (BENCH_RECORDS articles, default 100k). Loads the articles, then runs the query with the same
 * parameter sequence as the bench for `seconds` (default 10) and prints its rate.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { ClassicLevel } from 'classic-level'
import { LevelEngine, LmdbEngine } from '../src/index.js'
import { fmt } from './bench-utils.js'
import { article } from './peers/workload.js'
import { LevelArticle, LmdbArticle, handWritten, openStowage, stowageFind, type QueryName } from './queries-systems.js'
import { drawParams } from './queries-params.js'

const [query, which, seconds = '10', engineName = 'level'] = process.argv.slice(2) as [QueryName, 'find' | 'hand', string?, string?]
const N = Number(process.env.BENCH_RECORDS ?? 100_000)
const dir = mkdtempSync(join(tmpdir(), 'stowage-bench-queries-profile-'))
try {
  const articles = Array.from({ length: N }, (_, i) => article(i))
  const lmdb = engineName === 'lmdb'
  const model = lmdb ? LmdbArticle : LevelArticle
  const db = await openStowage(model, lmdb ? new LmdbEngine(join(dir, 'lmdb')) : new LevelEngine(join(dir, 'level')), articles)
  if (!lmdb) await ((db.engine as LevelEngine).db as ClassicLevel<string, unknown>).compactRange('\u0000', '\uffff')
  const system = which === 'find' ? stowageFind(model) : handWritten(model, false)
  const params = drawParams()
  let calls = 0
  const start = performance.now()
  while (performance.now() - start < Number(seconds) * 1000) await system[query](params[calls++ % params.length]!)
  console.log(`${which} ${query} on ${engineName}: ${fmt(calls / ((performance.now() - start) / 1000))} queries/s`)
  await db.close()
} finally {
  rmSync(dir, { recursive: true, force: true })
}
