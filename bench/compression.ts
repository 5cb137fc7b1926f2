/**
 * `npm run bench -- compression`: on-disk size and throughput of a store plain, brotli- and
 * gzip-compressed (`Database.open({ compression })`), with JSON-like records (about 1 KB each, the
 * shape of API payloads: nested objects, repeated keys, ids, text) and with the notes example's
 * notes, on the LevelEngine and the LmdbEngine; each store in its own directory, measured closed.
 *
 * Environment: BENCH_COMPRESSION_MB (JSON-like records, default 100).
 */
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Database, defineModel, Indexing, LevelEngine, LmdbEngine, StoredObject, Types, type Engine } from '../src/index.js'
import { fmt, machine } from './bench-utils.js'

const MB = Number(process.env.BENCH_COMPRESSION_MB ?? 100)
const WORDS = ['stowage', 'record', 'index', 'customer', 'order', 'shipped', 'pending', 'invoice', 'berlin', 'paris', 'lisbon', 'note', 'meeting', 'project', 'review']

function payload(i: number) {
  const w = (k: number) => WORDS[(i * 7 + k * 13) % WORDS.length]!
  return {
    id: `ord_${i.toString(36).padStart(8, '0')}`,
    customer: { name: `${w(1)} ${w(2)}`, email: `${w(3)}${i}@example.com`, address: { city: w(4), street: `${i % 300} ${w(5)} street`, zip: String(10000 + (i % 89999)) } },
    items: Array.from({ length: 4 }, (_, k) => ({ sku: `SKU-${(i + k) % 5000}`, title: `${w(k)} ${w(k + 1)} ${w(k + 2)}`, qty: 1 + ((i + k) % 5), price: ((i * 31 + k * 17) % 10000) / 100 })),
    status: w(6),
    notes: `${w(7)} ${w(8)} ${w(9)} ${w(10)} for order ${i}: ${w(11)} ${w(12)} ${w(13)} ${w(14)}.`,
    createdAt: new Date(1_700_000_000_000 + i * 60_000).toISOString(),
  }
}

function note(i: number) {
  const w = (k: number) => WORDS[(i * 3 + k * 5) % WORDS.length]!
  return { title: `${w(1)} ${w(2)} ${i}`, body: `# ${w(3)}\n\n${Array.from({ length: 12 }, (_, k) => `${w(k)} ${w(k + 4)} ${w(k + 9)}`).join(' ')}.\n`, tags: [w(5), w(6)] }
}

function sizeOf(dir: string): number {
  let total = 0
  for (const name of readdirSync(dir, { recursive: true }) as string[]) {
    const s = statSync(join(dir, name))
    if (s.isFile()) total += s.size
  }
  return total
}

async function load(make: () => Engine, compression: 'brotli' | 'gzip' | undefined, tag: string, kind: 'json' | 'notes', n: number) {
  class Doc extends StoredObject {}
  const Model = defineModel(Doc, {
    collection: `docs_${tag}`,
    properties: kind === 'json' ? { payload: Types.ANY, status: Types.STRING } : { title: Types.STRING, body: Types.STRING, tags: Types.LIST(Types.STRING) },
    indexes: kind === 'json' ? { status: { property: 'status', fn: Indexing.value } } : { tags: { property: 'tags', fn: Indexing.value } },
  }) as any
  const db = await Database.open({ engine: make(), models: [Model], ...(compression ? { compression } : {}) })
  const t = performance.now()
  for (let i = 0; i < n; i += 1000) {
    await db.transaction(async () => {
      for (let k = i; k < Math.min(n, i + 1000); k++) new Model(kind === 'json' ? { payload: payload(k), status: payload(k).status } : note(k)).save()
    })
  }
  const insertPerSec = n / ((performance.now() - t) / 1000)
  await db.close()
  return { insertPerSec }
}

export async function run(): Promise<void> {
  console.log(`Machine: ${machine()}`)
  console.log(`Date: ${new Date().toISOString()}  Command: npm run bench -- compression (${MB} MB of JSON-like records)`)
  const jsonCount = Math.round((MB * 2 ** 20) / Buffer.byteLength(JSON.stringify(payload(1))))
  const rows: string[] = []
  const root = mkdtempSync(join(tmpdir(), 'stowage-bench-compression-'))
  try {
    for (const [name, make] of [
      ['LevelEngine', (dir: string) => () => new LevelEngine(dir)],
      ['LmdbEngine', (dir: string) => () => new LmdbEngine(dir + '.lmdb')],
    ] as const) {
      for (const [kind, n] of [['json', jsonCount], ['notes', 20_000]] as const) {
        const sizes: string[] = []
        let plainSize = 0
        for (const compression of [undefined, 'brotli', 'gzip'] as const) {
          const dir = join(root, `${name}-${kind}-${compression ?? 'plain'}`)
          const { insertPerSec } = await load(make(dir), compression, `${kind}_${compression ?? 'plain'}`, kind, n)
          const bytes = sizeOf(name === 'LmdbEngine' ? root : dir) // the LMDB file sits beside the folder name
          const own = name === 'LmdbEngine' ? statSync(dir + '.lmdb').size : bytes
          if (compression === undefined) plainSize = own
          sizes.push(`${fmt(own / 2 ** 20)} MB (${(own / plainSize).toFixed(2)}x), ${fmt(insertPerSec)} inserts/s`)
          console.log(`  ${name} ${kind} ${compression ?? 'plain'}: ${fmt(own / 2 ** 20)} MB, ${fmt(insertPerSec)} inserts/s`)
        }
        rows.push(`| ${name} | ${kind === 'json' ? `${fmt(jsonCount)} JSON-like records (~${MB} MB as JSON)` : '20,000 notes (the notes example\'s shape)'} | ${sizes.join(' | ')} |`)
      }
    }
  } finally {
    rmSync(root, { recursive: true, force: true })
  }
  console.log('\n| engine | data | plain: on disk, inserts/s | brotli | gzip |')
  console.log('|---|---|---:|---:|---:|')
  for (const row of rows) console.log(row)
}
