import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { Database, Model, Property, StoredObject, Types } from '../../src/index.js'
import { storeKinds, type Store } from '../helpers/stores.js'

@Model()
class Doc extends StoredObject {
  @Property(Types.STRING) title?: string
}

const gc = (globalThis as { gc?: () => void }).gc

/** Forces collection of unreachable instances and runs their finalizers. */
async function collect(): Promise<void> {
  for (let i = 0; i < 5; i++) {
    gc!()
    await new Promise((r) => setTimeout(r, 10))
  }
}

for (const kind of storeKinds) {
  describe(`identity on ${kind.name}`, () => {
    let store: Store
    let db: Database
    beforeEach(async () => {
      store = await kind.make()
      db = await Database.open({ engine: store.engine(), models: [Doc], cache: { max: 2 } })
    })
    afterEach(async () => {
      await db.close()
      await store.cleanup()
    })

    it('returns one live instance per oid from get, all and list', async () => {
      const d = await Doc.create({ title: 'a' })
      expect(await Doc.get(d.oid)).toBe(d)
      const fromAll: Doc[] = []
      for await (const x of Doc.all()) fromAll.push(x)
      expect(fromAll[0]).toBe(d)
      expect((await Doc.list())[0]).toBe(d)
      const [x, y] = await Promise.all([Doc.get(d.oid), Doc.get(d.oid)])
      expect(x).toBe(y)
    })

    it('lets unreferenced instances be collected beyond the LRU, and reloads them', async () => {
      expect(gc).toBeTypeOf('function')
      const oids: string[] = []
      for (let i = 0; i < 20; i++) oids.push((await Doc.create({ title: `t${i}` })).oid)
      await collect()
      // Only the LRU's 2 most recent stay strongly held.
      expect(db.identity.size).toBeLessThanOrEqual(4)
      const again = await Doc.get(oids[0]!)
      expect(again!.title).toBe('t0')
      expect(await Doc.get(oids[0]!)).toBe(again)
    })

    it('keeps the most recently used objects alive (cache.max) and lets the others go', async () => {
      const refs: WeakRef<Doc>[] = []
      for (let i = 0; i < 5; i++) refs.push(new WeakRef(await Doc.create({ title: `t${i}` })))
      await collect()
      expect(refs.map((r) => r.deref() !== undefined)).toEqual([false, false, false, true, true])
      expect(await Doc.get(refs[4]!.deref()!.oid)).toBe(refs[4]!.deref())
    })

    it('keeps an object read again among the most recently used', async () => {
      const refs: WeakRef<Doc>[] = []
      for (let i = 0; i < 2; i++) refs.push(new WeakRef(await Doc.create({ title: `t${i}` })))
      await Doc.get(refs[0]!.deref()!.oid) // now used more recently than t1
      refs.push(new WeakRef(await Doc.create({ title: 't2' })))
      await collect()
      expect(refs.map((r) => r.deref() !== undefined)).toEqual([true, false, true])
    })

    it('lets go of a removed object, and keeps the LRU full with the others', async () => {
      const kept = new WeakRef(await Doc.create({ title: 'kept' }))
      const ref = new WeakRef(await Doc.create({ title: 'removed' }))
      await ref.deref()!.remove()
      const others = [kept, new WeakRef(await Doc.create({ title: 'newest' }))]
      await collect()
      expect(ref.deref()).toBeUndefined()
      expect(others.map((r) => r.deref() !== undefined)).toEqual([true, true])
    })

    it('never lets collection lose an unsaved edit', async () => {
      const oids: string[] = []
      for (let i = 0; i < 10; i++) oids.push((await Doc.create({ title: `t${i}` })).oid)
      ;(await Doc.get(oids[0]!))!.title = 'edited, not saved'
      // Push it out of the LRU and drop every reference.
      for (let i = 1; i < 10; i++) await Doc.get(oids[i]!)
      await collect()
      const back = await Doc.get(oids[0]!)
      expect(back!.title).toBe('edited, not saved')
      await back!.save()
      expect(db.identity.pinnedCount).toBe(0)
    })
  })
}
