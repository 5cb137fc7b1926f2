import { describe, expect, it } from 'vitest'
import { QueryError } from '../../src/index.js'
import { databaseEach, storeKinds } from '../helpers/stores.js'
import { Article } from './models.js'

// The bound does not depend on the engine: one engine is enough to reach it.
describe('sorting by a property without an index', () => {
  const t = databaseEach(storeKinds[0]!, [Article])

  it('holds at most 10,000 objects: more matching without a limit is refused with QueryError; a limit keeps only the top ones', async () => {
    for (let i = 0; i < 10_001; i += 1000) {
      await t.db.transaction(async () => {
        for (let j = i; j < Math.min(i + 1000, 10_001); j++) await Article.create({ title: `a${j}`, views: (j * 7919) % 10_007 })
      })
    }
    const all = Article.find({ orderBy: { views: 'desc' } })
    await expect(all.count()).rejects.toThrow(QueryError)
    await expect(all.count()).rejects.toThrow(/more than 10000 objects match; index views, or give a limit/)
    const top: number[] = []
    for await (const a of Article.find({ orderBy: { views: 'desc' }, offset: 1, limit: 3 })) top.push(a.views)
    expect(top).toEqual([10_005, 10_004, 10_003])
    // offset + limit between half the bound and the bound: only that many are held, never more than the bound.
    const page: number[] = []
    for await (const a of Article.find({ orderBy: { views: 'asc' }, offset: 5_000, limit: 1_000 })) page.push(a.views)
    const views = Array.from({ length: 10_001 }, (_, j) => (j * 7919) % 10_007).sort((a, b) => a - b)
    expect(page).toEqual(views.slice(5_000, 6_000))
  }, 60_000)
})
