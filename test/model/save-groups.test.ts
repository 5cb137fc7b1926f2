import { describe, expect, it } from 'vitest'
import { ConstraintError, Model, Property, StoredObject, Types, ValidationError } from '../../src/index.js'
import { Index } from '../../src/indexes/index-decorator.js'
import { Indexing } from '../../src/indexes/indexing.js'
import { databaseEach, storeKinds } from '../helpers/stores.js'
import { collect, view } from '../indexes/helpers.js'

@Model({ collection: 'grouped' })
class Member extends StoredObject {
  @Property(Types.EMAIL) @Index(Indexing.normalize, { unique: true }) email!: string
  @Property(Types.INTEGER) @Index() score = 0
}

for (const kind of storeKinds) {
  describe(`saves made at once on ${kind.name}`, () => {
    const t = databaseEach(kind, [Member])

    it('are written in fewer batches than saves, and all stored with their index entries', async () => {
      const engine = t.db.engine
      let batches = 0
      const batch = engine.batch.bind(engine)
      engine.batch = (ops) => (batches++, batch(ops))
      const made = await Promise.all(Array.from({ length: 200 }, (_, i) => Member.create({ email: `m${i}@x.org`, score: i % 10 })))
      engine.batch = batch
      expect(batches).toBeLessThan(20)
      expect(await Member.count()).toBe(200)
      expect((await collect(view(Member, 'score').get(3))).length).toBe(20)
      await t.reopen()
      for (const m of made) expect((await Member.get(m.oid))?.email).toBe(m.email)
    })

    it('refuse a bad save alone: the others are stored', async () => {
      const results = await Promise.allSettled([
        Member.create({ email: 'a@x.org' }),
        Member.create({ email: 'not an email' }),
        Member.create({ email: 'b@x.org' }),
      ])
      expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled'])
      expect((results[1] as PromiseRejectedResult).reason).toBeInstanceOf(ValidationError)
      expect(await Member.count()).toBe(2)
    })

    it('give a contested unique key to exactly one of them', async () => {
      const results = await Promise.allSettled(Array.from({ length: 5 }, () => Member.create({ email: 'same@x.org' })))
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1)
      for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(ConstraintError)
      expect(await Member.count()).toBe(1)
      expect(await collect(view(Member, 'email').get('same@x.org'))).toHaveLength(1)
    })

    it('write a save and a remove of one object in order', async () => {
      const m = await Member.create({ email: 'gone@x.org' })
      m.score = 5
      await Promise.all([m.save(), m.remove(), Member.create({ email: 'kept@x.org' })])
      expect(await Member.get(m.oid)).toBeUndefined()
      expect(await Member.count()).toBe(1)
      expect(await collect(view(Member, 'score').get(5))).toEqual([])
    })

    it('are written after a transaction queued before them', async () => {
      const m = await Member.create({ email: 'order@x.org', score: 1 })
      const tx = t.db.transaction(async () => {
        m.score = 2
      })
      const after = await Member.get(m.oid)
      await Promise.all([tx, Member.create({ email: 'later@x.org', score: 3 })])
      expect(after).toBe(m)
      expect(m.score).toBe(2)
      expect((await collect(view(Member, 'score').get(2))).map((x) => x.oid)).toEqual([m.oid])
    })
  })
}
