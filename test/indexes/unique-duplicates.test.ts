import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ConstraintError, Database, Model, Property, StoredObject, Types } from '../../src/index.js'
import { Index } from '../../src/indexes/index-decorator.js'
import { Indexing } from '../../src/indexes/indexing.js'
import { storeKinds, type Store } from '../helpers/stores.js'
import { collect, expectExact, oids, view } from './helpers.js'

// One collection, first without a unique index, then with one (as an app adds it to existing data).
@Model({ collection: 'people' })
class Loose extends StoredObject {
  @Property(Types.STRING) @Index(Indexing.normalize) email?: string
  @Property(Types.STRING) name?: string
  @Property(Types.LIST(Types.STRING)) @Index() tags: string[] = []
}

@Model({ collection: 'people' })
class Strict extends StoredObject {
  @Property(Types.STRING) @Index(Indexing.normalize, { unique: true }) email?: string
  @Property(Types.STRING) @Index() name?: string
  @Property(Types.LIST(Types.STRING)) @Index({ unique: true }) tags: string[] = []
}

for (const kind of storeKinds) {
  describe(`a unique index over duplicate keys on ${kind.name}`, () => {
    let store: Store
    let db: Database | undefined
    let ids: Record<string, string>

    async function open(model: Function): Promise<Database> {
      await db?.close()
      db = await Database.open({ engine: store.engine(), models: [model] })
      return db
    }

    beforeEach(async () => {
      store = await kind.make()
      await open(Loose)
      const made = {
        ann1: await Loose.create({ email: 'ann@x.org', name: 'Ann', tags: ['a', 'b'] }),
        bob1: await Loose.create({ email: 'bob@x.org', name: 'Bob' }),
        ann2: await Loose.create({ email: 'ANN@x.org', name: 'Ann two', tags: ['b'] }),
        cy: await Loose.create({ email: 'cy@x.org', name: 'Cy', tags: ['c'] }),
        bob2: await Loose.create({ email: 'Bob@x.org', name: 'Bob two', tags: ['b'] }),
      }
      ids = Object.fromEntries(Object.entries(made).map(([k, v]) => [k, v.oid]))
      await open(Strict)
    })
    afterEach(async () => {
      await db?.close()
      db = undefined
      await store.cleanup()
    })

    it('builds the index anyway: the model keeps working and queries answer', async () => {
      const dan = await Strict.create({ email: 'dan@x.org', name: 'Dan' })
      expect(await view(Strict, 'email').count('ann@x.org')).toBe(2)
      expect(oids(await collect(view(Strict, 'email').get('bob@x.org')))).toEqual([ids.bob1, ids.bob2])
      expect(await view(Strict, 'email').one('dan@x.org')).toBe(dan)
      expect(oids(await collect(view(Strict, 'name').get('Cy')))).toEqual([ids.cy])
      expect(await Strict.count()).toBe(6)
      await expectExact(db!, Strict)
    })

    it('answers one, has, count and get of a duplicated key in creation order, as the store changes', async () => {
      const email = view(Strict, 'email')
      expect(await email.has('ann@x.org')).toBe(true)
      expect(await email.has('nobody@x.org')).toBe(false)
      expect(await email.count('nobody@x.org')).toBe(0)
      expect((await email.one('ann@x.org'))?.oid).toBe(ids.ann1)
      expect((await email.one('ann@x.org', 1))?.oid).toBe(ids.ann2)
      expect(await email.one('ann@x.org', 2)).toBeUndefined()
      expect(oids(await collect(email.get('ann@x.org')))).toEqual([ids.ann1, ids.ann2])
      expect(oids(await collect(view(Strict, 'tags').get('b')))).toEqual([ids.ann1, ids.ann2, ids.bob2])
      expect(await Strict.find({ where: { email: 'ann@x.org' } }).oids()).toEqual([ids.ann1, ids.ann2])
      expect((await Strict.find({ where: { email: { in: ['bob@x.org', 'nobody@x.org', 'ann@x.org'] } } }).oids()).sort()).toEqual([ids.ann1, ids.ann2, ids.bob1, ids.bob2].sort())
      expect(await Strict.find({ where: { email: 'ann@x.org', name: 'Ann two' } }).oids()).toEqual([ids.ann2])
      expect(await Strict.find({ where: { email: 'nobody@x.org' } }).oids()).toEqual([])
      await (await Strict.get(ids.ann1))!.remove()
      await (await Strict.get(ids.bob2))!.update({ email: 'bob2@x.org' })
      expect(await email.count('ann@x.org')).toBe(1)
      expect((await email.one('ann@x.org'))?.oid).toBe(ids.ann2)
      expect(oids(await collect(email.get('bob@x.org')))).toEqual([ids.bob1])
      expect(oids(await collect(email.get('bob2@x.org')))).toEqual([ids.bob2])
      expect(await Strict.find({ where: { email: 'bob@x.org' } }).oids()).toEqual([ids.bob1])
      expect(await email.has('ann@x.org')).toBe(true)
      await expectExact(db!, Strict)
    })

    it('lists the duplicate keys with their oids, in key order', async () => {
      expect(await view(Strict, 'email').duplicates()).toEqual([
        { key: 'ann@x.org', oids: [ids.ann1, ids.ann2] },
        { key: 'bob@x.org', oids: [ids.bob1, ids.bob2] },
      ])
      expect(await view(Strict, 'tags').duplicates()).toEqual([{ key: 'b', oids: [ids.ann1, ids.ann2, ids.bob2] }])
      expect(await view(Strict, 'name').duplicates()).toEqual([])
    })

    it('accepts saves that keep or remove a duplicate, and refuses new ones', async () => {
      const [ann1, ann2, bob1, bob2, cy] = (await Strict.list()).sort((a, b) => ['ann1', 'ann2', 'bob1', 'bob2', 'cy'].indexOf(nameOf(a)) - ['ann1', 'ann2', 'bob1', 'bob2', 'cy'].indexOf(nameOf(b)))
      function nameOf(o: Strict): string {
        return Object.keys(ids).find((k) => ids[k] === o.oid)!
      }
      // A save that leaves a duplicate key as it was is fine, alone or with the other holder.
      await ann1!.update({ name: 'Ann renamed' })
      await db!.transaction(async () => {
        ann1!.name = 'Ann one'
        ann2!.name = 'Ann two, again'
      })
      // But not together with an object new to the key.
      const err = await db!.transaction(async () => {
        ann1!.name = 'Ann 1'
        cy!.email = 'ann@x.org'
      }).catch((e) => e)
      expect(err).toBeInstanceOf(ConstraintError)
      expect(err.message).toContain(`so Strict ${ids.cy} cannot take it`)
      expect(cy!.email).toBe('cy@x.org')
      // New duplicates are refused: a new object, or an object taking a held key.
      await expect(Strict.create({ email: 'ann@x.org' })).rejects.toThrow(ConstraintError)
      await expect(Strict.create({ email: 'new@x.org', tags: ['b'] })).rejects.toThrow(ConstraintError)
      await expect(cy!.update({ email: 'bob@x.org' })).rejects.toThrow(ConstraintError)
      await expect(cy!.update({ tags: ['c', 'a'] })).rejects.toThrow(ConstraintError)
      expect(cy!.email).toBe('cy@x.org')
      // Changing one holder's key removes the duplicate.
      await ann2!.update({ email: 'ann2@x.org', tags: [] })
      // Removing one holder does too.
      await bob2!.remove()
      expect(await view(Strict, 'email').duplicates()).toEqual([])
      expect(await view(Strict, 'tags').duplicates()).toEqual([])
      // Now the index is unique again, as always.
      await expect(Strict.create({ email: 'ann@x.org' })).rejects.toThrow(ConstraintError)
      await expect(Strict.create({ email: 'ANN2@x.org' })).rejects.toThrow(ConstraintError)
      expect(await view(Strict, 'email').one('bob@x.org')).toBe(bob1)
      await expectExact(db!, Strict)
      if (store.persistent) {
        await open(Strict)
        expect(await view(Strict, 'email').duplicates()).toEqual([])
        await expect(Strict.create({ email: 'bob@x.org' })).rejects.toThrow(ConstraintError)
        await expectExact(db!, Strict)
      }
    })

    it('keeps the duplicates listed across reopening and reindex()', async () => {
      await db!.reindex()
      expect((await view(Strict, 'email').duplicates()).map((d) => d.key)).toEqual(['ann@x.org', 'bob@x.org'])
      await Strict.create({ email: 'eve@x.org' })
      await open(Strict)
      expect((await view(Strict, 'email').duplicates()).map((d) => d.key)).toEqual(['ann@x.org', 'bob@x.org'])
      await expectExact(db!, Strict)
    })
  })
}
