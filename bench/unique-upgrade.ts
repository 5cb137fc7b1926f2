/**
 * `npm run bench -- unique-upgrade`: the first open of a store written before unique indexes kept
 * claims. Each store holds N notes (`BENCH_UPGRADE_N`, default 100,000) of the model with three
 * indexes and a unique one; its claims are then deleted and its unique index's signature put back
 * as such a store has it. Timed: open + first create, which builds the claims from the index's
 * entries; and, for comparison, `db.reindex()` of the same model, which rebuilds every index from
 * the stored objects (what a changed definition costs). LevelDB and LMDB.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Database, LevelEngine, LmdbEngine, type Engine } from '../src/index.js'
import { claimPrefix, signatureKey, signatureOf } from '../src/indexes/layout.js'
import { metaOf } from '../src/model/meta.js'
import { fmt, machine } from './bench-utils.js'
import { uniqueNote, uniqueNoteModel } from './single-saves.js'

const N = Number(process.env.BENCH_UPGRADE_N ?? 100_000)

async function measure(name: string, engine: () => Engine): Promise<string> {
  const Note = uniqueNoteModel()
  let db = await Database.open({ engine: engine(), models: [Note] })
  for (let i = 0; i < N; i += 1000) {
    await db.transaction(() => {
      for (let j = i; j < Math.min(N, i + 1000); j++) new Note(uniqueNote(j))
    })
  }
  const meta = metaOf(Note)!
  const index = meta.indexes.get('slug')!
  await db.close()

  const raw = engine()
  await raw.open()
  for (;;) {
    const ops: Parameters<typeof raw.batch>[0] = []
    for await (const key of raw.keys({ prefix: claimPrefix(meta.collection, 'slug'), limit: 1000 })) ops.push({ type: 'del', key })
    if (ops.length === 0) break
    await raw.batch(ops)
  }
  await raw.batch([{ type: 'put', key: signatureKey(meta.collection, 'slug'), value: signatureOf(index, false) }])
  await raw.close()

  let t = performance.now()
  db = await Database.open({ engine: engine(), models: [Note] })
  await Note.create(uniqueNote(N))
  const upgrade = performance.now() - t
  t = performance.now()
  await db.reindex([Note])
  const reindex = performance.now() - t
  await db.close()
  return `| ${name} | ${fmt(N)} | ${fmt(upgrade)} | ${fmt(reindex)} |`
}

export async function run(): Promise<void> {
  console.log(`Machine: ${machine()}`)
  console.log(`Date: ${new Date().toISOString()}  Command: npm run bench -- unique-upgrade  (BENCH_UPGRADE_N=${N})`)
  const dir = mkdtempSync(join(tmpdir(), 'stowage-bench-upgrade-'))
  try {
    const rows = [await measure('LevelEngine', () => new LevelEngine(join(dir, 'level'))), await measure('LmdbEngine', () => new LmdbEngine(join(dir, 'db.lmdb')))]
    console.log('\n| engine | objects | first open + create, claims built from the entries (ms) | db.reindex(), every index from the objects (ms) |\n|---|---:|---:|---:|')
    for (const row of rows) console.log(row)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
