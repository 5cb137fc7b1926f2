import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { Database, Many, Model, One, Property, Relation, StoredObject, Types } from '../../src/index.js'
import { storeKinds, type Store } from '../helpers/stores.js'
import { checkLinks } from './helpers.js'

@Model()
class Account extends StoredObject {
  @Property(Types.STRING) name?: string
}

@Model()
class Comment extends StoredObject {
  @Property(Types.STRING) text = ''
  @Relation(() => Account) author!: One<Account>
  @Relation(() => [Comment]) replies!: Many<Comment>
  @Relation(() => Attachment) attachment!: One<Attachment> // declared later in the file
}

@Model()
class Attachment extends StoredObject {
  @Property(Types.STRING) name?: string
}

const models = [Account, Comment, Attachment]

for (const kind of storeKinds) {
  describe(`relations on ${kind.name}`, () => {
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
    async function reopen(): Promise<void> {
      await db.close()
      db = await Database.open({ engine: store.engine(), models })
    }

    it('links One and Many, saves them with the owner, and reads them back through the identity map', async () => {
      const ann = await Account.create({ name: 'Ann' })
      const c = new Comment({ text: 'hello' })
      c.author.set(ann)
      expect(c.author.oid).toBe(ann.oid)
      const r1 = new Comment({ text: 'r1' })
      const r2 = new Comment({ text: 'r2' })
      c.replies.add(r1)
      c.replies.append(r2)
      c.replies.add(r1)
      expect(c.replies.size).toBe(2)
      expect(c.replies.has(r1)).toBe(true)
      expect(c.replies.has(r2.oid)).toBe(true)
      await c.save() // r1 and r2 are saved with it
      expect(await Comment.count()).toBe(3)
      expect(await c.author.one()).toBe(ann)
      expect(await c.replies.get()).toEqual([r1, r2])
      expect(await c.replies.one(1)).toBe(r2)
      await checkLinks(db)
      if (store.persistent) {
        await reopen()
        const back = (await Comment.get(c.oid))!
        expect(back.author.oid).toBe(ann.oid)
        const author = await back.author.one()
        expect(author!.name).toBe('Ann')
        expect(await back.author.one()).toBe(author)
        expect(back.replies.size).toBe(2)
        expect(back.replies.has(r1.oid)).toBe(true)
        const replies = await back.replies.get()
        expect(replies.map((r) => r.text)).toEqual(['r1', 'r2'])
        expect(replies[0]).toBe(await Comment.get(r1.oid))
      }
    })

    it('removing an object removes the links to it, in live owners too', async () => {
      const ann = await Account.create({ name: 'Ann' })
      const c = await Comment.create({ text: 'c', author: ann } as never)
      const r = await Comment.create({ text: 'r' })
      c.replies.add(r)
      await c.save()
      await r.remove()
      expect(c.replies.size).toBe(0)
      expect(c.replies.has(r.oid)).toBe(false)
      expect(await c.replies.get()).toEqual([])
      await ann.remove()
      expect(c.author.oid).toBeUndefined()
      await checkLinks(db)
    })
  })
}
