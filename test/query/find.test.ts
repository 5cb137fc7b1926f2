import { describe, expect, it } from 'vitest'
import { QueryError, StowageError } from '../../src/index.js'
import { databaseEach, storeKinds } from '../helpers/stores.js'
import { Article } from './models.js'

const day = (d: number) => new Date(Date.UTC(2026, 0, d))

async function titles(q: AsyncIterable<Article>): Promise<string[]> {
  const out: string[] = []
  for await (const a of q) out.push(a.title)
  return out
}

/** a0..a9: status alternates (even draft), tags, dates day 1..10, rank 0..9, views 10*i, a3 pinned. */
async function seed(): Promise<Article[]> {
  const out: Article[] = []
  for (let i = 0; i < 10; i++) {
    out.push(
      await Article.create({
        title: `a${i} ${i % 3 === 0 ? 'stowage' : 'other'} words`,
        status: i % 2 === 0 ? 'draft' : 'published',
        tags: i === 7 ? ['rare', 'news'] : i % 2 === 0 ? ['news'] : ['news', 'tech'],
        date: day(10 - i),
        rank: i,
        pinned: i === 3,
        views: 10 * i,
      }),
    )
  }
  return out
}

const names = (...n: number[]) => n.map((i) => `a${i}`)
const short = (t: string[]) => t.map((s) => s.split(' ')[0]!)

for (const kind of storeKinds) {
  describe(`Model.find() on ${kind.name}`, () => {
    databaseEach(kind, [Article])

    it('with no options gives every object in creation order', async () => {
      await seed()
      expect(short(await titles(Article.find()))).toEqual(names(0, 1, 2, 3, 4, 5, 6, 7, 8, 9))
    })

    it('matches keys, "has this key" on a multi-key index, in, ranges and prefixes', async () => {
      await seed()
      expect(short(await titles(Article.find({ where: { status: 'published' } })))).toEqual(names(1, 3, 5, 7, 9))
      expect(short(await titles(Article.find({ where: { tags: 'tech' } })))).toEqual(names(1, 3, 5, 9))
      expect(short(await titles(Article.find({ where: { rank: { in: [8, 2, 5, 42] } } })))).toEqual(names(2, 5, 8))
      expect(short(await titles(Article.find({ where: { rank: { gt: 2, lte: 5 } } })))).toEqual(names(3, 4, 5))
      expect(short(await titles(Article.find({ where: { rank: { gte: 7 } } })))).toEqual(names(7, 8, 9))
      expect(short(await titles(Article.find({ where: { date: { lt: day(3) } } })))).toEqual(names(8, 9))
      expect(short(await titles(Article.find({ where: { words: { prefix: 'stow' } } })))).toEqual(names(0, 3, 6, 9))
      expect(short(await titles(Article.find({ where: { pinned: true } })))).toEqual(names(3))
      // Undefined conditions and bounds are left out, so optional criteria can be written inline.
      expect(short(await titles(Article.find({ where: { rank: { gte: undefined, lt: 3 }, status: undefined } })))).toEqual(names(0, 1, 2))
      expect(short(await titles(Article.find({ where: { tags: { all: ['news', 'tech'] } } })))).toEqual(names(1, 3, 5, 9))
      expect(short(await titles(Article.find({ where: { words: { all: ['stowage', 'words'] }, tags: { all: ['rare'] } } })))).toEqual([])
      expect(short(await titles(Article.find({ where: { words: { all: ['words', 'other'] } } })))).toEqual(names(1, 2, 4, 5, 7, 8))
    })

    it('ANDs the conditions of where, and checks properties without an index on the objects', async () => {
      await seed()
      expect(short(await titles(Article.find({ where: { status: 'published', tags: 'rare' } })))).toEqual(names(7))
      expect(short(await titles(Article.find({ where: { status: 'draft', rank: { gte: 4 } } })))).toEqual(names(4, 6, 8))
      expect(short(await titles(Article.find({ where: { views: { gte: 50 }, status: 'published' } })))).toEqual(names(5, 7, 9))
      expect(short(await titles(Article.find({ where: { views: 30 } })))).toEqual(names(3))
      expect(short(await titles(Article.find({ where: { status: 'published', tags: 'tech', rank: { lt: 9 }, words: 'stowage' } })))).toEqual(names(3))
    })

    it('or: at least one alternative holds, in addition to where', async () => {
      await seed()
      expect(short(await titles(Article.find({ or: [{ rank: 1 }, { tags: 'rare' }, { views: 90 }] })))).toEqual(names(1, 7, 9))
      expect(short(await titles(Article.find({ where: { status: 'draft' }, or: [{ rank: { lt: 3 } }, { views: { gt: 70 } }] })))).toEqual(names(0, 2, 8))
      expect(short(await titles(Article.find({ or: [{ views: 10 }, { views: 20 }] })))).toEqual(names(1, 2))
    })

    it('filter is checked on the objects that pass the conditions', async () => {
      await seed()
      const seen: string[] = []
      const q = Article.find({
        where: { status: 'published' },
        filter: (a) => {
          seen.push(a.title.split(' ')[0]!)
          return a.views > 40
        },
      })
      expect(short(await titles(q))).toEqual(names(5, 7, 9))
      expect(seen).toEqual(names(1, 3, 5, 7, 9))
    })

    it('orderBy an index or a property, asc or desc, with offset and limit', async () => {
      await seed()
      expect(short(await titles(Article.find({ orderBy: { date: 'asc' } })))).toEqual(names(9, 8, 7, 6, 5, 4, 3, 2, 1, 0))
      expect(short(await titles(Article.find({ where: { status: 'draft' }, orderBy: { rank: 'desc' }, limit: 2 })))).toEqual(names(8, 6))
      expect(short(await titles(Article.find({ where: { tags: 'news' }, orderBy: { date: 'desc' }, offset: 2, limit: 3 })))).toEqual(names(2, 3, 4))
      expect(short(await titles(Article.find({ orderBy: { views: 'desc' }, limit: 3 })))).toEqual(names(9, 8, 7))
      expect(short(await titles(Article.find({ where: { status: 'published' }, orderBy: { views: 'asc' }, offset: 1 })))).toEqual(names(3, 5, 7, 9))
      expect(short(await titles(Article.find({ offset: 8 })))).toEqual(names(8, 9))
      expect(short(await titles(Article.find({ limit: 0 })))).toEqual([])
    })

    it('first(), count() and oids()', async () => {
      const all = await seed()
      const q = Article.find({ where: { tags: 'tech' }, orderBy: { rank: 'desc' } })
      expect((await q.first())?.title).toBe(all[9]!.title)
      expect(await q.count()).toBe(4)
      expect(await q.oids()).toEqual([9, 5, 3, 1].map((i) => all[i]!.oid))
      expect(await Article.find({ where: { rank: 100 } }).first()).toBeUndefined()
      expect(await Article.find({ where: { status: 'draft' }, limit: 2 }).count()).toBe(2)
      // A filter needs the objects: oids() reads them then.
      expect(await Article.find({ where: { status: 'published' }, filter: (a) => a.views > 60 }).oids()).toEqual([7, 9].map((i) => all[i]!.oid))
    })

    it('explain(): an AND of a rare and a common key reads only the matching objects', async () => {
      await seed()
      const e = await Article.find({ where: { tags: 'news', status: 'published', words: 'stowage' } }).explain()
      expect(e.actual.results).toBe(2)
      expect(e.actual.objects).toBe(2)
      const r = await Article.find({ where: { tags: 'rare', status: 'published' } }).explain()
      expect(r.actual).toMatchObject({ results: 1, objects: 1 })
    })

    it('refuses bad input with QueryError naming the model and the condition, before reading', async () => {
      const bad: [unknown, RegExp][] = [
        [{ where: { nope: 1 } }, /Article\.find\(\): where\.nope: Article has no index or property named "nope"/],
        [{ where: { pinned: { gt: false } } }, /where\.pinned: a range on pinned, whose keys are booleans/],
        [{ where: { rank: 'x' } }, /where\.rank: the key: "x" is a string, and the keys here are numbers/],
        [{ where: { status: 'archived' } }, /where\.status: the key: "archived" is not one of the values "draft", "published"/],
        [{ where: { rank: { prefix: 'a' } } }, /where\.rank: "prefix" selects string keys/],
        [{ where: { rank: { gt: 5, lt: 2 } } }, /where\.rank: conflicting bounds/],
        [{ where: { rank: { gt: 5, lt: 'x' } } }, /where\.rank: lt: "x" is a string/],
        [{ where: { words: { gt: 5, lt: 'x' } } }, /where\.words: bounds of different kinds/],
        [{ where: { rank: { in: [1], gt: 0 } } }, /"in" cannot be combined with gt/],
        [{ where: { rank: { between: 1 } } }, /unknown operator "between"/],
        [{ where: { rank: {} } }, /an empty condition/],
        [{ where: { tags: { all: [] } } }, /where\.tags: "all" takes a non-empty array of keys/],
        [{ where: { tags: { all: ['a'], in: ['b'] } } }, /where\.tags: "all" cannot be combined with in/],
        [{ where: { tags: { all: ['a', { gt: 'b' }] } } }, /where\.tags: all\[1\]: an object \(Object\) is not a key/],
        [{ where: { rank: { all: [1, 'x'] } } }, /where\.rank\.all\[1\]: the key: "x" is a string/],
        [{ where: { rank: null } }, /null is not a key to query/],
        [{ where: { rank: NaN } }, /NaN is not an index key/],
        [{ or: [] }, /or takes a non-empty array/],
        [{ or: [{ rank: 1 }, undefined] }, /or\[1\] is undefined/],
        [{ or: [3] }, /or\[0\] takes an object of conditions/],
        [{ or: [{ nope: 1 }] }, /or\[0\]\.nope: Article has no index or property/],
        [{ limit: -1 }, /limit must be a non-negative integer, got number -1/],
        [{ offset: 1.5 }, /offset must be a non-negative integer/],
        [{ orderBy: { rank: 'up' } }, /orderBy\.rank must be 'asc' or 'desc'/],
        [{ orderBy: { rank: 'asc', date: 'asc' } }, /orderBy takes one/],
        [{ orderBy: { nope: 'asc' } }, /orderBy: Article has no index or property named "nope"/],
        [{ filter: 3 }, /filter must be a function/],
        [{ sort: {} }, /unknown option "sort"/],
        [{ orderBy: { views: 'asc' }, limit: 20_000 }, /sorts in memory/],
      ]
      for (const [options, message] of bad) {
        let caught: unknown
        try {
          Article.find(options as never)
        } catch (err) {
          caught = err
        }
        expect(caught, JSON.stringify(options)).toBeInstanceOf(QueryError)
        expect((caught as StowageError).code).toBe('QUERY')
        expect((caught as Error).message).toMatch(message)
      }
    })
  })
}
