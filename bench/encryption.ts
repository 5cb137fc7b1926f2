/**
 * `npm run bench -- encryption`: the same work on a plain store and on an encrypted one
 * (`encryption: { key }`, index keys hashed, one index kept ordered for the range), side by side in
 * alternating rounds: inserts (transactions of 100), gets by id (the identity map emptied, so each is
 * a read), an index range (an ordered index), an equality lookup on a hashed index, and raw data
 * written and read (MB/s), on the LevelEngine and the LmdbEngine. CPU time per operation is reported
 * too: it holds on a busy machine where wall-clock rates swing.
 *
 * Environment: BENCH_ROUNDS (default 15), BENCH_ENCRYPTION_N (objects, default 20,000).
 */
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Database, defineModel, Indexing, LevelEngine, LmdbEngine, StoredObject, StoredRaw, Types, type Engine } from '../src/index.js'
import { fmt, interleaved, machine, type Case } from './bench-utils.js'

const N = Number(process.env.BENCH_ENCRYPTION_N ?? 20_000)
const RAW = randomBytes(4 * 2 ** 20)

function models(tag: string) {
  class Note extends StoredObject {}
  class Blob extends StoredRaw {}
  const collection = `notes_${tag}`
  return {
    Note: defineModel(Note, {
      collection,
      properties: { title: Types.STRING, body: Types.STRING, status: Types.STRING, score: Types.INTEGER },
      indexes: { status: { property: 'status', fn: Indexing.value }, score: { property: 'score', fn: Indexing.value } },
    }) as any,
    Blob: defineModel(Blob, { collection: `blobs_${tag}` }) as any,
    ordered: [`${collection}.score`],
  }
}

async function store(make: () => Engine, encrypted: boolean, tag: string) {
  const { Note, Blob, ordered } = models(tag)
  const db = await Database.open({ engine: make(), models: [Note, Blob], cache: { max: 0 }, ...(encrypted ? { encryption: { key: randomBytes(32), ordered } } : {}) })
  const oids: string[] = []
  for (let i = 0; i < N; i += 1000) {
    await db.transaction(async () => {
      for (let k = i; k < Math.min(N, i + 1000); k++) {
        const note = new Note({ title: `Note ${k}`, body: 'b'.repeat(300), status: `s${k % 50}`, score: k })
        note.save()
        oids.push(note.oid)
      }
    })
  }
  let n = N
  let blob: any
  return {
    insert: () =>
      db.transaction(async () => {
        for (let i = 0; i < 100; i++) new Note({ title: `More ${n}`, body: 'b'.repeat(300), status: `s${n % 50}`, score: n++ }).save()
      }),
    get: async () => {
      db.identity.clear() // every get reads the store
      for (let i = 0; i < 1000; i++) await Note.get(oids[(i * 7919 + n) % oids.length]!)
    },
    range: async () => {
      let c = 0
      for await (const _ of Note.index('score').list({ gte: 5000, lt: 5200 })) c++
      return c
    },
    lookup: async () => {
      let c = 0
      for await (const _ of Note.index('status').get('s7')) c++
      return c
    },
    writeRaw: async () => {
      blob = await Blob.create([RAW])
    },
    readRaw: async () => {
      if (blob === undefined) blob = await Blob.create([RAW])
      let bytes = 0
      for await (const chunk of blob.data(256 * 1024)) bytes += chunk.length
      return bytes
    },
    close: () => db.close(),
  }
}

export async function run(): Promise<void> {
  console.log(`Machine: ${machine()}`)
  console.log(`Date: ${new Date().toISOString()}  Command: npm run bench -- encryption (${fmt(N)} objects)`)
  const dir = mkdtempSync(join(tmpdir(), 'stowage-bench-encryption-'))
  const rows: string[] = []
  try {
    for (const [name, make] of [
      ['LevelEngine', (p: string) => () => new LevelEngine(p)],
      ['LmdbEngine', (p: string) => () => new LmdbEngine(p + '.lmdb')],
    ] as const) {
      const plain = await store(make(join(dir, `${name}-plain`)), false, `${name}_plain`)
      const sealed = await store(make(join(dir, `${name}-sealed`)), true, `${name}_sealed`)
      for (const [label, units, unit, pick] of [
        ['insert, transactions of 100', 100, 'objects', (s: typeof plain) => s.insert],
        ['get by id', 1000, 'gets', (s: typeof plain) => s.get],
        ['index range, 200 objects (ordered index)', 200, 'objects', (s: typeof plain) => s.range],
        ['equality lookup, 400 objects (hashed index)', 400, 'objects', (s: typeof plain) => s.lookup],
        ['raw data written, 4 MiB', 4, 'MiB', (s: typeof plain) => s.writeRaw],
        ['raw data read, 4 MiB', 4, 'MiB', (s: typeof plain) => s.readRaw],
      ] as const) {
        console.log(`${name}, ${label}:`)
        const cases: Case[] = [
          { name: 'plain', units, fn: pick(plain) },
          { name: 'encrypted', units, fn: pick(sealed) },
        ]
        const [p, e] = await interleaved(cases)
        const cpu = await cpuPer(cases)
        rows.push(`| ${name} | ${label} | ${fmt(p!.unitsPerSec)} ${unit}/s | ${fmt(e!.unitsPerSec)} ${unit}/s | ${(e!.unitsPerSec / p!.unitsPerSec).toFixed(2)}x | ${(cpu[1]! / cpu[0]!).toFixed(2)}x |`)
      }
      await plain.close()
      await sealed.close()
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
  console.log('\n| engine | work | plain | encrypted | encrypted / plain (wall) | CPU per unit, encrypted / plain |')
  console.log('|---|---|---:|---:|---:|---:|')
  for (const row of rows) console.log(row)
}

/** Median CPU time per call of each case, over alternating rounds of 200 ms. */
async function cpuPer(cases: Case[]): Promise<number[]> {
  const samples = cases.map(() => [] as number[])
  const rounds = Number(process.env.BENCH_ROUNDS ?? 15)
  for (let round = 0; round < rounds; round++) {
    for (const i of round % 2 === 0 ? [0, 1] : [1, 0]) {
      const before = process.cpuUsage()
      const start = performance.now()
      let calls = 0
      do {
        await cases[i]!.fn()
        calls++
      } while (performance.now() - start < 200)
      const used = process.cpuUsage(before)
      samples[i]!.push((used.user + used.system) / calls)
    }
  }
  return samples.map((xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!)
}
