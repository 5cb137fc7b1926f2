import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { Database, Model, Property, StoredObject, Types, ValidationError } from '../../src/index.js'
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
      if (store.persistent) await reopen()
      expect(await Item.count()).toBe(1)
      const back = (await Item.get(kept.oid))!
      expect(back.name).toBe('kept')
      if (store.persistent) expect(back.qty).toBe(1)
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
