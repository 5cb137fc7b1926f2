import { describe, expect, it } from 'vitest'
import { databaseEach, storeKinds } from '../helpers/stores.js'
import type { QueryExplanation } from '../../src/index.js'
import { Article } from './models.js'

const N = 600

/** N articles: status alternates (300 drafts), rank i. */
async function seed(): Promise<void> {
  for (let i = 0; i < N; i++) await Article.create({ title: `a${i}`, status: i % 2 === 0 ? 'draft' : 'published', rank: i })
}

/** A 1-in-15 rank range and status = draft: the range drives, the status is checked per candidate. */
const query = (lo: number, status: 'draft' | 'published' = 'draft') => Article.find({ where: { rank: { gte: lo, lt: lo + 40 }, status } })

/** The same query answered by reading every article. */
async function bruteForce(lo: number, status: string): Promise<string[]> {
  const out: string[] = []
  for await (const a of Article.all()) if (a.rank! >= lo && a.rank! < lo + 40 && a.status === status) out.push(a.oid)
  return out.sort()
}

/**
 * Runs the query over ranges until it decides the status by its oids (once its status checks pay
 * for reading them): the explanation of that run, and how many runs it took.
 */
async function untilKept(): Promise<{ runs: number; e: QueryExplanation }> {
  for (let runs = 1; runs <= 100; runs++) {
    const e = await query((runs * 20) % (N - 40)).explain()
    if (e.intersected.length > 0) return { runs, e }
  }
  throw new Error('the status oids were never kept')
}

for (const kind of storeKinds) {
  describe(`oids of a condition kept between queries on ${kind.name}`, () => {
    const t = databaseEach(kind, [Article])

    it('a condition queries keep checking candidates on is read once, then decides by its oids', async () => {
      await seed()
      const first = await query(100).explain()
      expect(first).toMatchObject({ index: 'rank', intersected: [], actual: { results: 20, objects: 20 } })
      expect(first.actual.keysRecords + first.actual.instancesChecked).toBe(40)
      // Only after 1,024 candidates were checked on the status is it read whole (its 300 drafts' entries), once.
      const { runs, e: reading } = await untilKept()
      expect(runs).toBeGreaterThanOrEqual(25)
      expect(reading).toMatchObject({ intersected: ['status'], actual: { results: 20, objects: 20, keysRecords: 0, instancesChecked: 0 } })
      expect(reading.actual.indexEntries).toBeGreaterThanOrEqual(300)
      const after = await query(300).explain()
      expect(after).toMatchObject({ intersected: ['status'], actual: { results: 20, keysRecords: 0, instancesChecked: 0 } })
      expect(after.actual.indexEntries).toBeLessThan(100)
      for (const lo of [0, 101, 559]) expect((await query(lo).oids()).sort()).toEqual(await bruteForce(lo, 'draft'))
      // Another key of the same index is a condition of its own: still checked per candidate.
      expect(await query(300, 'published').explain()).toMatchObject({ intersected: [], actual: { results: 20 } })
    })

    it('a write to the collection drops the kept oids: the next queries see it', async () => {
      await seed()
      await untilKept()
      const published = await Article.find({ where: { rank: 201 } }).first()
      await published!.update({ status: 'draft' })
      expect((await query(200).oids()).sort()).toEqual(await bruteForce(200, 'draft'))
      expect(await query(200).oids()).toContain(published!.oid)
      expect(await query(200).explain()).toMatchObject({ intersected: [] })
      // Kept again once checks pay for it, then dropped by a remove, and by a transaction.
      await untilKept()
      const draft = await Article.find({ where: { rank: 202 } }).first()
      await draft!.remove()
      expect(await query(200).oids()).not.toContain(draft!.oid)
      await untilKept()
      const other = await Article.find({ where: { rank: 203 } }).first()
      await t.db.transaction(async () => {
        other!.status = 'draft'
        await other!.save()
      })
      expect((await query(200).oids()).sort()).toEqual(await bruteForce(200, 'draft'))
    })
  })
}
