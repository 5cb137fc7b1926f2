import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ConstraintError, Database, IndexError, type IndexProgress, Model, Property, StoredObject, Types } from '../../src/index.js'
import { Index } from '../../src/indexes/index-decorator.js'
import { Indexing } from '../../src/indexes/indexing.js'
import { metaOf } from '../../src/model/meta.js'
import { storeKinds, type Store } from '../helpers/stores.js'
import { collect, expectExact, storedEntries, view } from './helpers.js'

@Model()
class Person extends StoredObject {
  @Property(Types.STRING) @Index(Indexing.normalize) name!: string
  @Property(Types.STRING) @Index(Indexing.normalize, { unique: true }) email?: string
  @Property(Types.NUMBER) @Index() score?: number
  @Property(Types.LIST(Types.STRING)) @Index() tags: string[] = []
  @Property(Types.DATE) @Index() born?: Date
  @Property(Types.STRING) @Index(Indexing.paths('/')) folder?: string
  @Property(Types.STRING) @Index(Indexing.updateTime, { name: 'updated' }) note?: string
  @Property(Types.BOOL) @Index() active?: boolean
}

@Model({
  collection: 'articles',
  indexes: { words: (a: Article) => Indexing.keywords([a.title, a.content]) },
})
class Article extends StoredObject {
  @Property(Types.STRING) title!: string
  @Property(Types.MARKDOWN) content = ''
  @Property(Types.ENUM('draft', 'published', 'archived')) @Index() status = 'draft'
}

let failNext: unknown = undefined
@Model()
class Fragile extends StoredObject {
  @Property(Types.ANY)
  @Index((v: unknown) => {
    if (failNext instanceof Error) throw failNext
    return failNext === undefined ? (v as any) : (failNext as any)
  })
  value?: unknown
  @Property(Types.STRING) @Index() label?: string
}

const MODELS = [Person, Article, Fragile]

for (const kind of storeKinds) {
  describe(`indexes on ${kind.name}`, () => {
    let store: Store
    let db: Database
    const progress: IndexProgress[] = []

    beforeEach(async () => {
      failNext = undefined
      store = await kind.make()
      db = await Database.open({ engine: store.engine(), models: MODELS, onIndexProgress: (p) => progress.push(p) })
    })
    afterEach(async () => {
      await db.close()
      await store.cleanup()
    })

    it('finds objects by key: get, one, has, count', async () => {
      const ann = await Person.create({ name: '  Ann  SMITH ', email: 'ann@x.org' })
      const bob = await Person.create({ name: 'Bob', email: 'bob@x.org' })
      const ann2 = await Person.create({ name: 'ann smith' })
      const byName = view(Person, 'name')
      expect(await collect(byName.get('ann smith'))).toEqual([ann, ann2]) // same instances, creation order
      expect(await collect(byName.get('Ann Smith'))).toEqual([]) // matched as given
      expect(await collect(byName.get(Indexing.normalize('Ann   Smith')))).toEqual([ann, ann2])
      expect(await byName.one('ann smith')).toBe(ann)
      expect(await byName.one('ann smith', 1)).toBe(ann2)
      expect(await byName.one('ann smith', 2)).toBeUndefined()
      expect(await byName.one('nobody')).toBeUndefined()
      expect(await byName.has('bob')).toBe(true)
      expect(await byName.has('carl')).toBe(false)
      expect(await byName.count('ann smith')).toBe(2)
      expect(await byName.count('carl')).toBe(0)
      expect(await view(Person, 'email').one('bob@x.org')).toBe(bob)
      await expectExact(db, Person)
    })

    it('keeps indexes exact through updates and removes', async () => {
      const p = await Person.create({ name: 'Ann', tags: ['a', 'b'], score: 1 })
      const byName = view(Person, 'name')
      const byTag = view(Person, 'tags')
      await p.update({ name: 'Anna', tags: ['b', 'c'], score: undefined })
      expect(await byName.has('ann')).toBe(false)
      expect(await byName.one('anna')).toBe(p)
      expect(await collect(byTag.keys())).toEqual(['b', 'c'])
      expect(await collect(view(Person, 'score').keys())).toEqual([])
      await expectExact(db, Person)
      p.name = 'Zed'
      await p.save()
      expect(await collect(byName.keys())).toEqual(['zed'])
      await p.remove()
      expect(await collect(byName.keys())).toEqual([])
      expect(await collect(byTag.keys())).toEqual([])
      expect(await byName.count('zed')).toBe(0)
      await expectExact(db, Person)
      for (const index of metaOf(Person)!.indexes.keys()) expect(await storedEntries(db, metaOf(Person)!, index)).toEqual([])
    })

    it('gives one key per array element and lists distinct keys in order', async () => {
      const a = await Person.create({ name: 'A', tags: ['red', 'blue', 'red'] })
      const b = await Person.create({ name: 'B', tags: ['blue'] })
      const byTag = view(Person, 'tags')
      expect(await collect(byTag.keys())).toEqual(['blue', 'red'])
      expect(await collect(byTag.get('blue'))).toEqual([a, b])
      expect(await byTag.count('red')).toBe(1)
    })

    it('orders numbers numerically (negatives, fractions), Dates by time, booleans', async () => {
      const scores = [10, -2.5, 0, 3, -100, 0.25, 2, -0.001, 1e6]
      for (const score of scores) await Person.create({ name: String(score), score })
      const byScore = view(Person, 'score')
      const sorted = [...scores].sort((x, y) => x - y)
      expect(await collect(byScore.keys())).toEqual(sorted)
      expect((await collect(byScore.list())).map((p) => p.score)).toEqual(sorted)
      expect((await collect(byScore.list({ reverse: true }))).map((p) => p.score)).toEqual([...sorted].reverse())
      expect((await collect(byScore.list({ gte: 0, lt: 3 }))).map((p) => p.score)).toEqual([0, 0.25, 2])
      expect((await collect(byScore.list({ gt: 0, lte: 3 }))).map((p) => p.score)).toEqual([0.25, 2, 3])
      expect((await collect(byScore.list({ lt: 0 }))).map((p) => p.score)).toEqual([-100, -2.5, -0.001])
      expect((await collect(byScore.list({ gt: 2, offset: 1, limit: 1 }))).map((p) => p.score)).toEqual([10])
      expect((await collect(byScore.list({ lte: 2, reverse: true, limit: 2 }))).map((p) => p.score)).toEqual([2, 0.25])

      const dates = [new Date('2020-01-01'), new Date('1969-07-20'), new Date('2026-11-22T10:00:00Z')]
      for (const born of dates) await Person.create({ name: 'd', born })
      const byBorn = view(Person, 'born')
      expect((await collect(byBorn.keys())).map((d) => (d as Date).toISOString())).toEqual(
        [...dates].sort((x, y) => x.getTime() - y.getTime()).map((d) => d.toISOString()),
      )
      expect((await collect(byBorn.list({ gte: new Date('2000-01-01') }))).map((p) => p.born!.getFullYear())).toEqual([2020, 2026])
      expect(await byBorn.count(new Date('1969-07-20'))).toBe(1)
      expect(await byBorn.count(new Date('1969-07-20').getTime())).toBe(0) // a number is not the same key as a Date

      await Person.create({ name: 't', active: true })
      await Person.create({ name: 'f', active: false })
      expect(await collect(view(Person, 'active').keys())).toEqual([false, true])
    })

    it('lists string keys by prefix and range, an object once even with several keys in range', async () => {
      const docs = await Promise.all(['a', 'ab', 'a/b', 'b', 'abc', 'B'].map((folder) => Person.create({ name: folder, folder })))
      const [, , , , , upperB] = docs
      const multi = await Person.create({ name: 'm', tags: ['apple', 'apricot', 'banana'] })
      const byFolder = view(Person, 'folder')
      // paths('/') indexes 'a/b' under 'a' too.
      expect((await collect(byFolder.list({ prefix: 'a' }))).map((p) => p.folder)).toEqual(['a', 'a/b', 'a/b', 'ab', 'abc'].filter((f, i, all) => all.indexOf(f) === i).sort())
      expect((await collect(byFolder.get('a'))).map((p) => p.folder)).toEqual(['a', 'a/b'])
      expect((await collect(byFolder.list({ gte: 'ab', lt: 'b' }))).map((p) => p.folder)).toEqual(['ab', 'abc'])
      expect(await collect(byFolder.list({ prefix: 'B' }))).toEqual([upperB])
      expect((await collect(byFolder.list({ prefix: '' }))).length).toBe(6)
      expect(await collect(view(Person, 'tags').list({ prefix: 'ap' }))).toEqual([multi])
      expect(await collect(view(Person, 'tags').list({ gte: 'a' }))).toEqual([multi])
    })

    it('streams long results in batches with offset, limit and early exit', async () => {
      await db.transaction(() => {
        for (let i = 0; i < 300; i++) new Person({ name: 'same', score: i })
      })
      const byScore = view(Person, 'score')
      const scores = async (it: AsyncIterable<Person>) => (await collect(it)).map((p) => p.score)
      expect(await scores(byScore.list())).toEqual(Array.from({ length: 300 }, (_, i) => i))
      expect(await scores(byScore.list({ offset: 40, limit: 45 }))).toEqual(Array.from({ length: 45 }, (_, i) => 40 + i))
      expect(await scores(byScore.list({ gte: 100, limit: 200, reverse: true }))).toEqual(Array.from({ length: 200 }, (_, i) => 299 - i))
      expect(await scores(byScore.list({ limit: 0 }))).toEqual([])
      expect(await scores(byScore.list({ offset: 299 }))).toEqual([299])
      const byName = view(Person, 'name')
      expect(await byName.count('same')).toBe(300)
      expect((await collect(byName.get('same'))).length).toBe(300)
      expect(await byName.one('same', 299)).toBeDefined()
      let seen = 0
      for await (const _ of byName.get('same')) if (++seen === 3) break
      expect(seen).toBe(3)
      expect(await collect(byName.keys())).toEqual(['same']) // seeks past the 300 entries of one key
    })

    it('indexes computed keywords and update times', async () => {
      const a = await Article.create({ title: 'Émile Zola', content: 'Le roman naturaliste de Zola' })
      const b = await Article.create({ title: 'Zoology', content: 'Animals' })
      const words = view(Article, 'words')
      expect(await collect(words.get('zola'))).toEqual([a])
      expect(await collect(words.get('emile'))).toEqual([a])
      expect(await collect(words.list({ prefix: 'zo' }))).toEqual([a, b])
      await b.update({ title: 'Botany' })
      expect(await collect(words.list({ prefix: 'zo' }))).toEqual([a])
      await expectExact(db, Article)

      const p = await Person.create({ name: 'u', note: 'x' })
      const updated = view(Person, 'updated')
      expect(await updated.one(p.getUpdateTime()!)).toBe(p)
      const first = p.getUpdateTime()!
      await new Promise((r) => setTimeout(r, 5))
      await p.update({ note: 'y' })
      expect(p.getUpdateTime()).toBeGreaterThan(first)
      expect(await updated.has(first)).toBe(false)
      expect(await updated.one(p.getUpdateTime()!)).toBe(p)
      await expectExact(db, Person)
    })

    it('refuses a unique key held by another object, writing nothing', async () => {
      const ann = await Person.create({ name: 'Ann', email: 'ann@x.org' })
      const copy = new Person({ name: 'Copy', email: ' ANN@x.org', tags: ['t'] })
      const err = await copy.save().catch((e) => e)
      expect(err).toBeInstanceOf(ConstraintError)
      expect(err.code).toBe('CONSTRAINT')
      expect(err.message).toContain('Person.email')
      expect(err.message).toContain('"ann@x.org"')
      expect(err.message).toContain(ann.oid)
      expect(err.message).toContain(copy.oid)
      expect(await Person.has(copy.oid)).toBe(false)
      expect(await view(Person, 'tags').has('t')).toBe(false)
      expect(await view(Person, 'name').has('copy')).toBe(false)
      // Re-saving the holder is fine, and so is the key once released.
      await ann.update({ name: 'Ann B' })
      await ann.update({ email: 'ann@y.org' })
      await copy.save()
      expect(await view(Person, 'email').one('ann@x.org')).toBe(copy)
      await expectExact(db, Person)
    })

    it('checks unique keys across the objects of one transaction', async () => {
      const a = await Person.create({ name: 'A', email: 'a@x.org' })
      const b = await Person.create({ name: 'B', email: 'b@x.org' })
      // Two new objects claiming one key: nothing is written.
      const err = await db
        .transaction(async () => {
          await new Person({ name: 'C', email: 'c@x.org' }).save()
          await new Person({ name: 'D', email: 'c@x.org' }).save()
          a.name = 'A changed'
        })
        .catch((e) => e)
      expect(err).toBeInstanceOf(ConstraintError)
      expect(await view(Person, 'email').has('c@x.org')).toBe(false)
      expect(await view(Person, 'name').has('a changed')).toBe(false)
      expect(await Person.count()).toBe(2)
      // Swapping keys between two objects in one write is allowed.
      await db.transaction(async () => {
        a.email = 'b@x.org'
        b.email = 'a@x.org'
      })
      expect(await view(Person, 'email').one('a@x.org')).toBe(b)
      expect(await view(Person, 'email').one('b@x.org')).toBe(a)
      // A removal frees its key for another object in the same transaction.
      await db.transaction(async () => {
        await a.remove()
        await Person.create({ name: 'E', email: 'b@x.org' })
      })
      expect((await view(Person, 'email').one('b@x.org'))!.name).toBe('E')
      await expectExact(db, Person)
    })

    it('applies the saves and removes of a transaction to the indexes at once, or none of them', async () => {
      const keep = await Article.create({ title: 'Keep', status: 'draft' })
      const gone = await Article.create({ title: 'Gone', status: 'draft' })
      await db
        .transaction(async () => {
          keep.status = 'published'
          await gone.remove()
          throw new Error('changed my mind')
        })
        .catch(() => {})
      expect(await view(Article, 'status').count('draft')).toBe(2)
      await db.transaction(async () => {
        keep.status = 'published'
        await gone.remove()
        await Article.create({ title: 'New', status: 'archived' })
      })
      const byStatus = view(Article, 'status')
      expect(await collect(byStatus.keys())).toEqual(['archived', 'published'])
      expect(await byStatus.one('published')).toBe(keep)
      await expectExact(db, Article)
    })

    it('refuses index functions that throw or return what cannot be a key, writing nothing', async () => {
      const ok = await Fragile.create({ value: 'fine', label: 'one' })
      for (const bad of [new Error('boom'), { an: 'object' }, NaN, new Date(NaN), Symbol('s'), [['nested']], 'x'.repeat(2000)]) {
        failNext = bad
        const f = new Fragile({ value: 'v', label: 'two' })
        const err = await f.save().catch((e) => e)
        expect(err, String(bad?.toString?.())).toBeInstanceOf(IndexError)
        expect(err.code).toBe('INDEX')
        expect(err.message).toContain('Fragile.value')
        expect(err.message).toContain(f.oid)
        if (bad instanceof Error) expect(err.message).toContain('boom')
        expect(await Fragile.has(f.oid)).toBe(false)
        expect(await view(Fragile, 'label').has('two')).toBe(false)
        // An update that fails leaves the old entries.
        ok.label = 'changed'
        await expect(ok.save()).rejects.toThrow(IndexError)
        expect(await view(Fragile, 'label').one('one')).toBe(ok)
        ok.label = 'one'
      }
      failNext = undefined
      await ok.save()
      await expectExact(db, Fragile)
    })

    it('refuses an unknown index name, naming the indexes the model has', () => {
      expect(() => view(Article, 'nope')).toThrow(IndexError)
      expect(() => view(Article, 'nope')).toThrow(/Article has no index named "nope"; its indexes are: status, words/)
    })

    it('refuses query keys that cannot be keys, and bad list options', async () => {
      const byName = view(Person, 'name')
      expect(() => byName.get(undefined as any)).toThrow(IndexError)
      await expect(byName.count({} as any)).rejects.toThrow(IndexError)
      expect(() => byName.list({ limit: -1 })).toThrow(/limit/)
      expect(() => byName.list({ prefix: 3 as any })).toThrow(/prefix must be a string/)
      expect(() => byName.list({ gte: NaN })).toThrow(IndexError)
      expect(() => byName.list({ bogus: 1 } as any)).toThrow(/unknown option "bogus"/)
    })

    it('rebuilds every index with reindex()', async () => {
      for (let i = 0; i < 30; i++) await Person.create({ name: `p${i % 7}`, email: `p${i}@x.org`, score: i })
      const meta = metaOf(Person)!
      // Damage the index behind its back: drop entries, add a stray one.
      const entries = await storedEntries(db, meta, 'name')
      await db.engine.batch([
        ...entries.slice(0, 10).map((e) => ({ type: 'del' as const, key: `idx\x00e\x00Person\x00name\x00${e}` })),
        { type: 'put', key: 'idx\x00e\x00Person\x00name\x00sghost\x0001aaaaaaaaaaaaaaaaaaaaaaaa', value: null },
      ])
      progress.length = 0
      await db.reindex([Person])
      expect(progress.filter((p) => p.index === 'name').at(-1)).toEqual({ model: 'Person', index: 'name', done: 30, total: 30 })
      await expectExact(db, Person)
      expect(await view(Person, 'name').count('p0')).toBe(5)
      await db.reindex()
      await expectExact(db, Person)
    })
  })
}
