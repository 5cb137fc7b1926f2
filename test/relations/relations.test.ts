import { describe, expect, it } from 'vitest'
import { Many, Model, One, Property, Relation, StoredObject, Types } from '../../src/index.js'
import { databaseEach, storeKinds } from '../helpers/stores.js'
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
    const ctx = databaseEach(kind, models)
    const reopen = () => ctx.reopen()

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
      await checkLinks(ctx.db)
      if (ctx.store.persistent) {
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
      await checkLinks(ctx.db)
    })

    it('assigning to a relation sets it; the member stays the handle', async () => {
      const ann = await Account.create({ name: 'Ann' })
      const bob = await Account.create({ name: 'Bob' })
      const c = new Comment()
      const handle = c.author
      ;(c as any).author = ann
      expect(c.author).toBe(handle)
      expect(c.author.oid).toBe(ann.oid)
      c.author.set(bob)
      c.author.set(null as never)
      expect(c.author.oid).toBeUndefined()
      ;(c as any).author = bob
      const [r1, r2, r3] = [new Comment({ text: '1' }), new Comment({ text: '2' }), new Comment({ text: '3' })]
      ;(c as any).replies = [r1, r2]
      ;(c as any).replies = [r3, r1] // replaces every link, in this order
      expect(c.replies).toBeInstanceOf(Many)
      expect(c.replies.size).toBe(2)
      expect(c.replies.has(r2)).toBe(false)
      await c.save()
      expect((await c.replies.get()).map((r) => r.text)).toEqual(['3', '1'])
      expect(await Comment.has(r2.oid)).toBe(false) // never linked when saved: not cascaded
      expect(() => ((c as any).replies = 5)).toThrow(/array of objects/)
      expect(() => ((c as any).author = c.replies)).toThrow(/not another relation/)
      if (ctx.store.persistent) await reopen()
      const back = (await Comment.get(c.oid))!
      expect(back.author.oid).toBe(bob.oid)
      expect((await back.replies.get()).map((r) => r.text)).toEqual(['3', '1'])
    })

    it('keeps insertion order through removals, re-adds and clear, with pending changes visible before save', async () => {
      const c = await Comment.create({ text: 'root' })
      const rs = await Promise.all(['a', 'b', 'c', 'd', 'e'].map((text) => Comment.create({ text })))
      const texts = async (x: Comment) => (await x.replies.get()).map((r) => r.text)
      c.replies.add(...rs)
      expect(await texts(c)).toEqual(['a', 'b', 'c', 'd', 'e']) // pending, not saved yet
      await c.save()
      c.replies.remove(rs[1]!)
      c.replies.remove(rs[3]!.oid)
      c.replies.remove(rs[3]!) // already gone: ignored
      expect(c.replies.size).toBe(3)
      expect(c.replies.has(rs[1]!)).toBe(false)
      c.replies.add(rs[1]!) // re-added: at the end
      expect(await texts(c)).toEqual(['a', 'c', 'e', 'b'])
      expect(await c.replies.get({ start: 1, limit: 2 })).toEqual([rs[2], rs[4]])
      expect(await c.replies.one(3)).toBe(rs[1])
      expect(await c.replies.one(4)).toBeUndefined()
      await c.save()
      await checkLinks(ctx.db)
      if (ctx.store.persistent) await reopen()
      const back = (await Comment.get(c.oid))!
      expect(await texts(back)).toEqual(['a', 'c', 'e', 'b'])
      const seen: string[] = []
      for await (const r of back.replies) seen.push(r.text)
      expect(seen).toEqual(['a', 'c', 'e', 'b'])
      back.replies.clear()
      expect(back.replies.size).toBe(0)
      const f = await Comment.create({ text: 'f' })
      back.replies.add(f)
      expect(await texts(back)).toEqual(['f'])
      await back.save()
      expect(await texts(back)).toEqual(['f'])
      expect(back.replies.size).toBe(1)
      await checkLinks(ctx.db)
      if (ctx.store.persistent) await reopen()
      expect(await texts((await Comment.get(c.oid))!)).toEqual(['f'])
      expect(await Comment.count()).toBe(7) // clear() unlinks, it removes no object
    })

    it('handles self-relations and cycles, and removing one side', async () => {
      const a = new Comment({ text: 'a' })
      const b = new Comment({ text: 'b' })
      a.replies.add(b)
      b.replies.add(a)
      a.replies.add(a) // replying to itself
      await a.save() // b is saved with a, and a with b
      expect(await Comment.count()).toBe(2)
      expect(await (await b.replies.one(0))!.replies.one(0)).toBe(b)
      await checkLinks(ctx.db)
      if (ctx.store.persistent) await reopen()
      const a2 = (await Comment.get(a.oid))!
      const b2 = (await a2.replies.one(0))!
      expect(await b2.replies.one(0)).toBe(a2)
      expect(await a2.replies.one(1)).toBe(a2)
      await a2.remove()
      expect(b2.replies.size).toBe(0)
      await checkLinks(ctx.db)
      if (ctx.store.persistent) await reopen()
      expect((await Comment.get(b.oid))!.replies.size).toBe(0)
    })

    it('removes links to a removed object from owners that are not in memory, in one write', async () => {
      const ann = await Account.create({ name: 'Ann' })
      const target = await Comment.create({ text: 'target' })
      const oids: string[] = []
      for (let i = 0; i < 20; i++) {
        const c = new Comment({ text: `c${i}` })
        c.author.set(ann)
        c.replies.add(target)
        await c.save()
        oids.push(c.oid)
      }
      if (ctx.store.persistent) await reopen()
      const live = (await Comment.get(oids[0]!))!
      expect(live.replies.has(target.oid)).toBe(true)
      await (await Comment.get(target.oid))!.remove()
      await (await Account.get(ann.oid))!.remove()
      expect(live.replies.size).toBe(0)
      expect(live.author.oid).toBeUndefined()
      await checkLinks(ctx.db)
      if (ctx.store.persistent) await reopen()
      for (const oid of oids) {
        const c = (await Comment.get(oid))!
        expect(c.replies.size).toBe(0)
        expect(c.author.oid).toBeUndefined()
        expect(await c.replies.get()).toEqual([])
      }
    })

    it('drops unsaved links to an object when it is removed', async () => {
      const t = await Comment.create({ text: 't' })
      const ann = await Account.create()
      const c = await Comment.create({ text: 'c' })
      c.replies.add(t)
      c.author.set(ann)
      await t.remove()
      await ann.remove()
      expect(c.replies.has(t.oid)).toBe(false)
      expect(c.author.oid).toBeUndefined()
      await c.save()
      await checkLinks(ctx.db)
    })

    it('includes() agrees with has(), before and after saving and reopening', async () => {
      const c = await Comment.create({ text: 'c' })
      const r1 = await Comment.create({ text: 'r1' })
      const r2 = await Comment.create({ text: 'r2' })
      c.replies.add(r1)
      expect([await c.replies.includes(r1), await c.replies.includes(r2.oid)]).toEqual([true, false])
      await c.save()
      if (ctx.store.persistent) await reopen()
      const back = (await Comment.get(c.oid))!
      expect([await back.replies.includes(r1.oid), await back.replies.includes(r2.oid)]).toEqual([true, false])
      expect([back.replies.has(r1.oid), back.replies.has(r2.oid)]).toEqual([true, false])
    })

    it('revert() drops relation changes not saved yet', async () => {
      const ann = await Account.create({ name: 'Ann' })
      const bob = await Account.create({ name: 'Bob' })
      const c = new Comment({ text: 'c' })
      c.author.set(ann)
      await c.save()
      c.author.set(bob)
      c.replies.add(new Comment({ text: 'unsaved reply' }))
      await c.revert()
      expect(c.author.oid).toBe(ann.oid)
      expect(c.replies.size).toBe(0)
      await c.save()
      if (ctx.store.persistent) await reopen()
      const back = (await Comment.get(c.oid))!
      expect(back.author.oid).toBe(ann.oid)
      expect(back.replies.size).toBe(0)
      expect(await Comment.count()).toBe(1)
      await checkLinks(ctx.db)
    })

    it('writes links with the owner in a transaction, or not at all', async () => {
      const ann = await Account.create({ name: 'Ann' })
      const c = await Comment.create({ text: 'c' })
      await ctx.db.transaction(async () => {
        c.author.set(ann) // no save(): the owner is saved at commit
        c.replies.add(new Comment({ text: 'new' }))
      })
      expect(c.replies.size).toBe(1)
      if (ctx.store.persistent) await reopen()
      const back = (await Comment.get(c.oid))!
      expect(back.author.oid).toBe(ann.oid)
      expect((await back.replies.one(0))!.text).toBe('new')
      const boom = new Error('boom')
      await expect(
        ctx.db.transaction(async () => {
          back.replies.clear()
          back.author.set(undefined)
          throw boom
        }),
      ).rejects.toBe(boom)
      // Not written, and the live instance is back as stored (like properties).
      expect(back.replies.size).toBe(1)
      expect(back.author.oid).toBe(ann.oid)
      if (ctx.store.persistent) {
        await reopen()
        const again = (await Comment.get(c.oid))!
        expect(again.replies.size).toBe(1)
        expect(again.author.oid).toBe(ann.oid)
      }
      await checkLinks(ctx.db)
    })

    it('records when a relation last changed', async () => {
      const ann = await Account.create()
      const c = await Comment.create({ text: 'c' })
      const created = c.getUpdateTime()!
      await new Promise((r) => setTimeout(r, 5))
      c.author.set(ann)
      await c.save()
      expect(c.getUpdateTime('author')).toBeGreaterThan(created)
      expect(c.getUpdateTime()).toBe(c.getUpdateTime('author'))
      expect(c.getUpdateTime('replies')).toBeUndefined()
      if (ctx.store.persistent) await reopen()
      const back = (await Comment.get(c.oid))!
      expect(back.getUpdateTime('author')).toBe(c.getUpdateTime('author'))
    })

    it('keeps owners with unsaved link changes alive, and lets them go once saved', async () => {
      const gc = (globalThis as { gc?: () => void }).gc!
      const collect = async () => {
        for (let i = 0; i < 5; i++) {
          gc()
          await new Promise((r) => setTimeout(r, 10))
        }
      }
      await ctx.reopen({ cache: { max: 0 } })
      const ann = await Account.create({ name: 'Ann' })
      let oid: string
      let ref: WeakRef<Comment>
      {
        const c = await Comment.create({ text: 'c' })
        oid = c.oid
        ref = new WeakRef(c)
        c.author.set(ann) // unsaved
      }
      await collect()
      expect(ref.deref()).toBeDefined() // pinned: the change is not lost
      const again = (await Comment.get(oid))!
      expect(again.author.oid).toBe(ann.oid)
      await again.save()
      await collect()
      expect(ann).toBeDefined()
    })

    it('changes made while a save is in flight are kept for the next save', async () => {
      const c = await Comment.create({ text: 'c' })
      const [a, b, d] = await Promise.all(['a', 'b', 'd'].map((text) => Comment.create({ text })))
      c.replies.add(a)
      const first = c.save()
      c.replies.add(b) // after the first write took its changes
      c.replies.remove(a)
      expect(c.replies.size).toBe(1)
      await first
      expect(c.replies.has(a)).toBe(false)
      expect(c.replies.has(b)).toBe(true)
      c.replies.add(d)
      await c.save()
      expect((await c.replies.get()).map((r) => r.text)).toEqual(['b', 'd'])
      await checkLinks(ctx.db)
      if (ctx.store.persistent) await reopen()
      expect((await (await Comment.get(c.oid))!.replies.get()).map((r) => r.text)).toEqual(['b', 'd'])
    })
  })
}
