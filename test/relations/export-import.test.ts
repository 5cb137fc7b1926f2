import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { Database, Many, Model, One, Property, Relation, RelationError, StoredObject, Types } from '../../src/index.js'
import { storeKinds, type Store } from '../helpers/stores.js'
import { checkLinks } from './helpers.js'

@Model()
class Author extends StoredObject {
  @Property(Types.STRING) name = ''
}

@Model()
class Note extends StoredObject {
  @Property(Types.STRING) text = ''
  @Relation(() => Author) author!: One<Author>
  @Relation(() => [Note]) replies!: Many<Note>
}

const models = [Author, Note]

for (const kind of storeKinds) {
  describe(`relations in export and import on ${kind.name}`, () => {
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

    it('exports links as { oid, type } at depth 1 and expands them one level per depth, cycles included', async () => {
      const ann = await Author.create({ name: 'Ann' })
      const a = new Note({ text: 'a' })
      const b = new Note({ text: 'b' })
      a.author.set(ann)
      a.replies.add(b)
      b.replies.add(a) // a cycle
      await a.save()
      expect(a.export({ depth: 0 })).toEqual({ oid: a.oid, type: 'Note' })
      const one = a.export({ depth: 1 })
      expect(one.author).toEqual({ oid: ann.oid, type: 'Author' })
      expect(one.replies).toEqual([{ oid: b.oid, type: 'Note' }])
      expect(b.export().author).toBeUndefined()
      const two = a.export({ depth: 2 })
      expect(two.author).toEqual(ann.export({ depth: 1 }))
      expect(two.replies).toEqual([b.export({ depth: 1 })])
      expect((two.replies as any)[0].replies).toEqual([{ oid: a.oid, type: 'Note' }]) // never further than asked
      const three = a.export({ depth: 3 }) as any
      expect(three.replies[0].replies[0].replies).toEqual([{ oid: b.oid, type: 'Note' }])
      expect(JSON.parse(JSON.stringify(two))).toEqual(two)
    })

    it('leaves related objects that are not in memory as { oid, type } at depth 2', async () => {
      if (!store.persistent) return
      const ann = await Author.create({ name: 'Ann' })
      const n = await Note.create({ text: 'n' })
      n.author.set(ann)
      await n.save()
      await db.close()
      db = await Database.open({ engine: store.engine(), models })
      const back = (await Note.get(n.oid))!
      expect(back.export({ depth: 2 }).author).toEqual({ oid: ann.oid, type: 'Author' })
      const author = await back.author.one()
      expect(back.export({ depth: 2 }).author).toEqual(author!.export({ depth: 1 }))
    })

    it('import restores links (targets imported first), and a newer export wins', async () => {
      const ann = await Author.create({ name: 'Ann' })
      const r1 = await Note.create({ text: 'r1' })
      const r2 = await Note.create({ text: 'r2' })
      const n = new Note({ text: 'n' })
      n.author.set(ann)
      n.replies.add(r2, r1)
      await n.save()
      const exports = [ann.export(), r1.export(), r2.export(), n.export()]
      const otherStore = await kind.make()
      await db.close()
      db = await Database.open({ engine: otherStore.engine(), models })
      try {
        await Author.import(exports[0]!)
        await Note.import(exports[1]!)
        await Note.import(exports[2]!)
        const copy = await Note.import(JSON.parse(JSON.stringify(exports[3])))
        expect(copy.author.oid).toBe(ann.oid)
        expect((await copy.replies.get()).map((r) => r.text)).toEqual(['r2', 'r1'])
        expect(copy.getUpdateTime('replies')).toBe(n.getUpdateTime('replies'))
        // An older export does not undo a newer local change.
        copy.replies.remove(r2.oid)
        await copy.save()
        await Note.import(exports[3]!)
        expect(copy.replies.size).toBe(1)
        // A newer one does.
        const newer = { ...exports[3]!, updates: { ...exports[3]!.updates, replies: Date.now() + 1000 } }
        await Note.import(newer)
        expect((await copy.replies.get()).map((r) => r.text)).toEqual(['r2', 'r1'])
        await checkLinks(db)
        await expect(Note.import({ ...exports[3]!, oid: 'x1', author: { oid: ann.oid, type: 'Note' } } as never)).rejects.toThrow(RelationError)
        await expect(Note.import({ ...exports[3]!, oid: 'x2', replies: 'nope' } as never)).rejects.toThrow(/array/)
      } finally {
        await db.close()
        await otherStore.cleanup()
        db = await Database.open({ engine: store.engine(), models })
      }
    })

    it('import skips links to objects that are not stored (no dangling link)', async () => {
      const ghost = { oid: '01aaaaaaaaaaaaaaaaaaaaaaaa', type: 'Author' }
      const n = await Note.import({ oid: 'n1', type: 'Note', text: 'n', author: ghost, replies: [{ oid: 'nope', type: 'Note' }] })
      expect(n.author.oid).toBeUndefined()
      expect(n.replies.size).toBe(0)
      await checkLinks(db)
    })

    it('imports a cycle when its objects are imported twice', async () => {
      const a = new Note({ text: 'a' })
      const b = new Note({ text: 'b' })
      a.replies.add(b)
      b.replies.add(a)
      await a.save()
      const [ea, eb] = [a.export(), b.export()]
      const otherStore = await kind.make()
      await db.close()
      db = await Database.open({ engine: otherStore.engine(), models })
      try {
        const a2 = await Note.import(ea)
        expect(a2.replies.size).toBe(0) // b is not there yet: that link waits
        const b2 = await Note.import(eb)
        expect(await b2.replies.one(0)).toBe(a2)
        await Note.import(ea)
        expect(await a2.replies.one(0)).toBe(b2)
        expect(a2.getUpdateTime('replies')).toBe(a.getUpdateTime('replies'))
        await checkLinks(db)
      } finally {
        await db.close()
        await otherStore.cleanup()
        db = await Database.open({ engine: store.engine(), models })
      }
    })
  })
}
