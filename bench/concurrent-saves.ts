/**
 * `npm run bench -- concurrent-saves`: saves made at once (`Promise.all` of N `Model.create()`), as
 * concurrent requests make them, on LevelDB and LMDB: µs per save for N = 1, 10, 100 and 1,000
 * (2,000 saves per N). Saves waiting for the write queue are written as one commit (save-groups.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Database, LevelEngine, LmdbEngine, type Engine } from '../src/index.js'
import { machine } from './bench-utils.js'
import { note, noteModel } from './single-saves.js'

async function measure(name: string, engine: Engine): Promise<string> {
  const Note = noteModel()
  const db = await Database.open({ engine, models: [Note] })
  let i = 0
  const cells: string[] = []
  for (const n of [1, 10, 100, 1000]) {
    const rounds = Math.max(2, 2000 / n)
    const t = performance.now()
    for (let r = 0; r < rounds; r++) await Promise.all(Array.from({ length: n }, () => Note.create(note(i++))))
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
    const rows = [await measure('LevelEngine', new LevelEngine(join(dir, 'level'))), await measure('LmdbEngine', new LmdbEngine(join(dir, 'db.lmdb')))]
    console.log('\nµs per save, N saves made at once:\n\n| engine | N = 1 | N = 10 | N = 100 | N = 1,000 |\n|---|---:|---:|---:|---:|')
    for (const row of rows) console.log(row)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
