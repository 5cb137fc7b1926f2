import { describe, expect, it } from 'vitest'
import { ClosedError, Index, Model, Property, StoredObject, Types } from '../../src/index.js'
import { STATE } from '../../src/model/object-state.js'
import { databaseEach, storeKinds } from '../helpers/stores.js'

/**
 * Instances the LRU lets go give up their values and record until used again (on engines that read
 * synchronously): an app holding one must see and change it exactly as if nothing had happened.
 */
@Model({ collection: 'dehydrated_docs' })
class Doc extends StoredObject {
  @Property(Types.STRING) @Index() title?: string
  @Property(Types.LIST(Types.STRING)) tags?: string[]
  @Property(Types.INTEGER) score?: number
}

for (const kind of storeKinds) {
  describe(`instances the LRU let go, on ${kind.name}`, () => {
    const t = databaseEach(kind, [Doc], { cache: { max: 2 } })

    /** Creates `held`, then pushes it out of the LRU (cache.max 2) with three other objects. */
    async function heldBeyondTheLru(): Promise<Doc> {
      const held = await Doc.create({ title: 'kept', tags: ['a', 'b'], score: 7 })
      for (let i = 0; i < 3; i++) await Doc.create({ title: `other ${i}`, score: i })
      // Where the engine reads synchronously the instance really gave up its values (else this test proves nothing).
      expect(held[STATE].dehydrated).toBe(t.db.engine.supports.syncReads === true)
      return held
    }

    it('shows its stored values, update times and export, and stays the one instance of its oid', async () => {
      const held = await heldBeyondTheLru()
      expect(held.title).toBe('kept')
      expect(held.getUpdateTime('title')).toBeGreaterThan(0)
      expect(held.getUpdateTime()).toBe(held.getUpdateTime('title'))
      expect(held.tags).toEqual(['a', 'b'])
      expect(held.export()).toMatchObject({ oid: held.oid, title: 'kept', tags: ['a', 'b'], score: 7 })
      expect(await Doc.get(held.oid)).toBe(held)
      const found: Doc[] = []
      for await (const d of Doc.index('title').get('kept')) found.push(d)
      expect(found).toEqual([held])
      expect(found[0]).toBe(held)
    })

    it('saves an edit: only the changed property gets a new update time, and its index entry moves', async () => {
      const held = await heldBeyondTheLru()
      await new Promise((r) => setTimeout(r, 5))
      held.title = 'renamed' // the first use after letting go is an assignment
      await held.save()
      expect(held.getUpdateTime('title')!).toBeGreaterThan(held.getUpdateTime('score')!)
      expect(await Doc.index('title').count('kept')).toBe(0)
      const renamed: string[] = []
      for await (const d of Doc.index('title').get('renamed')) renamed.push(d.oid)
      expect(renamed).toEqual([held.oid])
      await t.reopen()
      const back = await Doc.get(held.oid)
      expect(back!.export()).toMatchObject({ title: 'renamed', tags: ['a', 'b'], score: 7 })
    })

    it('reverts an unsaved edit to what is stored', async () => {
      const held = await heldBeyondTheLru()
      held.score = 99
      await held.revert()
      expect(held.score).toBe(7)
      expect(held.title).toBe('kept')
    })

    it('keeps its values after the database is closed', async () => {
      const held = await heldBeyondTheLru()
      await t.db.close()
      expect(held.title).toBe('kept')
      expect(held.tags).toEqual(['a', 'b'])
      held.score = 8
      await expect(held.save()).rejects.toBeInstanceOf(ClosedError)
      await t.reopen()
      expect((await Doc.get(held.oid))!.score).toBe(7)
    })

    it('removes like any instance', async () => {
      const held = await heldBeyondTheLru()
      await held.remove()
      expect(await Doc.get(held.oid)).toBeUndefined()
      expect(await Doc.index('title').count('kept')).toBe(0)
      expect(await Doc.count()).toBe(3)
    })
  })
}
