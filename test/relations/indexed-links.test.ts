import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { Database, Index, Model, One, Property, Relation, StoredObject, Types } from '../../src/index.js'
import { storeKinds, type Store } from '../helpers/stores.js'
import { checkLinks } from './helpers.js'

@Model()
class Writer extends StoredObject {
  @Property(Types.STRING) name?: string
}

@Model({ indexes: { hasWriter: (p: Story) => p.writer.oid !== undefined } })
class Story extends StoredObject {
  @Property(Types.STRING) title?: string
  @Relation(() => Writer) @Index() writer!: One<Writer>
}

const models = [Writer, Story]
const collect = async <T>(it: AsyncIterable<T>) => {
  const out: T[] = []
  for await (const x of it) out.push(x)
  return out
}

for (const kind of storeKinds) {
  describe(`indexes on relations when the linked object is removed, on ${kind.name}`, () => {
    let store: Store
    let db: Database
    beforeEach(async () => {
      store = await kind.make()
      db = await Database.open({ engine: store.engine(), models })
    })
    afterEach(async () => {
      await db.close()
      await store.cleanup()
    })

    it('updates the index entries of owners whose link goes, in memory or not', async () => {
      const ann = await Writer.create({ name: 'Ann' })
      const stories: string[] = []
      for (let i = 0; i < 4; i++) {
        const s = new Story({ title: `s${i}` })
        s.writer.set(ann)
        await s.save()
        stories.push(s.oid)
      }
      if (store.persistent) {
        await db.close()
        db = await Database.open({ engine: store.engine(), models })
      }
      const live = (await Story.get(stories[0]!))!
      expect((await collect(Story.index('writer').get((await Writer.get(ann.oid))!.oid))).length).toBe(4)
      await (await Writer.get(ann.oid))!.remove()
      expect(live.writer.oid).toBeUndefined()
      expect(await collect(Story.index('writer').keys())).toEqual([])
      expect((await collect(Story.index('hasWriter').get(false))).map((s) => s.title).sort()).toEqual(['s0', 's1', 's2', 's3'])
      expect(await Story.index('hasWriter').count(true)).toBe(0)
      await checkLinks(db)
    })
  })
}
