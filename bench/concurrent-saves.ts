/**
 * `npm run bench -- concurrent-saves`: saves made at once (`Promise.all` of N `Model.create()`), as
 * concurrent requests make them, on LevelDB and LMDB: µs per save for N = 1, 10, 100 and 1,000
 * (2,000 saves per N). Saves waiting for the write queue are written as one commit (save-groups.ts).
 * Again with a unique index on one more property: each save then claims a key.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Database, LevelEngine, LmdbEngine, type Engine } from '../src/index.js'
import { machine } from './bench-utils.js'
import { note, noteModel, uniqueNote, uniqueNoteModel } from './single-saves.js'

async function measure(name: string, engine: Engine, unique = false): Promise<string> {
  const Note = unique ? uniqueNoteModel() : noteModel()
  const data = unique ? uniqueNote : note
  const db = await Database.open({ engine, models: [Note] })
  let i = 0
  const cells: string[] = []
  for (const n of [1, 10, 100, 1000]) {
    const rounds = Math.max(2, 2000 / n)
    const t = performance.now()
    for (let r = 0; r < rounds; r++) await Promise.all(Array.from({ length: n }, () => Note.create(data(i++))))
    cells.push(((performance.now() - t) * 1000 / (rounds * n)).toFixed(1))
  }
  await db.close()
  return `| ${name} | ${cells.join(' | ')} |`
}

export async function run(): Promise<void> {
  console.log(`Machine: ${machine()}`)
  console.log(`Date: ${new Date().toISOString()}  Command: npm run bench -- concurrent-saves`)
  const dir = mkdtempSync(join(tmpdir(), 'stowage-bench-concurrent-'))
  try {
    const rows = [
      await measure('LevelEngine', new LevelEngine(join(dir, 'level'))),
      await measure('LmdbEngine', new LmdbEngine(join(dir, 'db.lmdb'))),
      await measure('LevelEngine, the model with a unique index too', new LevelEngine(join(dir, 'level-unique')), true),
      await measure('LmdbEngine, the model with a unique index too', new LmdbEngine(join(dir, 'unique.lmdb')), true),
    ]
    console.log('\nµs per save, N saves made at once:\n\n| engine | N = 1 | N = 10 | N = 100 | N = 1,000 |\n|---|---:|---:|---:|---:|')
    for (const row of rows) console.log(row)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
