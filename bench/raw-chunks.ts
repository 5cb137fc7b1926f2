import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { LevelEngine } from '../src/engine/level/level-engine.js'
import { fmt, machine, runSuite } from './bench-utils.js'
import type { Case } from './bench-utils.js'

/** LevelEngine raw data throughput (MiB/s) by stored chunk size: stage + commit, and read back. */
export async function run(): Promise<void> {
  console.log(machine())
  const MIB = 1024 * 1024
  const SIZE = 32 // MiB per operation
  const piece = new Uint8Array(64 * 1024).map((_, i) => (i * 31) & 0xff)
  function* source() {
    for (let i = 0; i < (SIZE * MIB) / piece.length; i++) yield piece
  }
  const dir = mkdtempSync(join(tmpdir(), 'stowage-bench-raw-'))
  const cases: Case[] = []
  const engines: LevelEngine[] = []
  try {
    for (const chunk of [64 * 1024, 256 * 1024, 1024 * 1024]) {
      const engine = new LevelEngine(join(dir, String(chunk)), { rawChunkSize: chunk })
      await engine.open()
      engines.push(engine)
      const label = `${chunk / 1024} KiB chunks`
      cases.push({
        name: `write ${label}`,
        units: SIZE,
        fn: async () => engine.batch([{ type: 'putRaw', collection: 'F', id: 'x', staged: await engine.stageRaw('F', 'x', source()) }]),
      })
      cases.push({
        name: `read ${label}`,
        units: SIZE,
        fn: async () => {
          let n = 0
          for await (const c of engine.readRaw('F', 'x', { chunkSize: 64 * 1024 })) n += c.length
          if (n !== SIZE * MIB) throw new Error(`read ${n} bytes`)
        },
      })
    }
    const results = await runSuite(cases, 4)
    console.log('\n| case | MiB/s |\n|---|---:|')
    for (const r of results) console.log(`| ${r.name} | ${fmt(r.unitsPerSec)} ±${r.rme.toFixed(1)}% |`)
  } finally {
    for (const e of engines) await e.close()
    rmSync(dir, { recursive: true, force: true })
  }
}
