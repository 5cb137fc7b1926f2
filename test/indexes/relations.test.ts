import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { Database, Index, IndexError, Many, Model, One, Property, Relation, StoredObject, Types } from '../../src/index.js'
import { storeKinds, type Store } from '../helpers/stores.js'
import { collect, expectExact, view } from './helpers.js'

@Model()
class Author extends StoredObject {
  @Property(Types.STRING) name?: string
}

@Model()
class Post extends StoredObject {
  @Property(Types.STRING) title?: string
  @Relation(() => Author) @Index() author!: One<Author>
}

// Same collection, without the index: opening with it, then with Post, makes Post's index new.
@Model({ collection: 'Post' })
class PostUnindexed extends StoredObject {
  @Property(Types.STRING) title?: string
  @Relation(() => Author) author!: One<Author>
}

@Model()
class Shelf extends StoredObject {
  @Relation(() => [Author]) @Index() authors!: Many<Author>
}

for (const kind of storeKinds) {
  describe(`indexes on relations on ${kind.name}`, () => {
    let store: Store
    let db: Database

    beforeEach(async () => {
      store = await kind.make()
      db = await Database.open({ engine: store.engine(), models: [Author, Post, Shelf] })
    })
    afterEach(async () => {
      await db.close()
      await store.cleanup()
    })

    it('indexes a to-one relation by the linked oid', async () => {
      const ann = await Author.create({ name: 'Ann' })
      const bob = await Author.create({ name: 'Bob' })
      const p1 = new Post({ title: 'one' })
      p1.author.set(ann)
      await p1.save()
      const p2 = new Post({ title: 'two' })
      p2.author.set(ann)
      await p2.save()
      const byAuthor = view(Post, 'author')
      expect(await collect(byAuthor.get(ann.oid))).toEqual([p1, p2])
      p2.author.set(bob)
      await p2.save()
      expect(await collect(byAuthor.get(bob.oid))).toEqual([p2])
      p1.author.set(undefined)
      await p1.save()
      expect(await collect(byAuthor.keys())).toEqual([bob.oid])
      await expectExact(db, Post)

      if (!store.persistent) return
      // Rebuilt from stored objects (the relation read from the stored record) when the index is new.
      await db.close()
      db = await Database.open({ engine: store.engine(), models: [Author, PostUnindexed] })
      await PostUnindexed.create({ title: 'three' })
      await db.close()
      db = await Database.open({ engine: store.engine(), models: [Author, Post] })
      expect((await collect(view(Post, 'author').get(bob.oid))).map((p) => p.title)).toEqual(['two'])
      await expectExact(db, Post)
    })

    it('refuses an index on a to-many relation before any write', async () => {
      await expect(Shelf.create({})).rejects.toThrow(IndexError)
      await expect(view(Shelf, 'authors').count('x')).rejects.toThrow(/to-many relation/)
    })
  })
}
