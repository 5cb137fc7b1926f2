import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ClassicLevel } from 'classic-level'
import { Packr } from 'msgpackr'
import type { Engine } from '../src/engine/engine.js'
import { DirectoryEngine } from '../src/engine/directory/directory-engine.js'
import { LevelEngine } from '../src/engine/level/level-engine.js'
import { PACKR_OPTIONS } from '../src/engine/level/msgpack-codec.js'
import { MemoryEngine } from '../src/engine/memory/memory-engine.js'
import { fmt, interleaved, machine, sampleRecord } from './bench-utils.js'
import type { Case, Result } from './bench-utils.js'

const RECORDS = Number(process.env.BENCH_RECORDS ?? 100_000)
const BATCH = 1000
const GETS = 100
const SCAN = 1000
const COLLECTION = 'Bench'
/** Each operation runs the targets in alternating rounds of at least this long (`interleaved`). */
const ROUND_MS = 300

/** The same work on each engine and on raw classic-level + msgpackr. */
interface Target {
  name: string
  putBatch(from: number): Promise<unknown>
  get(id: string): Promise<unknown>
  scan(from: string, limit: number): Promise<number>
  close(): Promise<void>
}

const ids = Array.from({ length: RECORDS }, (_, i) => `o${String(i).padStart(25, '0')}`)
const records = Array.from({ length: RECORDS }, (_, i) => sampleRecord(i))
// One fixed random sequence, the same for every target.
let seed = 42
const random = Array.from({ length: 1 << 16 }, () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) % RECORDS))

function rawClassic(path: string, sharedStructures = false): Target {
  const db = new ClassicLevel<string, Buffer>(path, { keyEncoding: 'utf8', valueEncoding: 'buffer' })
  // Shared structures kept in memory only: the best case for msgpackr's records extension.
  const packr = new Packr(sharedStructures ? ({ ...PACKR_OPTIONS, useRecords: true, structures: [], saveStructures: () => true } as any) : PACKR_OPTIONS)
  return {
    name: sharedStructures ? 'raw classic-level + msgpackr shared structures' : 'raw classic-level + msgpackr',
    putBatch: (from) =>
      db.batch(Array.from({ length: BATCH }, (_, j) => ({ type: 'put' as const, key: ids[(from + j) % RECORDS]!, value: packr.pack(records[(from + j) % RECORDS]) }))),
    get: async (id) => {
      const v = await db.get(id)
      return v === undefined ? undefined : packr.unpack(v)
    },
    scan: async (from, limit) => {
      let n = 0
      for await (const [, v] of db.iterator({ gte: from, limit })) {
        packr.unpack(v)
        n++
      }
      return n
    },
    close: () => db.close(),
  }
}

function engineTarget(name: string, engine: Engine): Target {
  return {
    name,
    putBatch: (from) =>
      engine.batch(Array.from({ length: BATCH }, (_, j) => ({ type: 'putRecord' as const, collection: COLLECTION, id: ids[(from + j) % RECORDS]!, value: records[(from + j) % RECORDS] }))),
    get: (id) => engine.getRecord(COLLECTION, id),
    scan: async (from, limit) => {
      let n = 0
      for await (const _ of engine.records(COLLECTION, { gte: from, limit })) n++
      return n
    },
    close: () => engine.close(),
  }
}

export async function run(): Promise<void> {
  console.log(machine())
  console.log(`${RECORDS} records of ~300 bytes (msgpack), batches of ${BATCH}, ${GETS} random gets per op, scans of ${SCAN}`)
  const dir = mkdtempSync(join(tmpdir(), 'stowage-bench-engines-'))
  const targets: Target[] = []
  try {
    targets.push(rawClassic(join(dir, 'raw')), rawClassic(join(dir, 'raw-structures'), true))
    const level = new LevelEngine(join(dir, 'level'))
    const memory = new MemoryEngine()
    const directory = new DirectoryEngine(join(dir, 'directory'))
    for (const e of [level, memory, directory]) await e.open()
    targets.push(engineTarget('LevelEngine', level), engineTarget('MemoryEngine', memory), engineTarget('DirectoryEngine', directory))

    const fill: Record<string, number> = {}
    for (const t of targets) {
      const start = performance.now()
      for (let from = 0; from < RECORDS; from += BATCH) await t.putBatch(from)
      fill[t.name] = RECORDS / ((performance.now() - start) / 1000)
      console.log(`  fill ${t.name}: ${fmt(fill[t.name]!)} records/s`)
    }

    const byOp: Record<string, Result[]> = {}
    let putFrom = 0
    byOp['batch put'] = await interleaved(targets.map((t): Case => ({ name: `batch put: ${t.name}`, units: BATCH, fn: () => t.putBatch((putFrom += BATCH) % RECORDS) })), ROUND_MS)
    let g = 0
    byOp['random get'] = await interleaved(
      targets.map((t): Case => ({
        name: `random get: ${t.name}`,
        units: GETS,
        fn: async () => {
          for (let k = 0; k < GETS; k++) if ((await t.get(ids[random[g++ & 0xffff]!]!)) === undefined) throw new Error('missing record')
        },
      })),
      ROUND_MS,
    )
    let s = 0
    byOp['range scan'] = await interleaved(
      targets.map((t): Case => ({
        name: `range scan: ${t.name}`,
        units: SCAN,
        fn: async () => {
          const from = random[s++ & 0xffff]! % (RECORDS - SCAN)
          if ((await t.scan(ids[from]!, SCAN)) !== SCAN) throw new Error('short scan')
        },
      })),
      ROUND_MS,
    )

    console.log('\n| target | fill (records/s) | batch put (records/s) | random get (records/s) | range scan (records/s) |')
    console.log('|---|---:|---:|---:|---:|')
    for (const t of targets) {
      const cell = (op: string) => {
        const r = byOp[op]!.find((x) => x.name.endsWith(`: ${t.name}`))!
        return `${fmt(r.unitsPerSec)} (IQR ${r.rme.toFixed(0)}%)`
      }
      console.log(`| ${t.name} | ${fmt(fill[t.name]!)} | ${cell('batch put')} | ${cell('random get')} | ${cell('range scan')} |`)
    }
    const base = targets[0]!.name
    const ratio = (op: string) => {
      const get = (n: string) => byOp[op]!.find((x) => x.name.endsWith(`: ${n}`))!.unitsPerSec
      return ((get('LevelEngine') / get(base)) * 100).toFixed(0) + '%'
    }
    console.log(`\nLevelEngine as % of raw classic-level: batch put ${ratio('batch put')}, random get ${ratio('random get')}, range scan ${ratio('range scan')}`)
  } finally {
    for (const t of targets) await t.close().catch(() => {})
    rmSync(dir, { recursive: true, force: true })
  }
}
