import { describe, expect, it } from 'vitest'
import {
  ArgumentError,
  ClosedError,
  ConstraintError,
  Index,
  Indexing,
  Model,
  OverflowError,
  Property,
  Relation,
  StoredObject,
  Types,
  ValidationError,
  type ChangeEvent,
  type One,
} from '../../src/index.js'
import { feedOf } from '../../src/changes/change-feed.js'
import { OBSERVABLE } from '../../src/changes/observable.js'
import { databaseEach, storeKinds } from '../helpers/stores.js'

@Model({ collection: 'owners' })
class Owner extends StoredObject {
  @Property(Types.STRING) name = ''
}

@Model({ collection: 'items' })
class Item extends StoredObject {
  @Property(Types.STRING) @Index(Indexing.value, { unique: true }) code = ''
  @Property(Types.INTEGER) n = 0
  @Property(Types.EMAIL) email?: string
  @Relation(() => Owner) owner!: One<Owner>
}

const tick = () => new Promise((r) => setImmediate(r))

for (const kind of storeKinds) {
  describe(`change events (${kind.name})`, () => {
    const ctx = databaseEach(kind, [Owner, Item])

    it('gives one event per committed write, in commit order, with what changed', async () => {
      const events: ChangeEvent[] = []
      const sub = ctx.db.changes().subscribe((e) => events.push(e))
      const item = await Item.create({ code: 'a', n: 1 })
      item.n = 2
      await item.save()
      const ann = new Owner({ name: 'Ann' })
      await ctx.db.transaction(async () => {
        item.owner.set(ann) // saves ann in the same write
        await item.save()
        await new Item({ code: 'b' }).save()
      })
      await item.remove()
      await tick()
      sub.unsubscribe()
      expect(events.map((e) => e.seq)).toEqual([...events.keys()].map((i) => events[0]!.seq + i))
      const [created, updated, tx, removed] = events
      expect(created!.changes).toEqual([{ model: 'Item', collection: 'items', oid: item.oid, kind: 'created', properties: ['code', 'n'], relations: [] }])
      expect(updated!.changes).toEqual([{ model: 'Item', collection: 'items', oid: item.oid, kind: 'updated', properties: ['n'], relations: [] }])
      expect(tx!.changes).toHaveLength(3)
      expect(tx!.changes).toContainEqual({ model: 'Item', collection: 'items', oid: item.oid, kind: 'updated', properties: [], relations: ['owner'] })
      expect(tx!.changes).toContainEqual(expect.objectContaining({ model: 'Owner', oid: ann.oid, kind: 'created', properties: ['name'] }))
      expect(tx!.changes).toContainEqual(expect.objectContaining({ model: 'Item', kind: 'created', properties: ['code', 'n'] }))
      expect(removed!.changes).toEqual([{ model: 'Item', collection: 'items', oid: item.oid, kind: 'removed', properties: [], relations: [] }])
      expect(events).toHaveLength(4)
    })

    it('lists the objects whose links to a removed object were dropped', async () => {
      const bob = await Owner.create({ name: 'Bob' })
      const item = new Item({ code: 'linked' })
      item.owner.set(bob)
      await item.save()
      const events: ChangeEvent[] = []
      const sub = ctx.db.changes().subscribe((e) => events.push(e))
      await bob.remove()
      await tick()
      sub.unsubscribe()
      expect(events).toHaveLength(1)
      expect(events[0]!.changes).toEqual([
        { model: 'Owner', collection: 'owners', oid: bob.oid, kind: 'removed', properties: [], relations: [] },
        { model: 'Item', collection: 'items', oid: item.oid, kind: 'updated', properties: [], relations: ['owner'] },
      ])
    })

    it('gives none for a write that failed or rolled back', async () => {
      const events: ChangeEvent[] = []
      const sub = ctx.db.changes().subscribe((e) => events.push(e))
      await Item.create({ code: 'taken' })
      await tick()
      events.length = 0
      await expect(Item.create({ code: 'x', email: 'not an email' })).rejects.toBeInstanceOf(ValidationError)
      await expect(Item.create({ code: 'taken' })).rejects.toBeInstanceOf(ConstraintError)
      await expect(
        ctx.db.transaction(async () => {
          await new Item({ code: 'y' }).save()
          throw new Error('changed my mind')
        }),
      ).rejects.toThrow('changed my mind')
      await tick()
      expect(events).toEqual([])
      sub.unsubscribe()
    })

    it('narrows to a model (Model.changes()) and to an object (obj.changes()), and iterates until the loop ends', async () => {
      const item = await Item.create({ code: 'a' })
      const modelEvents: ChangeEvent[] = []
      const objectEvents: ChangeEvent[] = []
      const s1 = Owner.changes().subscribe((e) => modelEvents.push(e))
      const s2 = item.changes().subscribe((e) => objectEvents.push(e))
      const seen: string[] = []
      const reading = (async () => {
        for await (const event of Item.changes()) {
          seen.push(...event.changes.map((c) => `${c.kind} ${c.oid}`))
          if (seen.length === 3) break
        }
      })()
      await tick()
      const other = await Item.create({ code: 'b' })
      await Owner.create({ name: 'Bob' })
      item.n = 5
      await item.save()
      await other.remove()
      await reading
      await tick()
      expect(seen).toEqual([`created ${other.oid}`, `updated ${item.oid}`, `removed ${other.oid}`])
      expect(modelEvents.map((e) => e.changes.map((c) => c.model))).toEqual([['Owner']])
      expect(objectEvents.map((e) => e.changes.map((c) => `${c.kind} ${c.oid}`))).toEqual([[`updated ${item.oid}`]])
      s1.unsubscribe()
      s2.unsubscribe()
      // Nothing listens any more: a write costs the feed nothing.
      expect(feedOf(ctx.db).listeners).toBe(0)
    })

    it('is an Observable, with observers { next, complete } and a subscription that says it is closed', async () => {
      const stream = ctx.db.changes()
      const observable = (stream as any)[OBSERVABLE]()
      expect(observable).toBe(stream)
      const got: number[] = []
      const sub = observable.subscribe({ next: (e: ChangeEvent) => got.push(e.changes.length) })
      await ctx.db.transaction(async () => {
        for (let i = 0; i < 1000; i++) new Item({ code: `c${i}` }).save()
      })
      await tick()
      expect(got).toEqual([1000]) // a transaction of 1,000 saves is one event
      expect(sub.closed).toBe(false)
      sub.unsubscribe()
      expect(sub.closed).toBe(true)
    })

    it('a consumer that falls further behind than its buffer gets OverflowError after what it holds; writers never wait', async () => {
      const iterator = ctx.db.changes({ buffer: 3 })[Symbol.asyncIterator]()
      const pending = iterator.next() // the first event is handed over at once
      for (let i = 0; i < 6; i++) await Item.create({ code: `k${i}` })
      await tick()
      expect((await pending).value.changes[0].kind).toBe('created')
      for (let i = 0; i < 3; i++) expect((await iterator.next()).done).toBe(false)
      await expect(iterator.next()).rejects.toBeInstanceOf(OverflowError)
      expect(feedOf(ctx.db).listeners).toBe(0)
      expect(() => ctx.db.changes({ buffer: 0 })).toThrow(ArgumentError)
    })

    it('ends iterations and completes observers when the database closes, after delivering its last writes', async () => {
      const completed: string[] = []
      const got: number[] = []
      ctx.db.changes().subscribe({ next: (e) => got.push(e.seq), complete: () => completed.push('db') })
      Item.changes().subscribe({ complete: () => completed.push('model') })
      const iterating = (async () => {
        const kinds: string[] = []
        for await (const event of ctx.db.changes()) kinds.push(...event.changes.map((c) => c.kind))
        return kinds
      })()
      const live = (async () => {
        let updates = 0
        for await (const _ of Item.index('code').get('last').watch()) updates++
        return updates
      })()
      await tick()
      await Item.create({ code: 'last' })
      await ctx.db.close()
      expect(await iterating).toEqual(['created'])
      expect(await live).toBeGreaterThanOrEqual(1)
      expect(completed.sort()).toEqual(['db', 'model'])
      expect(got).toHaveLength(1)
      expect(feedOf(ctx.db).listeners).toBe(0)
      expect(() => ctx.db.changes()).toThrow(ClosedError)
      expect(() => Item.changes()).toThrow(ClosedError)
    })

    it('10,000 subscriptions opened and closed leave nothing registered', async () => {
      const before = feedOf(ctx.db).listeners
      for (let i = 0; i < 10_000; i++) {
        ctx.db.changes().subscribe(() => {}).unsubscribe()
        Item.index('code').get(`k${i % 10}`).watch().subscribe(() => {}).unsubscribe()
        const it = Item.changes()[Symbol.asyncIterator]()
        await it.return!()
      }
      expect(feedOf(ctx.db).listeners).toBe(before)
      expect(feedOf(ctx.db).listeners).toBe(0)
    })

    it('a listener that throws is unsubscribed, gets its error, and the write stands', async () => {
      const others: number[] = []
      const other = ctx.db.changes().subscribe((e) => others.push(e.seq))
      const errors: unknown[] = []
      let calls = 0
      const sub = ctx.db.changes().subscribe({
        next() {
          calls++
          throw new Error('listener bug')
        },
        error: (err) => errors.push(err),
      })
      const item = await Item.create({ code: 'safe' })
      await Item.create({ code: 'after' })
      await tick()
      expect((errors[0] as Error).message).toBe('listener bug')
      expect(calls).toBe(1)
      expect(sub.closed).toBe(true)
      expect(await Item.get(item.oid)).toBe(item)
      expect(others).toHaveLength(2) // the other subscriber got both events
      other.unsubscribe()
      expect(feedOf(ctx.db).listeners).toBe(0)
    })
  })
}
