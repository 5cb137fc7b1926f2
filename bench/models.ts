/**
 * Model layer figures (issue 3), beside raw classic-level + msgpackr doing the same work in the same run:
 * create+save in transactions of 1,000; get(oid) of an object not in memory; get(oid) of a cached
 * object; memory per cached object; RSS while streaming all() over 1,000,000 objects.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ClassicLevel } from 'classic-level'
import { Packr } from 'msgpackr'
import { execFileSync } from 'node:child_process'
import { Database, LevelEngine } from '../src/index.js'
import { Person } from './models-person.js'
import { PACKR_OPTIONS } from '../src/engine/level/msgpack-codec.js'
import { newOid } from '../src/model/oid.js'
import { fmt, interleaved, machine, runSuite, sampleRecord, storedForm } from './bench-utils.js'


const N = Number(process.env.BENCH_RECORDS ?? 100_000)
const STREAM_N = Number(process.env.BENCH_STREAM ?? 1_000_000)
const TX = 1000

const gc = (globalThis as { gc?: () => void }).gc

function heapAfterGc(): number {
  gc?.()
  gc?.()
  return process.memoryUsage().heapUsed
}

export async function run(): Promise<void> {
  console.log(`Machine: ${machine()}`)
  console.log(`Date: ${new Date().toISOString()}  Command: npm run bench -- models  (${N} objects; all() over ${STREAM_N})`)
  if (!gc) console.log('(run with node --expose-gc for the memory figures: npm run bench does)')
  const dir = mkdtempSync(join(tmpdir(), 'stowage-bench-models-'))
  try {
    const records = Array.from({ length: N }, (_, i) => sampleRecord(i))
    const packr = new Packr(PACKR_OPTIONS)
    const raw = new ClassicLevel<string, Buffer>(join(dir, 'raw'), { keyEncoding: 'utf8', valueEncoding: 'buffer' })
    const db = await Database.open({ path: join(dir, 'stowage'), models: [Person], cache: { max: 0 } })
    const rawIds: string[] = []
    const oids: string[] = []
    let nextRaw = 0
    let nextObj = 0

    console.log('\ncreate+save, transactions of 1,000 (objects/s):')
    const writes = await interleaved(
      [
        {
          name: 'raw classic-level batch put + msgpackr',
          units: TX,
          fn: () => {
            const ops = []
            for (let j = 0; j < TX; j++) {
              const id = newOid()
              rawIds.push(id)
              ops.push({ type: 'put' as const, key: 'Person!' + id, value: packr.pack(storedForm(records[nextRaw++ % N]!)) })
            }
            return raw.batch(ops)
          },
        },
        {
          name: 'Stowage create+save in db.transaction',
          units: TX,
          fn: () =>
            db.transaction(async () => {
              for (let j = 0; j < TX; j++) {
                const p = new Person(records[nextObj++ % N] as never)
                oids.push(p.oid)
              }
            }),
        },
      ],
      300,
    )
    // Fill both stores to N so reads pick among the same number of records.
    while (rawIds.length < N) {
      const ops = []
      for (let j = 0; j < TX; j++) {
        const id = newOid()
        rawIds.push(id)
        ops.push({ type: 'put' as const, key: 'Person!' + id, value: packr.pack(storedForm(records[rawIds.length % N]!)) })
      }
      await raw.batch(ops)
    }
    while (oids.length < N) {
      await db.transaction(async () => {
        for (let j = 0; j < TX; j++) oids.push(new Person(records[oids.length % N] as never).oid)
      })
    }
    // Compact both stores first, so that neither is read while LevelDB is still compacting the writes above.
    await raw.compactRange('\u0000', '\uffff')
    await ((db.engine as LevelEngine).db as ClassicLevel<string, Buffer>).compactRange('\u0000', '\uffff')
    heapAfterGc()

    let seed = 7
    const pick = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) % N
    console.log('\nget(oid) of an object not in memory (gets/s, 100 per call):')
    const reads = await interleaved(
      [
        {
          name: 'raw classic-level get + msgpackr unpack',
          units: 100,
          fn: async () => {
            for (let j = 0; j < 100; j++) packr.unpack((await raw.get('Person!' + rawIds[pick()]!))!)
          },
        },
        {
          name: 'Stowage Person.get(oid), not in memory',
          units: 100,
          fn: async () => {
            for (let j = 0; j < 100; j++) {
              const oid = oids[pick()]!
              const p = await Person.get(oid)
              if (p === undefined) throw new Error('missing')
              db.identity.delete('Person', oid) // keep it out of memory for the next read
            }
          },
        },
      ],
      300,
    )

    console.log('\nget(oid) of a cached object (gets/s, 10,000 per sample):')
    const hot = (await Person.get(oids[0]!))!
    const cached = await runSuite(
      [
        {
          name: 'Stowage Person.get(oid), cached',
          units: 10_000,
          fn: async () => {
            for (let j = 0; j < 10_000; j++) if ((await Person.get(hot.oid)) !== hot) throw new Error('identity')
          },
        },
      ],
      3,
    )
    await db.close()
    await raw.close()

    const perObject = await memoryPerCachedObject(join(dir, 'stowage'), oids.slice(0, 50_000))
    const stream = await streamAll(join(dir, 'stream'), STREAM_N)

    const r = (name: string, list: { name: string; unitsPerSec: number }[]) => list.find((x) => x.name.startsWith(name))!.unitsPerSec
    const wRaw = r('raw', writes)
    const wSto = r('Stowage', writes)
    const gRaw = r('raw', reads)
    const gSto = r('Stowage', reads)
    console.log('\n| workload | raw classic-level + msgpackr | Stowage (LevelEngine) | Stowage / raw | goal |')
    console.log('|---|---|---|---|---|')
    console.log(`| create+save, transactions of 1,000 | ${fmt(wRaw)}/s | ${fmt(wSto)}/s | ${((wSto / wRaw) * 100).toFixed(0)}% | >= 50% |`)
    console.log(`| get(oid), not in memory | ${fmt(gRaw)}/s | ${fmt(gSto)}/s | ${((gSto / gRaw) * 100).toFixed(0)}% | >= 60% |`)
    console.log(`| get(oid), cached | | ${fmt(cached[0]!.unitsPerSec)}/s | | >= 2,000,000/s |`)
    console.log(`| heap per cached object (9 properties, ~300 B record) | | ${fmt(perObject)} B | | |`)
    for (const k of ['rss', 'rssAnon', 'heap'] as const) {
      const what = { rss: 'RSS', rssAnon: 'anonymous RSS', heap: 'JS heap' }[k]
      console.log(`| ${what} streaming all() over ${fmt(STREAM_N)} objects (MB) | | before ${stream.before[k]}, peak ${stream.peak[k]}, after ${stream.after[k]} | | flat |`)
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/** Heap held per object kept by the LRU: load `oids` with a cache as large, divide the heap growth. */
async function memoryPerCachedObject(path: string, oids: string[]): Promise<number> {
  const db = await Database.open({ path, models: [Person], cache: { max: oids.length } })
  const before = heapAfterGc()
  for (let i = 0; i < oids.length; i += 1000) await db.loadMany(db.model('Person')!, oids.slice(i, i + 1000))
  const after = heapAfterGc()
  await db.close()
  return (after - before) / oids.length
}

/** Writes `count` objects, then streams all() over them in a fresh child process that samples its memory. */
async function streamAll(path: string, count: number): Promise<StreamMemory> {
  const db = await Database.open({ path, models: [Person] })
  const base = sampleRecord(1)
  for (let i = 0; i < count; i += TX) {
    await db.transaction(async () => {
      for (let j = 0; j < TX && i + j < count; j++) new Person({ ...base, age: (i + j) % 100 } as never)
    })
  }
  await db.close()
  const child = join(import.meta.dirname, 'models-stream.js')
  const out = JSON.parse(execFileSync(process.execPath, ['--expose-gc', child, path], { encoding: 'utf8' })) as StreamMemory & { n: number }
  if (out.n !== count) throw new Error(`all() yielded ${out.n} of ${count}`)
  const line = (s: MemorySample) => `RSS ${s.rss} MB (anonymous ${s.rssAnon} MB), heap ${s.heap} MB`
  console.log(`\nall() streamed ${fmt(out.n)} objects in a fresh process: before ${line(out.before)}; peak ${line(out.peak)}; after ${line(out.after)}; ${out.tracked} instances still tracked`)
  return out
}

interface MemorySample {
  rss: number
  rssAnon: number
  heap: number
}
interface StreamMemory {
  before: MemorySample
  peak: MemorySample
  after: MemorySample
  tracked: number
}
