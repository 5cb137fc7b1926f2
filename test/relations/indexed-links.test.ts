import { describe, expect, it } from 'vitest'
import { ConstraintError, Index, Indexing, Many, Model, One, Property, Relation, StoredObject, Types } from '../../src/index.js'
import { databaseEach, storeKinds } from '../helpers/stores.js'
import { checkLinks } from './helpers.js'
import { expectExact } from '../indexes/helpers.js'

@Model()
class Writer extends StoredObject {
  @Property(Types.STRING) name?: string
}

@Model({ indexes: { hasWriter: (p: Story) => p.writer.oid !== undefined, changed: (p: Story) => p.getUpdateTime() } })
class Story extends StoredObject {
  declare static indexes: { hasWriter: boolean; changed: number }
  @Property(Types.STRING) title?: string
  @Relation(() => Writer) @Index() writer!: One<Writer>
}

@Model({ indexes: { size: (s: Shelf) => s.stories.size, hasFirst: (s: Shelf) => (first ? s.stories.has(first) : false) } })
class Shelf extends StoredObject {
  declare static indexes: { size: number; hasFirst: boolean }
  @Property(Types.STRING) @Index(Indexing.value, { unique: true }) code?: string
  @Relation(() => [Story]) stories!: Many<Story>
}
let first: Story | undefined

const models = [Writer, Story, Shelf]
const collect = async <T>(it: AsyncIterable<T>) => {
  const out: T[] = []
  for await (const x of it) out.push(x)
  return out
}

for (const kind of storeKinds) {
  describe(`indexes on relations when the linked object is removed, on ${kind.name}`, () => {
    const ctx = databaseEach(kind, models)

    it('updates the index entries of owners whose link goes, in memory or not', async () => {
      const ann = await Writer.create({ name: 'Ann' })
      const stories: string[] = []
      for (let i = 0; i < 4; i++) {
        const s = new Story({ title: `s${i}` })
        s.writer.set(ann)
        await s.save()
        stories.push(s.oid)
      }
      if (ctx.store.persistent) await ctx.reopen()
      const live = (await Story.get(stories[0]!))!
      expect((await collect(Story.index('writer').get((await Writer.get(ann.oid))!.oid))).length).toBe(4)
      await (await Writer.get(ann.oid))!.remove()
      expect(live.writer.oid).toBeUndefined()
      expect(await collect(Story.index('writer').keys())).toEqual([])
      expect((await collect(Story.index('hasWriter').get(false))).map((s) => s.title).sort()).toEqual(['s0', 's1', 's2', 's3'])
      expect(await Story.index('hasWriter').count(true)).toBe(0)
      await expectExact(ctx.db, Story)
      await checkLinks(ctx.db)
    })

    it('keeps the indexes of a live owner exact when it is saved after its linked object was removed', async () => {
      const ann = await Writer.create({ name: 'Ann' })
      const bob = await Writer.create({ name: 'Bob' })
      const story = new Story({ title: 's' })
      story.writer.set(ann)
      await story.save()
      story.title = 'unsaved edit' // not stored by the removal below, so not indexed by it
      await ann.remove()
      await expectExact(ctx.db, Story)
      story.writer.set(bob)
      await story.save()
      expect(await Story.index('hasWriter').count(true)).toBe(1)
      await expectExact(ctx.db, Story)
    })

    it('indexes an owner saved in the write that removes its linked object without the removed link', async () => {
      const ann = await Writer.create({ name: 'Ann' })
      const story = new Story({ title: 's' })
      story.writer.set(ann)
      await story.save()
      await ctx.db.transaction(async () => {
        story.title = 'changed'
        await story.save()
        await ann.remove()
      })
      expect(story.writer.oid).toBeUndefined()
      expect(await collect(Story.index('writer').keys())).toEqual([])
      await expectExact(ctx.db, Story)
    })

    it('updates computed indexes that read a to-many relation when a linked object is removed', async () => {
      const stories = [await Story.create({ title: 'a' }), await Story.create({ title: 'b' }), await Story.create({ title: 'c' })]
      first = stories[0]
      const shelf = new Shelf({ code: 'x' })
      shelf.stories.add(...stories)
      await shelf.save()
      const other = new Shelf({ code: 'y' })
      other.stories.add(stories[0]!)
      await other.save()
      expect(await Shelf.index('size').count(3)).toBe(1)
      if (ctx.store.persistent) await ctx.reopen()
      await (await Story.get(stories[0]!.oid))!.remove() // owners in memory or not
      expect((await collect(Shelf.index('size').get(2))).map((s) => s.code)).toEqual(['x'])
      expect(await Shelf.index('hasFirst').count(true)).toBe(0)
      await expectExact(ctx.db, Shelf)
      await checkLinks(ctx.db)
      first = undefined
    })

    it('indexes the change time a relation change gives the owner', async () => {
      const ann = await Writer.create({ name: 'Ann' })
      const story = await Story.create({ title: 's' })
      await new Promise((r) => setTimeout(r, 5))
      story.writer.set(ann)
      await story.save()
      expect(await Story.index('changed').has(story.getUpdateTime()!)).toBe(true)
      await expectExact(ctx.db, Story)
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
      await checkLinks(ctx.db)
    })
  })
}
