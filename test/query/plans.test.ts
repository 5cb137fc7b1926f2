import { describe, expect, it } from 'vitest'
import { Index, Model, Property, StoredObject, Types } from '../../src/index.js'
import { databaseEach, storeKinds } from '../helpers/stores.js'
import { Article } from './models.js'

/** Another collection: its writes leave Article's counts as they are. */
@Model({ collection: 'plan_comments' })
class Comment extends StoredObject {
  @Property(Types.STRING) @Index() text = ''
}

const N = 600

/** N articles: every one tagged 'news', one in 100 'rare'; status alternates; rank i; dates one day apart. */
async function seed(): Promise<void> {
  for (let i = 0; i < N; i++) {
    await Article.create({
      title: `a${i}`,
      status: i % 2 === 0 ? 'draft' : 'published',
      tags: i % 100 === 7 ? ['news', 'rare'] : ['news'],
      rank: i,
      date: new Date(Date.UTC(2026, 0, 1) + i * 86_400_000),
      views: i % 10,
    })
  }
}

for (const kind of storeKinds) {
  describe(`query plans on ${kind.name}`, () => {
    const t = databaseEach(kind, [Article, Comment])

    it('drives a rare AND common query by the rare key and reads only the matching objects', async () => {
      await seed()
      const e = await Article.find({ where: { status: 'published', tags: 'rare' } }).explain()
      expect(e).toMatchObject({ driver: 'index', index: 'tags', sortedInMemory: false })
      expect(e.actual).toMatchObject({ results: 6, objects: 6 })
      // The rare key's entries, not the common one's, bound the work.
      expect(e.actual.keysRecords).toBeLessThanOrEqual(6)
      expect(e.actual.indexEntries).toBeLessThan(N / 2)
    })

    it('plans a repeated query from the counts of the one before, until a write changes them', async () => {
      await seed()
      const q = () => Article.find({ where: { rank: { gte: 0, lt: 50 }, tags: 'rare' } })
      const first = await q().explain()
      expect(first).toMatchObject({ index: 'tags', actual: { results: 1, objects: 1 } })
      const again = await q().explain()
      expect(again).toMatchObject({ index: 'tags', actual: { results: 1, objects: 1 } })
      // The two conditions' 6 and 50 entries are not counted again, and writes elsewhere do not change that.
      expect(again.actual.indexEntries).toBeLessThanOrEqual(first.actual.indexEntries - 50)
      await Comment.create({ text: 'a write to another collection' })
      expect((await q().explain()).actual.indexEntries).toBe(again.actual.indexEntries)
      // A common key counted only as far as the rare one ("at least ...") is not counted again either.
      const common = () => Article.find({ where: { status: 'published', tags: 'rare' } })
      const counted = await common().explain()
      const repeated = await common().explain()
      expect(repeated).toMatchObject({ index: 'tags', actual: { results: 6, objects: 6 } })
      expect(repeated.actual.indexEntries).toBeLessThanOrEqual(counted.actual.indexEntries - 100)
      // 60 more 'rare' articles outside the range: now the range is the smaller condition.
      const more: Article[] = []
      for await (const a of Article.find({ where: { tags: 'news', rank: { gte: 200 } }, limit: 60 })) more.push(a)
      for (const a of more) await a.update({ tags: ['news', 'rare'] })
      const after = await q().explain()
      expect(after).toMatchObject({ index: 'rank', actual: { results: 1, objects: 1 } })
    })

    it('keeps the keys records it checked until a write changes the collection, and sees the write', async () => {
      await seed()
      await t.reopen() // no instance in memory: candidates are checked on their keys records
      // The 6 'rare' articles are all published: candidates the keys records rule out, never read.
      const q = () => Article.find({ where: { status: 'draft', tags: 'rare' } })
      expect((await q().explain()).actual).toMatchObject({ results: 0, objects: 0, keysRecords: 6, keysRecordsKept: 0 })
      expect((await q().explain()).actual).toMatchObject({ results: 0, keysRecords: 6, keysRecordsKept: 6 })
      // One of them becomes a draft: its kept keys record is stale now.
      const rare = await Article.find({ where: { tags: 'rare' } }).oids()
      await (await Article.get(rare[0]!))!.update({ status: 'draft' })
      expect((await q().explain()).actual).toMatchObject({ results: 1, keysRecordsKept: 0 })
      expect(await q().oids()).toEqual([rare[0]])
    })

    it('a repeated sorted query with a limit counts the collection once, not on every run', async () => {
      await seed()
      await Article.find({ where: { tags: 'news' } }).count() // counts tags = news to its end
      const q = () => Article.find({ where: { tags: 'news' }, orderBy: { rank: 'desc' }, limit: 5 })
      const first = await q().explain()
      const again = await q().explain()
      expect(again).toMatchObject({ driver: first.driver, actual: { results: 5, objects: 5 } })
      expect(again.actual.indexEntries).toBeLessThan(N / 4)
      const ranks: number[] = []
      for await (const a of q()) ranks.push(a.rank!)
      expect(ranks).toEqual([599, 598, 597, 596, 595])
    })

    it('an AND of two common keys reads no object it does not give', async () => {
      await seed()
      const e = await Article.find({ where: { status: 'published', tags: 'news' } }).explain()
      expect(e.actual.results).toBe(N / 2)
      expect(e.actual.objects).toBe(N / 2)
    })

    it('a range and an equality: objects read equal the results', async () => {
      await seed()
      const e = await Article.find({ where: { rank: { gte: 100, lt: 140 }, status: 'draft' } }).explain()
      expect(e.actual).toMatchObject({ results: 20, objects: 20 })
      expect(e.index).toBe('rank')
    })

    it('intersects with a small condition instead of reading keys records', async () => {
      await seed()
      const e = await Article.find({ where: { rank: { gte: 100, lt: 110 }, tags: 'rare' } }).explain()
      expect(e.actual).toMatchObject({ results: 1, objects: 1, keysRecords: 0 })
      expect(e.intersected.length).toBe(1)
    })

    it('reads in index order when the sort matches an index, so the limit stops the scan early', async () => {
      await seed()
      const q = Article.find({ where: { status: 'published' }, orderBy: { date: 'desc' }, limit: 5 })
      const e = await q.explain()
      expect(e).toMatchObject({ driver: 'order-index', index: 'date', sortedInMemory: false, actual: { results: 5, objects: 5 } })
      expect(e.actual.keysRecords).toBeLessThan(N / 4)
      const ranks: number[] = []
      for await (const a of q) ranks.push(a.rank!)
      expect(ranks).toEqual([599, 597, 595, 593, 591])
    })

    it('an or without an indexed condition in where reads the union of its alternatives, not every object', async () => {
      await seed()
      const e = await Article.find({ or: [{ tags: 'rare' }, { rank: { in: [5, 6] } }] }).explain()
      expect(e).toMatchObject({ driver: 'union', actual: { results: 8, objects: 8, keysRecords: 0 } })
      expect(e.actual.indexEntries).toBeLessThan(N / 10)
      const checked = await Article.find({ or: [{ tags: 'rare', status: 'published' }, { rank: 5 }] }).explain()
      expect(checked).toMatchObject({ driver: 'union', actual: { results: 7, objects: 7 } })
    })

    it('sorts a few rare matches in memory rather than read the sort index until it finds them', async () => {
      await seed()
      const e = await Article.find({ where: { tags: 'rare' }, orderBy: { date: 'desc' }, limit: 2 }).explain()
      expect(e).toMatchObject({ driver: 'index', index: 'tags', sortedInMemory: true, actual: { results: 2, objects: 2 } })
      // Each of the 6 candidates' sort key comes from its instance in memory or its keys record.
      expect(e.actual.keysRecords + e.actual.instancesChecked).toBe(6)
    })

    it('checks candidates on their instances in memory when these show what is stored, reading no keys record', async () => {
      await seed()
      const q = () => Article.find({ where: { status: 'published', tags: 'rare' } })
      const e = await q().explain()
      expect(e.actual).toMatchObject({ results: 6, objects: 6, keysRecords: 0, instancesChecked: 6 })
      // An instance with an unsaved change is checked on its keys record: it is found by its stored status.
      const changed = (await Article.find({ where: { tags: 'rare' } }).first())!
      changed.status = 'draft'
      const again = await q().explain()
      expect(again.actual).toMatchObject({ results: 6, keysRecords: 1, instancesChecked: 5 })
      expect(await q().oids()).toContain(changed.oid)
      if (!t.store.persistent) return
      // Instances not in memory: keys records.
      await t.reopen()
      expect((await q().explain()).actual).toMatchObject({ results: 6, objects: 6, keysRecords: 6, instancesChecked: 0 })
    })

    it('a limit without a sort stops early in creation order', async () => {
      await seed()
      const e = await Article.find({ where: { status: 'draft' }, limit: 3 }).explain()
      expect(e.actual).toMatchObject({ results: 3, objects: 3 })
      expect(e.actual.indexEntries + e.actual.keysRecords).toBeLessThan(N)
    })

    it('estimates from index statistics: the estimate of objects is near the actual count', async () => {
      await seed()
      const e = await Article.find({ where: { tags: 'rare' } }).explain()
      expect(e.estimated.objects).toBe(6)
      expect(e.actual.objects).toBe(6)
    })
  })
}
