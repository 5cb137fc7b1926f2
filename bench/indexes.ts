/**
 * Index figures (issue 4), beside raw classic-level + msgpackr writing hand-rolled index entries
 * `idx!<model>!<index>!<key>!<oid>` in the same batch as the record, in the same run:
 * inserts with 2 and 5 indexes (transactions of 1,000); equality lookups returning ~100 objects and
 * range scans over 1% of 100k objects; count(key) on a key with 10,000 entries; a keyword query
 * over 100k articles.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ClassicLevel } from 'classic-level'
import { Packr } from 'msgpackr'
import { Database, Index, Indexing, Model, Property, StoredObject, Types } from '../src/index.js'
import { PACKR_OPTIONS } from '../src/engine/level/msgpack-codec.js'
import { newOid } from '../src/model/oid.js'
import { fmt, interleaved, machine } from './bench-utils.js'

@Model()
class Doc2 extends StoredObject {
  @Property(Types.STRING) @Index() status!: string
  @Property(Types.INTEGER) @Index() n!: number
  @Property(Types.STRING) group!: string
  @Property(Types.STRING) bucket!: string
  @Property(Types.STRING) author!: string
  @Property(Types.STRING) title!: string
}

@Model()
class Doc5 extends StoredObject {
  @Property(Types.STRING) @Index() status!: string
  @Property(Types.INTEGER) @Index() n!: number
  @Property(Types.STRING) @Index() group!: string
  @Property(Types.STRING) @Index() bucket!: string
  @Property(Types.STRING) @Index(Indexing.normalize) author!: string
  @Property(Types.STRING) title!: string
}

/** Doc5 under another collection, filled with exactly N objects for the reads. */
@Model({ collection: 'docs' })
class Doc extends StoredObject {
  @Property(Types.STRING) @Index() status!: string
  @Property(Types.INTEGER) @Index() n!: number
  @Property(Types.STRING) @Index() group!: string
  @Property(Types.STRING) @Index() bucket!: string
  @Property(Types.STRING) @Index(Indexing.normalize) author!: string
  @Property(Types.STRING) title!: string
}

@Model({ indexes: { words: (a: Article) => Indexing.keywords([a.title, a.content]) } })
class Article extends StoredObject {
  declare static indexes: { words: string } // the computed index, for Article.index()'s types
  @Property(Types.STRING) title!: string
  @Property(Types.STRING) content!: string
}

const N = Number(process.env.BENCH_RECORDS ?? 100_000)
const TX = 1000
const STATUSES = ['draft', 'published', 'archived']

function doc(i: number) {
  return { status: STATUSES[i % 3]!, n: i, group: `g${i % 1000}`, bucket: `b${i % 10}`, author: `Author ${i % 500}`, title: `Title of document ${i}` }
}
type DocProps = ReturnType<typeof doc>
const pad = (n: number) => String(n).padStart(10, '0')

/** Hand-rolled index entries as an application would write them next to its records. */
function rawIndexOps(model: string, oid: string, d: DocProps, indexes: number) {
  const keys: [string, string][] = [
    ['status', d.status],
    ['n', pad(d.n)],
    ['group', d.group],
    ['bucket', d.bucket],
    ['author', d.author.toLowerCase()],
  ]
  return keys.slice(0, indexes).map(([index, key]) => ({ type: 'put' as const, key: `idx!${model}!${index}!${key}!${oid}`, value: Buffer.alloc(0) }))
}

// A vocabulary of 5,000 made-up words; an article has a 4-word title and 20 words of content.
const VOCABULARY = Array.from({ length: 5000 }, (_, i) => 'w' + i.toString(36).padStart(3, 'a') + 'x')
function article(i: number) {
  let seed = i * 7919 + 1
  const word = () => VOCABULARY[(seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff) % VOCABULARY.length]
  return { title: `${word()} ${word()} ${word()} ${word()}`, content: Array.from({ length: 20 }, word).join(' ') }
}

export async function run(): Promise<void> {
  console.log(`Machine: ${machine()}`)
  console.log(`Date: ${new Date().toISOString()}  Command: npm run bench -- indexes  (${N} objects)`)
  const dir = mkdtempSync(join(tmpdir(), 'stowage-bench-indexes-'))
  try {
    const packr = new Packr(PACKR_OPTIONS)
    const raw = new ClassicLevel<string, Buffer>(join(dir, 'raw'), { keyEncoding: 'utf8', valueEncoding: 'buffer' })
    const db = await Database.open({ path: join(dir, 'stowage'), models: [Doc2, Doc5, Doc, Article], cache: { max: 0 } })
    const counters = { raw2: 0, raw5: 0, sto2: 0, sto5: 0, rawDocs: 0, stoDocs: 0 }

    const rawInsert = (model: string, indexes: 2 | 5, counter: 'raw2' | 'raw5' | 'rawDocs') => {
      const ops = []
      for (let j = 0; j < TX; j++) {
        const oid = newOid()
        const d = doc(counters[counter]++)
        ops.push({ type: 'put' as const, key: `${model}!${oid}`, value: packr.pack({ properties: d, updates: {}, changed: 0 }) })
        ops.push(...rawIndexOps(model, oid, d, indexes))
      }
      return raw.batch(ops)
    }
    const stowageInsert = (model: typeof Doc2 | typeof Doc5 | typeof Doc, counter: 'sto2' | 'sto5' | 'stoDocs') =>
      db.transaction(() => {
        for (let j = 0; j < TX; j++) new model(doc(counters[counter]++))
      })

    console.log('\ninserts, transactions of 1,000 (objects/s):')
    const inserts = await interleaved(
      [
        { name: 'raw, 2 hand-rolled index entries', units: TX, fn: () => rawInsert('Doc2', 2, 'raw2') },
        { name: 'Stowage, 2 indexes', units: TX, fn: () => stowageInsert(Doc2, 'sto2') },
        { name: 'raw, 5 hand-rolled index entries', units: TX, fn: () => rawInsert('Doc5', 5, 'raw5') },
        { name: 'Stowage, 5 indexes', units: TX, fn: () => stowageInsert(Doc5, 'sto5') },
      ],
    )
    // Both stores get exactly N docs (n = 0..N-1) for the reads.
    while (counters.rawDocs < N) await rawInsert('docs', 5, 'rawDocs')
    while (counters.stoDocs < N) await stowageInsert(Doc, 'stoDocs')

    let seed = 11
    const rand = (m: number) => (seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff) % m
    const rawObjects = async (prefixOrRange: { gte: string; lt: string }) => {
      const ids: string[] = []
      for await (const key of raw.keys(prefixOrRange)) ids.push('docs!' + key.slice(key.lastIndexOf('!') + 1))
      const values = await raw.getMany(ids)
      let n = 0
      for (const v of values) if (packr.unpack(v!)) n++
      return n
    }
    const forget = (objs: StoredObject[]) => {
      for (const o of objs) db.identity.delete('docs', o.oid)
    }
    const collect = async <T>(it: AsyncIterable<T>) => {
      const out: T[] = []
      for await (const x of it) out.push(x)
      return out
    }

    // The oids the index gives, to time object loading alone (the model core's share of a query).
    const docMeta = db.model('docs')!
    const byGroup = new Map<string, string[]>()
    const byN: string[] = []
    for await (const d of Doc.index('n').list()) {
      byN.push(d.oid)
      byGroup.set(d.group, [...(byGroup.get(d.group) ?? []), d.oid])
      db.identity.delete('docs', d.oid)
    }
    const loadOnly = async (oids: string[]) => {
      const objs = await db.loadMany(docMeta, oids)
      forget(objs as StoredObject[])
      return objs.length
    }

    console.log('\nequality lookups, ~100 objects each (objects/s):')
    const lookups = await interleaved(
      [
        {
          name: 'raw keys(prefix) + getMany + unpack',
          units: N / 1000,
          fn: async () => {
            const g = `g${rand(1000)}`
            const n = await rawObjects({ gte: `idx!docs!group!${g}!`, lt: `idx!docs!group!${g}!\xff` })
            if (n !== N / 1000) throw new Error(`raw lookup gave ${n}`)
          },
        },
        {
          name: "Stowage Doc.index('group').get(key)",
          units: N / 1000,
          fn: async () => {
            const objs = await collect(Doc.index('group').get(`g${rand(1000)}`))
            if (objs.length !== N / 1000) throw new Error(`lookup gave ${objs.length}`)
            forget(objs)
          },
        },
        {
          name: 'Stowage db.loadMany(the same oids), no index read',
          units: N / 1000,
          fn: () => loadOnly(byGroup.get(`g${rand(1000)}`)!),
        },
      ],
    )

    const SPAN = N / 100
    console.log(`\nrange scans over 1% (${SPAN} objects each, objects/s):`)
    const ranges = await interleaved(
      [
        {
          name: 'raw keys(gte, lt) + getMany + unpack',
          units: SPAN,
          fn: async () => {
            const x = rand(N - SPAN)
            const n = await rawObjects({ gte: `idx!docs!n!${pad(x)}!`, lt: `idx!docs!n!${pad(x + SPAN)}!` })
            if (n !== SPAN) throw new Error(`raw range gave ${n}`)
          },
        },
        {
          name: "Stowage Doc.index('n').list({ gte, lt })",
          units: SPAN,
          fn: async () => {
            const x = rand(N - SPAN)
            const objs = await collect(Doc.index('n').list({ gte: x, lt: x + SPAN }))
            if (objs.length !== SPAN) throw new Error(`range gave ${objs.length}`)
            forget(objs)
          },
        },
        {
          name: 'Stowage db.loadMany(the same oids), no index read',
          units: SPAN,
          fn: () => {
            const x = rand(N - SPAN)
            return loadOnly(byN.slice(x, x + SPAN))
          },
        },
      ],
    )

    console.log(`\ncount(key) on a key with ${N / 10} entries (calls/s):`)
    const counts = await interleaved(
      [
        {
          name: 'raw keys(prefix) counted',
          units: 1,
          fn: async () => {
            let n = 0
            for await (const _ of raw.keys({ gte: 'idx!docs!bucket!b3!', lt: 'idx!docs!bucket!b3!\xff' })) n++
            if (n !== N / 10) throw new Error(`raw count gave ${n}`)
          },
        },
        {
          name: "Stowage Doc.index('bucket').count(key)",
          units: 1,
          fn: async () => {
            const n = await Doc.index('bucket').count('b3')
            if (n !== N / 10) throw new Error(`count gave ${n}`)
          },
        },
      ],
    )

    console.log(`\nkeyword index over ${N} articles (24 words each, vocabulary of 5,000):`)
    let t = performance.now()
    for (let i = 0; i < N; i += TX) {
      await db.transaction(() => {
        for (let j = i; j < i + TX; j++) new Article(article(j))
      })
    }
    const articleRate = N / ((performance.now() - t) / 1000)
    console.log(`  insert with the keywords index: ${fmt(articleRate)} articles/s`)
    const words = Article.index('words')
    let found = 0
    let queries = 0
    t = performance.now()
    while (performance.now() - t < 3000) {
      const objs = await collect(words.get(VOCABULARY[rand(VOCABULARY.length)]!))
      found += objs.length
      queries++
      for (const o of objs) db.identity.delete('Article', o.oid)
    }
    const elapsed = (performance.now() - t) / 1000
    console.log(`  words.get(word): ${fmt(queries / elapsed)} queries/s, ${fmt(found / queries)} articles per query, ${fmt(found / elapsed)} articles/s`)
    t = performance.now()
    let prefixQueries = 0
    let prefixFound = 0
    while (performance.now() - t < 2000) {
      const objs = await collect(words.list({ prefix: VOCABULARY[rand(VOCABULARY.length)]!.slice(0, 3), limit: 20 }))
      prefixFound += objs.length
      prefixQueries++
      for (const o of objs) db.identity.delete('Article', o.oid)
    }
    const prefixRate = prefixQueries / ((performance.now() - t) / 1000)
    console.log(`  words.list({ prefix: 3 letters, limit: 20 }): ${fmt(prefixRate)} queries/s (${fmt(prefixFound / prefixQueries)} articles each)`)

    await db.close()
    await raw.close()

    const r = (list: { name: string; unitsPerSec: number }[], name: string) => list.find((x) => x.name.startsWith(name))!.unitsPerSec
    const row = (what: string, rawRate: number, stoRate: number, unit: string, goal: string) =>
      console.log(`| ${what} | ${fmt(rawRate)} ${unit} | ${fmt(stoRate)} ${unit} | ${((stoRate / rawRate) * 100).toFixed(0)}% | ${goal} |`)
    console.log('\n| workload | raw classic-level + msgpackr, hand-rolled entries | Stowage (LevelEngine) | Stowage / raw | goal |')
    console.log('|---|---|---|---|---|')
    row('insert, 2 indexes, transactions of 1,000', r(inserts, 'raw, 2'), r(inserts, 'Stowage, 2'), 'objects/s', '>= 50%')
    row('insert, 5 indexes, transactions of 1,000', r(inserts, 'raw, 5'), r(inserts, 'Stowage, 5'), 'objects/s', '>= 50%')
    row(`equality lookup, ${N / 1000} objects per key`, r(lookups, 'raw'), r(lookups, 'Stowage'), 'objects/s', '>= 60%')
    row(`range scan, ${SPAN} objects (1%)`, r(ranges, 'raw'), r(ranges, 'Stowage'), 'objects/s', '>= 60%')
    console.log(`| (object loading alone: db.loadMany of the same oids) | | ${fmt(r(lookups, 'Stowage db.loadMany'))} / ${fmt(r(ranges, 'Stowage db.loadMany'))} objects/s | | |`)
    row(`count(key), ${N / 10} entries`, r(counts, 'raw'), r(counts, 'Stowage'), 'calls/s', '')
    console.log(`| keyword index: insert ${fmt(N)} articles | | ${fmt(articleRate)} articles/s | | |`)
    console.log(`| keyword query get(word), ${fmt(found / queries)} articles each | | ${fmt(queries / elapsed)} queries/s | | |`)
    console.log(`| keyword prefix query list({ prefix, limit: 20 }) | | ${fmt(prefixRate)} queries/s | | |`)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
