/**
 * Relation figures (issue 5), each beside raw classic-level + msgpackr doing the equivalent key
 * writes in the same run (a link entry and a reverse entry per link, the owner's record rewritten):
 * adding 10k links to one relation (one save per link, and all in one save); paging through 10k
 * links 100 at a time after a reopen (nothing in memory); removing an object linked from 10k
 * owners (by a One relation, and by a Many relation). Median of RUNS runs, each on fresh data.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ClassicLevel } from 'classic-level'
import { Packr } from 'msgpackr'
import { Database, Many, Model, One, Property, Relation, StoredObject, Types } from '../src/index.js'
import { PACKR_OPTIONS } from '../src/engine/level/msgpack-codec.js'
import { newOid } from '../src/model/oid.js'
import { encodePosition } from '../src/relations/layout.js'
import { fmt, machine } from './bench-utils.js'

@Model()
class Item extends StoredObject {
  @Property(Types.INTEGER) n = 0
}

@Model()
class Bag extends StoredObject {
  @Property(Types.STRING) name = ''
  @Relation(() => [Item]) items!: Many<Item>
}

@Model()
class Post extends StoredObject {
  @Property(Types.STRING) title = ''
  @Relation(() => Item) item!: One<Item>
}

const N = Number(process.env.BENCH_LINKS ?? 10_000)
const RUNS = Number(process.env.BENCH_RUNS ?? 3)
const PAGE = 100

const packr = new Packr(PACKR_OPTIONS)
const record = (properties: object, links?: object) => packr.pack({ properties, updates: {}, changed: Date.now(), links })

/** The raw store: records `r!<collection>!<oid>`, links `m!<owner>!<rel>!<pos>`, reverse `v!<target>!<owner>!<rel>`. */
class Raw {
  readonly db: ClassicLevel<string, Buffer>
  constructor(path: string) {
    this.db = new ClassicLevel<string, Buffer>(path, { keyEncoding: 'utf8', valueEncoding: 'buffer' })
  }
  async items(n: number): Promise<string[]> {
    const oids = Array.from({ length: n }, () => newOid())
    await this.db.batch(oids.map((oid, i) => ({ type: 'put' as const, key: `r!Item!${oid}`, value: record({ n: i }) })))
    return oids
  }
  linkOps(owner: string, target: string, position: number) {
    return [
      { type: 'put' as const, key: `m!Bag!${owner}!items!${encodePosition(position)}`, value: packr.pack(['Item', target]) },
      { type: 'put' as const, key: `v!Item!${target}!Bag!${owner}!items`, value: packr.pack(position) },
    ]
  }
}

async function time(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now()
  await fn()
  return performance.now() - t
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

export async function run(): Promise<void> {
  console.log(`Machine: ${machine()}`)
  console.log(`Date: ${new Date().toISOString()}  Command: npm run bench -- relations  (${N} links, median of ${RUNS} runs)`)
  const results: Record<string, { raw: number[]; sto: number[] }> = {}
  const record_ = (what: string, raw: number, sto: number) => {
    const r = (results[what] ??= { raw: [], sto: [] })
    r.raw.push(raw)
    r.sto.push(sto)
  }
  for (let runNo = 0; runNo < RUNS; runNo++) {
    const dir = mkdtempSync(join(tmpdir(), 'stowage-bench-relations-'))
    try {
      const raw = new Raw(join(dir, 'raw'))
      await raw.db.open()
      const path = join(dir, 'stowage')
      let db = await Database.open({ path, models: [Item, Bag, Post], cache: { max: 0 } })

      // 1. Adding N links to one relation, one save (one atomic batch) per link.
      const rawTargets = await raw.items(N)
      const items: Item[] = []
      await db.transaction(() => {
        for (let i = 0; i < N; i++) items.push(new Item({ n: i }))
      })
      const rawOwner = newOid()
      const rawOne = await time(async () => {
        for (let i = 0; i < N; i++) {
          await raw.db.batch([...raw.linkOps(rawOwner, rawTargets[i]!, i), { type: 'put', key: `r!Bag!${rawOwner}`, value: record({ name: 'b' }, { items: { n: i + 1, next: i + 1 } }) }])
        }
      })
      const bag = await Bag.create({ name: 'one save per link' })
      const stoOne = await time(async () => {
        for (const item of items) {
          bag.items.add(item)
          await bag.save()
        }
      })
      record_(`add ${N} links to one relation, one save per link (links/s)`, N / (rawOne / 1000), N / (stoOne / 1000))

      // ... and all in one save.
      const rawOwner2 = newOid()
      const rawAll = await time(() =>
        raw.db.batch([...rawTargets.flatMap((t, i) => raw.linkOps(rawOwner2, t, i)), { type: 'put', key: `r!Bag!${rawOwner2}`, value: record({ name: 'b' }, { items: { n: N, next: N } }) }]),
      )
      const bag2 = new Bag({ name: 'one save' })
      const stoAll = await time(async () => {
        bag2.items.add(...items)
        await bag2.save()
      })
      record_(`add ${N} links to one relation in one save (links/s)`, N / (rawAll / 1000), N / (stoAll / 1000))

      // 2. Paging through them, 100 at a time, after a reopen: nothing in memory.
      items.length = 0
      await db.close()
      db = await Database.open({ path, models: [Item, Bag, Post], cache: { max: 0 } })
      const reopened = (await Bag.get(bag.oid))!
      const rawPaging = await time(async () => {
        let gt: string | undefined
        let seen = 0
        for (;;) {
          const entries = await raw.db.iterator({ gt: gt ?? `m!Bag!${rawOwner}!items!`, lt: `m!Bag!${rawOwner}!items!\xff`, limit: PAGE }).all()
          if (entries.length === 0) break
          gt = entries[entries.length - 1]![0]
          const targets = entries.map(([, v]) => (packr.unpack(v) as [string, string])[1])
          const records = await raw.db.getMany(targets.map((t) => `r!Item!${t}`))
          for (const r of records) if (packr.unpack(r!)) seen++
        }
        if (seen !== N) throw new Error(`raw paging saw ${seen}`)
      })
      const stoPaging = await time(async () => {
        let seen = 0
        for (let start = 0; ; start += PAGE) {
          const page = await reopened.items.get({ start, limit: PAGE })
          if (page.length === 0) break
          seen += page.length
          for (const o of page) db.identity.delete('Item', o.oid) // as if the app let them go
        }
        if (seen !== N) throw new Error(`paging saw ${seen}`)
      })
      record_(`page through ${N} links, ${PAGE} at a time, objects loaded (links/s)`, N / (rawPaging / 1000), N / (stoPaging / 1000))

      // 3. Removing an object linked from N owners, by a One relation, then by a Many relation.
      const rawTarget = (await raw.items(1))[0]!
      const rawPosts = Array.from({ length: N }, () => newOid())
      await raw.db.batch(
        rawPosts.flatMap((p) => [
          { type: 'put' as const, key: `r!Post!${p}`, value: record({ title: 't' }, { item: ['Item', rawTarget] }) },
          { type: 'put' as const, key: `v!Item!${rawTarget}!Post!${p}!item`, value: packr.pack(null) },
        ]),
      )
      const target = await Item.create({ n: -1 })
      await db.transaction(() => {
        for (let i = 0; i < N; i++) new Post({ title: 't' }).item.set(target)
      })
      const rawRemoveOne = await time(() => rawRemove(raw, rawTarget, (links) => delete links.item))
      const stoRemoveOne = await time(() => target.remove())
      record_(`remove an object linked from ${N} owners by a One relation (ms)`, rawRemoveOne, stoRemoveOne)

      const rawTarget2 = (await raw.items(1))[0]!
      const rawBags = Array.from({ length: N }, () => newOid())
      await raw.db.batch(
        rawBags.flatMap((b) => [
          { type: 'put' as const, key: `r!Bag!${b}`, value: record({ name: 'b' }, { items: { n: 1, next: 1, o: [rawTarget2] } }) },
          ...raw.linkOps(b, rawTarget2, 0),
        ]),
      )
      const target2 = await Item.create({ n: -2 })
      await db.transaction(() => {
        for (let i = 0; i < N; i++) new Bag({ name: 'b' }).items.add(target2)
      })
      const rawRemoveMany = await time(() =>
        rawRemove(raw, rawTarget2, (links, owner, position) => {
          links.items = { n: 0, next: 1, o: [] }
          return { type: 'del' as const, key: `m!Bag!${owner}!items!${encodePosition(position as number)}` }
        }),
      )
      const stoRemoveMany = await time(() => target2.remove())
      record_(`remove an object linked from ${N} owners by a Many relation (ms)`, rawRemoveMany, stoRemoveMany)

      await db.close()
      await raw.db.close()
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  }
  console.log('\n| workload | raw classic-level + msgpackr, same entries | Stowage (LevelEngine) | Stowage / raw |')
  console.log('|---|---:|---:|---:|')
  for (const [what, r] of Object.entries(results)) {
    const [a, b] = [median(r.raw), median(r.sto)]
    const ratio = what.endsWith('(ms)') ? a / b : b / a // as throughput: higher is better for Stowage
    console.log(`| ${what} | ${fmt(a)} | ${fmt(b)} | ${(ratio * 100).toFixed(0)}% |`)
  }
}

/** Raw removal: scan the target's reverse entries, rewrite each owner's record, delete links and reverse entries. */
async function rawRemove(raw: Raw, target: string, edit: (links: Record<string, unknown>, owner: string, position: unknown) => { type: 'del'; key: string } | unknown) {
  const prefix = `v!Item!${target}!`
  const entries = await raw.db.iterator({ gte: prefix, lt: prefix + '\xff' }).all()
  const owners = entries.map(([k]) => k.slice(prefix.length).split('!') as [string, string, string])
  const records = await raw.db.getMany(owners.map(([c, o]) => `r!${c}!${o}`))
  const ops: Array<{ type: 'put' | 'del'; key: string; value?: Buffer }> = [{ type: 'del', key: `r!Item!${target}` }]
  owners.forEach(([c, o], i) => {
    const rec = packr.unpack(records[i]!) as { links: Record<string, unknown> }
    const extra = edit(rec.links, o, packr.unpack(entries[i]![1]))
    if (extra && typeof extra === 'object' && 'key' in extra) ops.push(extra as { type: 'del'; key: string })
    ops.push({ type: 'put', key: `r!${c}!${o}`, value: packr.pack(rec) })
    ops.push({ type: 'del', key: entries[i]![0] })
  })
  await raw.db.batch(ops as never)
}
