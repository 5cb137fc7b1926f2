import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { Database, Model, NotFoundError, Property, StoredObject, Types, ValidationError } from '../../src/index.js'
import { storeKinds, type Store } from '../helpers/stores.js'

@Model()
class Item extends StoredObject {
  @Property(Types.STRING, { required: true }) name!: string
  @Property(Types.INTEGER) qty = 0
  @Property(Types.LIST(Types.STRING)) tags: string[] = []
}

for (const kind of storeKinds) {
  describe(`transactions on ${kind.name}`, () => {
    let store: Store
    let db: Database
    beforeEach(async () => {
      store = await kind.make()
      db = await Database.open({ engine: store.engine(), models: [Item] })
    })
    afterEach(async () => {
      await db.close()
      await store.cleanup()
    })

    async function reopen(): Promise<void> {
      await db.close()
      db = await Database.open({ engine: store.engine(), models: [Item] })
    }

    it('commits saves, removes, and objects created or changed without save()', async () => {
      const old = await Item.create({ name: 'old' })
      const changed = await Item.create({ name: 'changed' })
      const mutated = await Item.create({ name: 'mutated' })
      let created!: Item
      const result = await db.transaction(async () => {
        created = new Item({ name: 'created' }) // never saved explicitly
        await Item.create({ name: 'explicit' })
        changed.qty = 5 // assigned, no save()
        ;(await Item.get(mutated.oid))!.tags.push('x') // changed in place after a read
        await old.remove()
        // Reads inside see the transaction's own new objects.
        expect(await Item.get(created.oid)).toBe(created)
        expect(await Item.count()).toBe(3) // the store itself is untouched until commit
        return 'done'
      })
      expect(result).toBe('done')
      if (store.persistent) await reopen()
      const names: string[] = []
      for await (const i of Item.all()) names.push(i.name)
      expect(names.sort()).toEqual(['changed', 'created', 'explicit', 'mutated'])
      expect((await Item.get(changed.oid))!.qty).toBe(5)
      expect((await Item.get(mutated.oid))!.tags).toEqual(['x'])
      expect(await Item.has(old.oid)).toBe(false)
      expect(await Item.has(created.oid)).toBe(true)
    })

    it('imports inside a transaction commit with it, keeping the exported update times', async () => {
      const item = await Item.create({ name: 'a', qty: 1 })
      const exported = { ...item.export(), qty: 7, updates: { ...item.export().updates, qty: item.getUpdateTime('qty')! + 5000 } }
      await expect(
        db.transaction(async () => {
          await Item.import(exported)
          throw new Error('abort')
        }),
      ).rejects.toThrow('abort')
      if (store.persistent) {
        await reopen()
        expect((await Item.get(item.oid))!.qty).toBe(1) // nothing was written
      }
      await db.transaction(async () => {
        await Item.import(exported)
      })
      if (store.persistent) await reopen()
      const back = (await Item.get(item.oid))!
      expect(back.qty).toBe(7)
      expect(back.getUpdateTime('qty')).toBe(exported.updates.qty)
    })

    it('writes nothing when the function throws, and rethrows', async () => {
      const kept = await Item.create({ name: 'kept', qty: 1 })
      const boom = new Error('boom')
      await expect(
        db.transaction(async () => {
          await Item.create({ name: 'never' })
          kept.qty = 2
          await kept.save()
          await kept.remove()
          throw boom
        }),
      ).rejects.toBe(boom)
      // The live instance is back as stored, for everyone who holds it.
      expect(kept.qty).toBe(1)
      expect(db.identity.pinnedCount).toBe(0)
      if (store.persistent) await reopen()
      expect(await Item.count()).toBe(1)
      const back = (await Item.get(kept.oid))!
      expect(back.name).toBe('kept')
      expect(back.qty).toBe(1)
    })

    it('puts back the stored objects a failed transaction changed, and leaves other unsaved work alone', async () => {
      const assigned = await Item.create({ name: 'assigned', qty: 1 })
      const mutated = await Item.create({ name: 'mutated', tags: ['a'] })
      const dirtyBefore = await Item.create({ name: 'dirty', qty: 1 })
      dirtyBefore.qty = 9 // unsaved before the transaction, only read inside
      let created!: Item
      const boom = new Error('boom')
      await expect(
        db.transaction(async () => {
          assigned.qty = 2
          ;(await Item.get(mutated.oid))!.tags.push('b')
          await Item.get(dirtyBefore.oid)
          created = new Item({ name: 'created', qty: 5 })
          throw boom
        }),
      ).rejects.toBe(boom)
      expect(assigned.qty).toBe(1)
      expect(mutated.tags).toEqual(['a'])
      expect(dirtyBefore.qty).toBe(9)
      expect(created.qty).toBe(5) // never stored: stays as made, unsaved
      expect(await Item.has(created.oid)).toBe(false)
      await assigned.save() // nothing left to write
      expect((await Item.get(assigned.oid))!.qty).toBe(1)
    })

    it('puts back the objects of a transaction refused at commit', async () => {
      const a = await Item.create({ name: 'a', qty: 1 })
      const b = await Item.create({ name: 'b', qty: 1 })
      await expect(
        db.transaction(async () => {
          a.qty = 2
          b.name = undefined as never // name is required
        }),
      ).rejects.toBeInstanceOf(ValidationError)
      expect([a.qty, b.name]).toEqual([1, 'b'])
      if (store.persistent) await reopen()
      expect((await Item.get(a.oid))!.qty).toBe(1)
    })

    it('revert() discards unsaved changes, and refuses objects with nothing stored', async () => {
      const item = await Item.create({ name: 'item', qty: 1, tags: ['a'] })
      const qtyTime = item.getUpdateTime('qty')
      item.qty = 2
      item.tags.push('b')
      item.name = 'renamed'
      expect(db.identity.pinnedCount).toBe(1)
      expect(await item.revert()).toBe(item)
      expect([item.name, item.qty, item.tags]).toEqual(['item', 1, ['a']])
      expect(item.getUpdateTime('qty')).toBe(qtyTime)
      expect(db.identity.pinnedCount).toBe(0)
      // Reverting inside a transaction takes the object out of its write.
      await db.transaction(async () => {
        item.qty = 7
        await item.revert()
      })
      if (store.persistent) await reopen()
      expect((await Item.get(item.oid))!.qty).toBe(1)

      const fresh = new Item({ name: 'fresh' })
      await expect(fresh.revert()).rejects.toThrow(NotFoundError)
      await expect(fresh.revert()).rejects.toThrow(/never saved/)
      const gone = await Item.create({ name: 'gone' })
      await gone.remove()
      await expect(gone.revert()).rejects.toThrow(/was removed/)
    })

    it('writes nothing when one object is invalid at commit', async () => {
      await expect(
        db.transaction(async () => {
          for (let i = 0; i < 10; i++) new Item({ name: `ok${i}` })
          new Item({ qty: 3 } as never) // name is required
        }),
      ).rejects.toBeInstanceOf(ValidationError)
      expect(await Item.count()).toBe(0)
    })

    it('commits 1,000 objects in one atomic write', async () => {
      await db.transaction(async () => {
        for (let i = 0; i < 1000; i++) await Item.create({ name: `n${i}`, qty: i })
      })
      expect(await Item.count()).toBe(1000)
      if (store.persistent) {
        await reopen()
        expect(await Item.count()).toBe(1000)
      }
    })

    it('joins an outer transaction when nested, and keeps concurrent transactions apart', async () => {
      const a = db.transaction(async () => {
        await Item.create({ name: 'a1' })
        await db.transaction(async () => {
          await Item.create({ name: 'a2' })
        })
        await new Promise((r) => setTimeout(r, 10))
        throw new Error('a fails')
      })
      const b = db.transaction(async () => {
        await Item.create({ name: 'b1' })
      })
      await expect(a).rejects.toThrow('a fails')
      await b
      const names: string[] = []
      for await (const i of Item.all()) names.push(i.name)
      expect(names).toEqual(['b1'])
    })
  })
}
