import { describe, expect, it } from 'vitest'
import { databaseEach, storeKinds } from '../helpers/stores.js'
import { Article } from './models.js'

async function oidsOf(q: AsyncIterable<Article>): Promise<string[]> {
  const out: string[] = []
  for await (const a of q) out.push(a.oid)
  return out
}

for (const kind of storeKinds) {
  describe(`find() and transactions on ${kind.name}`, () => {
    const t = databaseEach(kind, [Article])

    it('inside a transaction, queries see committed data: not the transaction’s own creations, changes or removals', async () => {
      const kept = await Article.create({ title: 'kept', status: 'published', rank: 1 })
      const changed = await Article.create({ title: 'changed', status: 'published', rank: 2 })
      const removed = await Article.create({ title: 'removed', status: 'published', rank: 3 })
      let created: Article | undefined
      await t.db.transaction(async () => {
        created = await Article.create({ title: 'created', status: 'published', rank: 4 })
        await changed.update({ status: 'draft' })
        await removed.remove()
        // Index conditions are decided by the committed index entries.
        expect(await Article.find({ where: { status: 'published' } }).oids()).toEqual([kept.oid, changed.oid, removed.oid])
        expect(await oidsOf(Article.find({ where: { status: 'published' } }))).toEqual([kept.oid, changed.oid, removed.oid])
        expect(await Article.find({ where: { status: 'draft' } }).count()).toBe(0)
        expect(await Article.find({ where: { rank: 4 } }).first()).toBeUndefined()
      })
      // Once committed, queries see the transaction's writes.
      expect(await oidsOf(Article.find({ where: { status: 'published' } }))).toEqual([kept.oid, created!.oid])
      expect(await oidsOf(Article.find({ where: { status: 'draft' } }))).toEqual([changed.oid])
    })

    it('conditions checked per candidate see committed keys, on instances in memory as on keys records', async () => {
      const a = await Article.create({ title: 'a', status: 'published', tags: ['x'] })
      const b = await Article.create({ title: 'b', status: 'draft', tags: ['x'] })
      const c = await Article.create({ title: 'c', status: 'published', tags: ['x'] })
      // The `or` is checked per candidate of tags = 'x'.
      const q = () => Article.find({ where: { tags: 'x' }, or: [{ status: 'published' }, { pinned: true }] })
      expect((await q().explain()).actual).toMatchObject({ results: 2, keysRecords: 0, instancesChecked: 3 })
      a.status = 'draft' // unsaved: still found by its stored status
      b.status = 'published' // unsaved: still not found
      expect(await q().oids()).toEqual([a.oid, c.oid])
      // The two keys records the query before read are kept: they are not read again.
      expect((await q().explain()).actual).toMatchObject({ keysRecords: 2, keysRecordsKept: 2, instancesChecked: 1 })
      await a.save()
      await b.save()
      await t.db.transaction(async () => {
        await c.update({ status: 'draft' })
        await b.update({ pinned: true, status: 'draft' })
        expect(await q().oids()).toEqual([b.oid, c.oid])
        expect(await oidsOf(q())).toEqual([b.oid, c.oid])
      })
      expect(await q().oids()).toEqual([b.oid])
      expect((await q().explain()).actual).toMatchObject({ results: 1, keysRecords: 0, instancesChecked: 3 })
    })

    it('a transaction that fails leaves queries as they were', async () => {
      const a = await Article.create({ title: 'a', status: 'published' })
      await expect(
        t.db.transaction(async () => {
          await Article.create({ title: 'b', status: 'published' })
          throw new Error('abandon')
        }),
      ).rejects.toThrow('abandon')
      expect(await Article.find({ where: { status: 'published' } }).oids()).toEqual([a.oid])
    })

    it('conditions on properties without an index and filter see the live instance', async () => {
      const a = await Article.create({ title: 'a', views: 1 })
      a.views = 5 // not saved
      expect(await oidsOf(Article.find({ where: { views: 5 } }))).toEqual([a.oid])
    })
  })
}
