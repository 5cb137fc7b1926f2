import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { Database, Index, Model, Property, StoredObject, Types } from '../../src/index.js'
import { storeKinds, type Store } from '../helpers/stores.js'

@Model()
class Row extends StoredObject {
  @Property(Types.STRING) @Index() name!: string
  @Property(Types.INTEGER) n!: number
}

const gc = (globalThis as { gc?: () => void }).gc

/** Forces full collections and lets finalization callbacks run. */
async function collect(): Promise<void> {
  for (let i = 0; i < 5; i++) {
    gc!()
    await new Promise((r) => setTimeout(r, 10))
  }
}

const MAX = 10
const BATCHES = 20
const PER_BATCH = 50

for (const kind of storeKinds) {
  describe(`bulk load inside transactions on ${kind.name}`, () => {
    let store: Store
    let db: Database
    beforeEach(async () => {
      store = await kind.make()
      db = await Database.open({ engine: store.engine(), models: [Row], cache: { max: MAX } })
    })
    afterEach(async () => {
      await db.close()
      await store.cleanup()
    })

    /** Creates BATCHES transactions of PER_BATCH rows; returns weak references to every row and their oids. */
    async function load(): Promise<{ refs: WeakRef<Row>[]; oids: string[] }> {
      const refs: WeakRef<Row>[] = []
      const oids: string[] = []
      for (let b = 0; b < BATCHES; b++) {
        await db.transaction(() => {
          for (let i = 0; i < PER_BATCH; i++) {
            const row = new Row({ name: `r${b}-${i}`, n: b * PER_BATCH + i })
            refs.push(new WeakRef(row))
            oids.push(row.oid)
          }
        })
      }
      return { refs, oids }
    }

    it('keeps no committed object alive beyond the LRU, nor its identity entry', async () => {
      expect(gc).toBeTypeOf('function')
      const { refs } = await load()
      await collect()
      const alive = refs.filter((r) => r.deref() !== undefined)
      expect(alive.length).toBeLessThanOrEqual(MAX)
      // Entries of collected objects are dropped after a full collection: what is left is what lives.
      expect(db.identity.size).toBeLessThanOrEqual(MAX)
      expect(db.identity.pinnedCount).toBe(0)
    })

    it('lets committed objects go during a long chain of awaits that never yields to the event loop', async () => {
      // On engines that answer without a macrotask (memory-level, LMDB) this whole load is one job,
      // and V8 keeps every WeakRef target made in a job until it ends.
      let collected = 0
      const registry = new FinalizationRegistry(() => collected++)
      const total = 12 * 1000
      for (let b = 0; b < total / 1000; b++) {
        await db.transaction(() => {
          for (let i = 0; i < 1000; i++) registry.register(new Row({ name: `r${b}-${i}`, n: i }), undefined)
        })
      }
      gc!() // still in the job the load ran in
      for (let i = 0; i < 5; i++) await new Promise((r) => setTimeout(r, 10)) // finalization callbacks run
      // All but the last few thousand (weakened since the job last ended) could be collected.
      expect(collected).toBeGreaterThan(total / 2)
    })

    it('lets objects read by all() and get() go during a long chain of awaits', async () => {
      const oids: string[] = []
      for (let b = 0; b < 12; b++) {
        await db.transaction(() => {
          for (let i = 0; i < 1000; i++) oids.push(new Row({ name: `r${b}-${i}`, n: i }).oid)
        })
      }
      await collect()
      // Engines that read synchronously answer these reads without a macrotask: one job again.
      let read = 0
      for await (const _ of Row.all()) read++
      for (const oid of oids) if ((await Row.get(oid)) !== undefined) read++
      expect(read).toBe(2 * oids.length)
      gc!() // still in the job the reads ran in
      for (let i = 0; i < 5; i++) await new Promise((r) => setTimeout(r, 10)) // the identity map sweeps
      // All but the instances of the last few thousand reads could be collected, and their entries dropped.
      expect(db.identity.size).toBeLessThan(oids.length / 2)
    })

    it('still gives the one live instance of an object the app kept, and reloads the others', async () => {
      const { refs, oids } = await load()
      const kept = refs[0]!.deref()!
      await collect()
      expect(await Row.get(oids[0]!)).toBe(kept)
      const other = await Row.get(oids[1]!)
      expect(other!.n).toBe(1)
      expect(await Row.get(oids[1]!)).toBe(other)
      let found = 0
      for await (const row of Row.index('name').get('r19-49')) found += row.n === BATCHES * PER_BATCH - 1 ? 1 : 0
      expect(found).toBe(1)
      expect(kept.n).toBe(0)
    })
  })
}
