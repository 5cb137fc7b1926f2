import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ConstraintError, Database, Index, Indexing, Many, Model, One, Property, Relation, StoredObject, Types } from '../../src/index.js'
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

@Model()
class Shelf extends StoredObject {
  @Property(Types.STRING) @Index(Indexing.value, { unique: true }) code?: string
  @Relation(() => [Story]) stories!: Many<Story>
}

const models = [Writer, Story, Shelf]
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

    it('keeps link changes of a write that failed, and writes them with the next save', async () => {
      await Shelf.create({ code: 'taken' })
      const s1 = await Story.create({ title: 's1' })
      const shelf = await Shelf.create({ code: 'mine' })
      shelf.stories.add(s1, new Story({ title: 'unsaved' }))
      shelf.code = 'taken'
      await expect(shelf.save()).rejects.toThrow(ConstraintError)
      expect(shelf.stories.size).toBe(2)
      expect(await Story.count()).toBe(1) // the unsaved story was not written either
      shelf.stories.remove(s1)
      shelf.code = 'free'
      await shelf.save()
      expect((await shelf.stories.get()).map((s) => s.title)).toEqual(['unsaved'])
      expect(await Story.count()).toBe(2)
      await checkLinks(db)
    })
  })
}
