import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { Database, Many, Model, Property, Relation, RelationError, StoredObject, Types } from '../../src/index.js'
import type { WriteOp } from '../../src/engine/engine.js'
import { kindsSupporting } from '../helpers/store-supports.js'
import type { Store } from '../helpers/stores.js'
import { checkLinks } from './helpers.js'

@Model()
class Item extends StoredObject {
  @Property(Types.INTEGER) n = 0
}

@Model()
class Bag extends StoredObject {
  @Property(Types.STRING) name = ''
  @Relation(() => [Item]) items!: Many<Item>
}

const N = 3000 // more than the 1000 links whose oids the owner's record keeps

/** Counts the engine ops of every batch while fn runs (the real engine still writes them). */
async function countOps(db: Database, fn: () => Promise<unknown>): Promise<{ entries: number; records: number }> {
  const engine = db.engine
  const original = engine.batch.bind(engine)
  const seen = { entries: 0, records: 0 }
  engine.batch = async (ops: WriteOp[]) => {
    for (const op of ops) op.type === 'put' || op.type === 'del' ? seen.entries++ : seen.records++
    return original(ops)
  }
  try {
    await fn()
  } finally {
    engine.batch = original
  }
  return seen
}

// Not where each object is a file: thousands of them make the test slow there.
for (const kind of await kindsSupporting((s) => !s.readableFiles)) {
  describe(`large relations on ${kind.name}`, () => {
    let store: Store
    let db: Database
    let bag: Bag
    let items: Item[]
    beforeEach(async () => {
      store = await kind.make()
      db = await Database.open({ engine: store.engine(), models: [Item, Bag] })
      bag = new Bag({ name: 'big' })
      items = []
      await db.transaction(async () => {
        for (let i = 0; i < N; i++) items.push(new Item({ n: i }))
        bag.items.add(...items)
      })
    })
    afterEach(async () => {
      await db.close()
      await store.cleanup()
    })

    async function reopen(): Promise<void> {
      items = []
      await db.close()
      db = await Database.open({ engine: store.engine(), models: [Item, Bag] })
      bag = (await Bag.get(bag.oid))!
    }

    it('adds and removes one link with O(1) entry writes', async () => {
      expect(bag.items.size).toBe(N)
      const extra = await Item.create({ n: -1 })
      const add = await countOps(db, async () => {
        bag.items.add(extra)
        await bag.save()
      })
      expect(add).toEqual({ entries: 2, records: 1 }) // the link and its reverse entry; the owner's record
      const remove = await countOps(db, async () => {
        bag.items.remove(items[10]!)
        await bag.save()
      })
      expect(remove).toEqual({ entries: 2, records: 1 })
      const removeTarget = await countOps(db, () => items[20]!.remove())
      expect(removeTarget.entries).toBeLessThanOrEqual(3)
      expect(removeTarget.records).toBe(2) // the item, and the owner's count
      expect(bag.items.size).toBe(N - 1)
      expect(bag.items.has(items[20]!)).toBe(false)
      await checkLinks(db)
    })

    it('pages and iterates without loading every linked object, and reads lazily after a reload', async () => {
      if (!store.persistent) return
      await reopen()
      expect(db.identity.size).toBe(1)
      expect(bag.items.size).toBe(N)
      const record = (await db.engine.getRecord('Bag', bag.oid)) as { links: { items: { n: number; o?: unknown } } }
      expect(record.links.items.n).toBe(N)
      expect(record.links.items.o).toBeUndefined() // large: the oids are only in the entries
      const page = await bag.items.get({ start: 0, limit: 100 })
      expect(page.map((i) => i.n)).toEqual([...Array(100).keys()])
      expect(db.identity.size).toBeLessThanOrEqual(101)
      let seen = 0
      for (let start = 0; start < N; start += 100) {
        const p = await bag.items.get({ start, limit: 100 })
        expect(p[0]!.n).toBe(start)
        seen += p.length
      }
      expect(seen).toBe(N)
      expect((await bag.items.one(N - 1))!.n).toBe(N - 1)
      let count = 0
      for await (const item of bag.items) {
        expect(item.n).toBe(count)
        count++
      }
      expect(count).toBe(N)

      // has() needs the oids of a large relation: load() reads them (not the objects).
      expect(() => bag.items.has(page[0]!)).toThrow(RelationError)
      expect(() => bag.items.has(page[0]!)).toThrow(/load\(\)/)
      // Unsaved changes are known without it.
      const extra = await Item.create({ n: -1 })
      bag.items.add(extra)
      expect(bag.items.has(extra)).toBe(true)
      expect(bag.items.size).toBe(N + 1)
      await bag.items.load()
      expect(bag.items.has(page[5]!)).toBe(true)
      bag.items.remove(page[5]!)
      bag.items.add(page[6]!) // already there
      expect(bag.items.size).toBe(N)
      await bag.save()
      expect(bag.items.size).toBe(N)
      expect(bag.items.has(page[5]!)).toBe(false)
      expect((await bag.items.get({ start: N - 1 }))[0]).toBe(extra)
      await checkLinks(db)
    })

    it('answers includes() for a relation of any size without load(), unsaved changes included', async () => {
      if (store.persistent) await reopen()
      const [first, second] = await bag.items.get({ start: 0, limit: 2 })
      if (store.persistent) expect(() => bag.items.has(first!)).toThrow(RelationError) // the oids were not read
      expect(await bag.items.includes(first!)).toBe(true)
      expect(await bag.items.includes(first!.oid)).toBe(true)
      const outsider = await Item.create({ n: -2 })
      expect(await bag.items.includes(outsider)).toBe(false)
      bag.items.remove(second!)
      bag.items.add(outsider)
      expect(await bag.items.includes(second!)).toBe(false)
      expect(await bag.items.includes(outsider)).toBe(true)
      await bag.save()
      expect(await bag.items.includes(second!)).toBe(false)
      expect(await bag.items.includes(outsider)).toBe(true)
      await outsider.remove()
      expect(await bag.items.includes(outsider.oid)).toBe(false)
      await expect(bag.items.includes(42 as never)).rejects.toThrow(RelationError)
    })

    it('goes back to keeping the oids in the record when it shrinks', async () => {
      bag.items.remove(...items.slice(0, N - 10))
      await bag.save()
      expect(bag.items.size).toBe(10)
      const record = (await db.engine.getRecord('Bag', bag.oid)) as { links: { items: { o?: string[] } } }
      expect(record.links.items.o).toEqual(items.slice(N - 10).map((i) => i.oid))
      await checkLinks(db)
      if (store.persistent) await reopen()
      expect(bag.items.has(record.links.items.o![0]!)).toBe(true)
    })
  })
}
