/**
 * `npm run bench -- reads`: what Stowage adds to each object it reads (decoding the record into an
 * instance, the identity map, the LRU, promises), against the engine doing the same reads, in one
 * process and in alternating rounds, on each engine:
 * - get by id: 1,000 random oids per call, one `get` each;
 * - lookup: the ~100 objects holding one index key (an author), index entries then the objects.
 * Stowage's identity map is emptied after each call, so every read is a miss, as it is in the peer
 * benchmark's random gets. The ORM's cost per object is Stowage's time per object less the raw
 * engine's (its fastest way: `getRecordSync` where the engine has it). On engines with synchronous
 * reads, the get's cost is split in steps: the read, making the instance from the record, registering
 * it in the identity map (with the garbage collection that follows: an instance the LRU lets go is
 * held by a WeakRef, and V8's scavenges keep the targets of WeakRefs, so it is copied to the old
 * generation with its values and record), and the rest of `get()`. Rounds read the same store
 * over and over, so LevelDB answers from its caches: the peer benchmark's gets, one pass right
 * after a bulk load, also pay for LevelDB's first reads of its tables (several times more there).
 *
 * Environment: BENCH_READS_N (objects, default 20,000), BENCH_ROUNDS (default 15).
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Database, Index, LevelEngine, MemoryEngine, Model, Property, StoredObject, Types, type Engine } from '../src/index.js'
import { encodeKey } from '../src/indexes/key-codec.js'
import { entryPrefix } from '../src/indexes/layout.js'
import { metaOf } from '../src/model/meta.js'
import { recordInstance } from '../src/model/records.js'
import { endJob, jobIsFull } from '../src/model/weak-refs.js'
import { fmt, interleaved, machine, type Case, type Result } from './bench-utils.js'
import { article, rng } from './peers/workload.js'

@Model({ collection: 'articles' })
class Article extends StoredObject {
  @Property(Types.STRING) title!: string
  @Property(Types.STRING) @Index() author!: string
  @Property(Types.STRING) status!: string
  @Property(Types.LIST(Types.STRING)) tags!: string[]
  @Property(Types.INTEGER) score!: number
  @Property(Types.STRING) body!: string
}

const N = Number(process.env.BENCH_READS_N ?? 20_000)
const GROUP = 100
const AUTHORS = Math.max(1, Math.floor(N / GROUP))
const GETS = 1000
const LOOKUPS = 10

async function engines(dir: string): Promise<Array<[string, () => Engine]>> {
  const list: Array<[string, () => Engine]> = [
    ['Memory', () => new MemoryEngine()],
    ['LevelDB', () => new LevelEngine(join(dir, 'level'))],
  ]
  // The LMDB engine, where this build has it.
  const lmdb = fileURLToPath(new URL('../src/engine/lmdb/lmdb-engine.js', import.meta.url))
  if (existsSync(lmdb)) {
    const mod = (await import(lmdb)) as { LmdbEngine?: new (path: string) => Engine }
    if (mod.LmdbEngine !== undefined) list.push(['LMDB', () => new mod.LmdbEngine!(join(dir, 'lmdb'))])
  }
  return list
}

async function fill(db: Database): Promise<string[]> {
  const oids: string[] = []
  for (let at = 0; at < N; at += 1000) {
    await db.transaction(() => {
      for (let i = at; i < Math.min(N, at + 1000); i++) oids.push(new Article({ ...article(i), author: `author ${i % AUTHORS}` }).oid)
    })
  }
  return oids
}

function perObjectMicros(r: Result): number {
  return 1e6 / r.unitsPerSec
}

export async function run(): Promise<void> {
  console.log(`Machine: ${machine()}`)
  console.log(`Date: ${new Date().toISOString()}  Command: npm run bench -- reads (${fmt(N)} objects)`)
  const dir = mkdtempSync(join(tmpdir(), 'stowage-bench-reads-'))
  try {
    for (const [name, make] of await engines(dir)) {
      const engine = make()
      const db = await Database.open({ engine, models: [Article] })
      try {
        const oids = await fill(db)
        db.identity.clear()
        const r = rng(7)
        const pick = () => oids[Math.floor(r() * oids.length)]!
        const author = () => `author ${Math.floor(r() * AUTHORS)}`
        const prefix = (a: string) => entryPrefix('articles', 'author') + encodeKey(a) + '\x00'
        const sync = engine.supports.syncReads === true
        console.log(`\n${name} (syncReads: ${sync}):`)

        const gets: Case[] = [
          {
            name: `${name} raw getRecord`,
            units: GETS,
            fn: async () => {
              for (let i = 0; i < GETS; i++) await engine.getRecord('articles', pick())
            },
          },
          {
            name: `${name} Stowage get`,
            units: GETS,
            fn: async () => {
              for (let i = 0; i < GETS; i++) await Article.get(pick())
              db.identity.clear()
            },
          },
        ]
        const meta = metaOf(Article)!
        if (sync) {
          gets.push(
            {
              name: `${name} raw getRecordSync`,
              units: GETS,
              fn: () => {
                for (let i = 0; i < GETS; i++) engine.getRecordSync('articles', pick())
              },
            },
            {
              name: `${name} getRecordSync + instance`,
              units: GETS,
              fn: () => {
                for (let i = 0; i < GETS; i++) {
                  const oid = pick()
                  recordInstance(meta, oid, engine.getRecordSync('articles', oid))
                }
              },
            },
            {
              name: `${name} getRecordSync + instance + identity map`,
              units: GETS,
              fn: async () => {
                for (let i = 0; i < GETS; i++) {
                  const oid = pick()
                  db.instantiate(meta, oid, engine.getRecordSync('articles', oid))
                  if (jobIsFull()) await endJob() // as get() does
                }
                db.identity.clear()
              },
            },
          )
        }
        const lookups: Case[] = [
          {
            name: `${name} raw lookup (keys + getRecords)`,
            units: LOOKUPS * GROUP,
            fn: async () => {
              for (let i = 0; i < LOOKUPS; i++) {
                const p = prefix(author())
                const ids: string[] = []
                for await (const key of engine.keys({ prefix: p })) ids.push(key.slice(p.length))
                await engine.getRecords('articles', ids)
              }
            },
          },
          {
            name: `${name} Stowage lookup`,
            units: LOOKUPS * GROUP,
            fn: async () => {
              for (let i = 0; i < LOOKUPS; i++) for await (const _ of Article.index('author').get(author())) void _
              db.identity.clear()
            },
          },
        ]
        if (sync) {
          lookups.push({
            name: `${name} raw lookup (keys + getRecordSync)`,
            units: LOOKUPS * GROUP,
            fn: async () => {
              for (let i = 0; i < LOOKUPS; i++) {
                const p = prefix(author())
                const ids: string[] = []
                for await (const key of engine.keys({ prefix: p })) ids.push(key.slice(p.length))
                for (const id of ids) engine.getRecordSync('articles', id)
              }
            },
          })
        }
        for (const [what, cases] of [['get by id', gets], ['lookup', lookups]] as const) {
          const results = await interleaved(cases)
          const raw = Math.min(...results.filter((x) => x.name.includes(' raw ')).map(perObjectMicros))
          const stowage = perObjectMicros(results.find((x) => x.name.includes('Stowage'))!)
          console.log(`  ${name} ${what}: Stowage ${stowage.toFixed(2)} µs per object, raw engine ${raw.toFixed(2)} µs: the ORM costs ${(stowage - raw).toFixed(2)} µs per object`)
          const step = (suffix: string) => results.find((x) => x.name === `${name} ${suffix}`)
          const instance = step('getRecordSync + instance')
          const registered = step('getRecordSync + instance + identity map')
          if (instance !== undefined && registered !== undefined) {
            const [a, b, c] = [raw, perObjectMicros(instance), perObjectMicros(registered)]
            console.log(`  ${name} ${what}, by step: read ${a.toFixed(2)} µs, + instance ${(b - a).toFixed(2)}, + identity map ${(c - b).toFixed(2)}, + the rest of get() ${(stowage - c).toFixed(2)}`)
          }
        }
      } finally {
        await db.close()
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
