import { describe, expect, it } from 'vitest'
import { Index, Model, Property, StoredObject, Types } from '../../src/index.js'
import { feedOf } from '../../src/changes/change-feed.js'
import { databaseEach, storeKinds } from '../helpers/stores.js'

@Model({ collection: 'tasks' })
class Task extends StoredObject {
  @Property(Types.STRING) title = ''
  @Property(Types.ENUM('open', 'done')) @Index() status: 'open' | 'done' = 'open'
  @Property(Types.INTEGER) @Index() score = 0
  @Property(Types.LIST(Types.STRING)) @Index() tags: string[] = []
}

/** Resolves with the next value the iterator gives, or 'none' when it gives none while the event loop turns a few times. */
async function nextOrNone<T>(pending: Promise<IteratorResult<T>>): Promise<T | 'none'> {
  const none = new Promise<'none'>((r) => setTimeout(() => r('none'), 50))
  const result = await Promise.race([pending, none])
  return result === 'none' ? 'none' : (result as IteratorResult<T>).value
}

const titles = (tasks: Task[]) => tasks.map((t) => t.title)

/** Waits until `condition` holds (a live update arrives after the commit, in a later turn). */
async function until(condition: () => boolean, what = 'the live update'): Promise<void> {
  for (let waited = 0; !condition(); waited += 5) {
    if (waited > 5000) throw new Error(`${what} did not arrive`)
    await new Promise((r) => setTimeout(r, 5))
  }
}

for (const kind of storeKinds) {
  describe(`live queries (${kind.name})`, () => {
    const ctx = databaseEach(kind, [Task])

    it('an index view gives its results, then new results after each commit that touches them, and nothing for others', async () => {
      await Task.create({ title: 'a', status: 'open' })
      const it = Task.index('status').get('open').watch()[Symbol.asyncIterator]()
      expect(titles((await it.next()).value)).toEqual(['a'])
      const b = await Task.create({ title: 'b', status: 'open' })
      expect(titles((await it.next()).value)).toEqual(['a', 'b'])
      let pending = it.next()
      await Task.create({ title: 'c', status: 'done' }) // not in the view, before or after
      expect(await nextOrNone(pending)).toBe('none')
      b.status = 'done' // leaves the view
      await b.save()
      expect(titles((await pending).value as Task[])).toEqual(['a'])
      pending = it.next()
      b.status = 'open'
      await b.save()
      expect(titles((await pending).value as Task[])).toEqual(['a', 'b'])
      await it.return!()
      expect(feedOf(ctx.db).listeners).toBe(0)
    })

    it('closing the database first delivers what the writes before it changed in live queries, then ends them', async () => {
      const seen: string[][] = []
      const watching = (async () => {
        for await (const results of Task.find({ where: { status: 'open' } }).watch()) seen.push(titles(results))
      })()
      // No pause: the first run may still be in flight, and the re-run for these writes is only due.
      await Task.create({ title: 'a', status: 'open' })
      await Task.create({ title: 'b', status: 'open' })
      await ctx.db.close()
      await watching
      expect(seen.at(-1)).toEqual(['a', 'b'])
    })

    it('a find() query re-runs only for commits whose index keys may change its results', async () => {
      let checked = 0
      const query = Task.find({
        where: { status: 'open', tags: 'home' },
        orderBy: { score: 'desc' },
        limit: 2,
        filter: () => (checked++, true),
      })
      const results: string[][] = []
      const sub = query.watch().subscribe((tasks) => results.push(titles(tasks)))
      await until(() => results.length === 1)
      expect(results).toEqual([[]])
      await Task.create({ title: 'x', status: 'open', tags: ['home'], score: 5 })
      await until(() => results.length === 2)
      await Task.create({ title: 'y', status: 'open', tags: ['home'], score: 9 })
      await until(() => results.length === 3)
      expect(results.at(-1)).toEqual(['y', 'x'])
      const before = checked
      // Writes whose old and new keys fail the indexed conditions: no re-run, no update.
      for (let i = 0; i < 20; i++) await Task.create({ title: `w${i}`, status: 'done', tags: ['home'], score: 100 })
      for (let i = 0; i < 20; i++) await Task.create({ title: `o${i}`, status: 'open', tags: ['work'], score: 100 })
      const z = await Task.create({ title: 'z', status: 'open', tags: ['home', 'garden'], score: 7 })
      await until(() => results.length === 4)
      expect(results.at(-1)).toEqual(['y', 'z'])
      expect(checked - before).toBe(2) // one re-run (in score order, it stops at the limit of 2); none for the 40 writes before
      await z.remove()
      await until(() => results.length === 5)
      expect(results.at(-1)).toEqual(['y', 'x'])
      sub.unsubscribe()
      expect(feedOf(ctx.db).listeners).toBe(0)
    })

    it('coalesces bursts: a transaction of 1,000 saves is one update', async () => {
      const updates: number[] = []
      const sub = Task.index('score').list({ gte: 0 }).watch().subscribe((tasks) => updates.push(tasks.length))
      await until(() => updates.length === 1)
      await ctx.db.transaction(async () => {
        for (let i = 0; i < 1000; i++) new Task({ title: `t${i}`, score: i }).save()
      })
      await until(() => updates.length === 2)
      await Task.create({ title: 'last', score: -1 }) // outside the range: no update
      await Task.create({ title: 'in', score: 5000 })
      await until(() => updates.length === 3)
      expect(updates).toEqual([0, 1000, 1001])
      sub.unsubscribe()
    })

    it('a consumer that does not keep up gets the latest results, not a backlog', async () => {
      const it = Task.index('tags').get('inbox').watch()[Symbol.asyncIterator]()
      expect((await it.next()).value).toEqual([])
      let seen = 0
      const sub = Task.index('tags').get('inbox').watch().subscribe(() => seen++) // a consumer that keeps up, to know when updates are out
      await until(() => seen === 1)
      for (let i = 0; i < 5; i++) {
        await Task.create({ title: `m${i}`, tags: ['inbox'] })
        await until(() => seen === i + 2)
      }
      expect(titles((await it.next()).value)).toEqual(['m0', 'm1', 'm2', 'm3', 'm4'])
      expect(await nextOrNone(it.next())).toBe('none')
      await it.return!()
      sub.unsubscribe()
    })

    it('a for await loop that ends unregisters its watcher', async () => {
      const seen: number[] = []
      const loop = (async () => {
        for await (const tasks of Task.find({ where: { status: 'open' } }).watch()) {
          seen.push(tasks.length)
          if (tasks.length === 2) break
        }
      })()
      await until(() => seen.length === 1)
      await Task.create({ title: 'p' })
      await until(() => seen.length === 2)
      await Task.create({ title: 'q' })
      await loop
      expect(seen).toEqual([0, 1, 2])
      expect(feedOf(ctx.db).listeners).toBe(0)
    })
  })
}
