import { describe, expect, it } from 'vitest'
import { claimPrefix, entryPrefix } from '../../src/indexes/layout.js'
import { showKey } from '../../src/tools/problems.js'
import { keepsClaims } from '../../src/indexes/unique-claims.js'
import { reversePrefix } from '../../src/relations/layout.js'
import { databaseEach, storeKinds } from '../helpers/stores.js'
import { garbleRecord, truncateRaw } from './damage.js'
import { models, Person, Photo, populate } from './fixture.js'

async function first(keys: AsyncIterable<string>): Promise<string> {
  for await (const key of keys) return key
  throw new Error('no key')
}

for (const kind of storeKinds) {
  describe(`stats and verify on ${kind.name}`, () => {
    const ctx = databaseEach(kind, models)

    it('stats: objects, approximate bytes, index entries and distinct keys, links, raw data, identity map', async () => {
      await populate()
      const stats = await ctx.db.stats()
      expect(stats.engine).toBe(ctx.db.engine.describe())
      const people = stats.collections.find((c) => c.collection === 'people')!
      expect(people).toMatchObject({ model: 'Person', objects: 20, rawObjects: 0 })
      expect(people.indexes).toEqual([
        { name: 'email', entries: 20, keys: 20 },
        { name: 'name', entries: 20, keys: 7 },
      ])
      // 19 bosses, 3 + 3*16 + 2 + 1 friends, 2 photos: Many link entries are friends and photos.
      expect(people.links).toBe(2 + 1 + 3 * 17 + 2)
      expect(people.reverseLinks).toBe(19 + 2 + 1 + 3 * 17)
      expect(people.bytes.records).toBeGreaterThan(20 * 100)
      const photos = stats.collections.find((c) => c.collection === 'photos')!
      expect(photos).toMatchObject({ model: 'Photo', objects: 3, rawObjects: 3, indexes: [{ name: 'width', entries: 3, keys: 3 }] })
      expect(photos.bytes.raw).toBe(270_001)
      expect(stats.totals.objects).toBe(23)
      expect(stats.identity).toMatchObject({ lruMax: 1000 })
      expect(stats.identity!.tracked).toBeGreaterThanOrEqual(23)
    })

    it('stats: reads answered by the LRU, by weakly held instances and by the store, with the hit rate', async () => {
      const before = (await ctx.db.stats()).identity!.reads
      const people = await Promise.all(Array.from({ length: 5 }, (_, i) => Person.create({ name: `n${i}`, email: `h${i}@x.org` })))
      for (const p of people) expect(await Person.get(p.oid)).toBe(p) // held by the LRU
      ctx.db.identity.clear() // as if a new process: every read goes to the store
      for (const p of people) await Person.get(p.oid)
      const after = (await ctx.db.stats()).identity!.reads
      expect(after.lru - before.lru).toBe(5)
      expect(after.store - before.store).toBe(5)
      expect(after.hitRate).toBeCloseTo((after.lru + after.weak) / (after.lru + after.weak + after.store))
    })

    it('verify finds an index entry deleted, a record garbled, raw data cut short and a reverse link removed; repair fixes the derivable ones', async () => {
      await populate()
      expect(await ctx.db.verify()).toEqual({ ok: true, objects: 23, problems: [], repaired: 0 })
      const { engine } = ctx.db
      const p3 = (await Person.index('email').one('p3@x.org'))!
      const p5 = (await Person.index('email').one('p5@x.org'))!
      const photo = (await Photo.index('width').one(640))!

      const entry = await first(engine.keys({ prefix: entryPrefix('people', 'name') + 'sP3\x00' }))
      await engine.del(entry)
      await garbleRecord(engine, 'people', p5.oid)
      await truncateRaw(engine, 'photos', photo.oid)
      const reverse = await first(engine.keys({ prefix: reversePrefix('people', p3.oid) }))
      await engine.del(reverse)

      const progress: string[] = []
      const report = await ctx.db.verify({ onProgress: (p) => progress.push(p.phase) })
      expect(report.ok).toBe(false)
      const kinds = report.problems.map((p) => [p.kind, p.collection, p.oid, p.repairable])
      expect(kinds).toContainEqual(['index-entry-missing', 'people', entry.slice(entry.lastIndexOf('\x00') + 1), true])
      expect(kinds).toContainEqual(['damaged-record', 'people', p5.oid, false])
      expect(kinds).toContainEqual(['raw-mismatch', 'photos', photo.oid, false])
      expect(report.problems.find((p) => p.kind === 'reverse-missing')).toMatchObject({ repairable: true, key: reverse.replaceAll('\x00', '\\0') })
      expect(report.problems.find((p) => p.kind === 'index-entry-missing')).toMatchObject({ index: 'name' })
      expect(report.problems).toHaveLength(4)
      expect(progress).toContain('objects')

      const repaired = await ctx.db.verify({ repair: true })
      expect(repaired.ok).toBe(false)
      expect(repaired.repaired).toBe(2)
      expect(repaired.problems.filter((p) => !p.repaired).map((p) => p.kind).sort()).toEqual(['damaged-record', 'raw-mismatch'])
      const after = await ctx.db.verify()
      expect(after.problems.map((p) => p.kind).sort()).toEqual(['damaged-record', 'raw-mismatch'])
      expect(await Person.index('name').count('P3')).toBe(3)
    })

    it('verify while the app writes reports no problem on a sound store: writes in flight are not problems', async () => {
      await populate()
      const people = await Promise.all(Array.from({ length: 20 }, async (_, i) => (await Person.index('email').one(`p${i}@x.org`))!))
      let verifying = true
      let writes = 0
      const writer = (async () => {
        const created: Person[] = []
        for (let i = 0; verifying; i++) {
          const p = people[i % people.length]!
          const friend = people[(i * 7 + 3) % people.length]!
          await ctx.db.transaction(() => {
            p.name = `W${i % 5}`
            if (p.friends.has(friend.oid)) p.friends.remove(friend)
            else p.friends.add(friend)
            p.boss.set(people[(i + 1) % people.length]!)
          })
          const fresh = new Person({ name: `N${i % 3}`, email: `n${i}@x.org` })
          fresh.friends.add(p)
          await fresh.save()
          created.push(fresh)
          if (created.length > 3) await created.shift()!.remove()
          writes++
        }
      })()
      const reports = []
      try {
        // Verify over and over until the app has written 10 times meanwhile (at least 3 rounds).
        for (let round = 0; round < 3 || writes < 10; round++) reports.push(await ctx.db.verify())
      } finally {
        verifying = false
        await writer
      }
      for (const report of reports) expect(report.problems).toEqual([])
      expect(await ctx.db.verify()).toMatchObject({ ok: true, problems: [] })
    }, 60_000)

    it('verify finds keys that disagree with the index functions, orphan entries and reverse entries, invalid records and dangling links', async () => {
      await populate(5)
      const { engine } = ctx.db
      const p1 = (await Person.index('email').one('p1@x.org'))!
      const p2 = (await Person.index('email').one('p2@x.org'))!
      // p2's stored email changed behind the database's back, to something invalid (LINE refuses newlines).
      const record = (await engine.getRecord('people', p2.oid)) as { properties: Record<string, unknown> }
      await engine.putRecord('people', p2.oid, { ...record, properties: { ...record.properties, email: 'a\nb' } })
      await engine.put(entryPrefix('people', 'name') + 'sNobody\x00' + 'x0000000000000', null)
      await engine.put(reversePrefix('people', p1.oid) + 'people\x00' + p2.oid + '\x00boss', null)
      // p1's boss: an object that is not stored.
      const r1 = (await engine.getRecord('people', p1.oid)) as { links: Record<string, unknown> }
      await engine.putRecord('people', p1.oid, { ...r1, links: { ...r1.links, boss: ['people', 'x0000000000001'] } })
      // The store as the next run of the app finds it (live instances would still show the values they were saved with).
      const db = await ctx.reopen()
      const report = await db.verify()
      const kinds = report.problems.map((p) => p.kind).sort()
      // The new email has neither its entry nor (where the store keeps claims) its claim in the unique index.
      const missing = [showKey(entryPrefix('people', 'email') + 'sa\nb\x00' + p2.oid), ...(keepsClaims(engine) ? [showKey(claimPrefix('people', 'email') + 'sa\nb')] : [])]
      expect(kinds).toEqual(['index-entry-extra', ...missing.map(() => 'index-entry-missing'), 'invalid-record', 'keys-record-wrong', 'link-dangling', 'reverse-extra', 'reverse-extra', 'reverse-missing'])
      expect(report.problems.filter((p) => p.kind === 'index-entry-missing').map((p) => p.key).sort()).toEqual(missing.sort())
      expect(report.problems.find((p) => p.kind === 'keys-record-wrong')).toMatchObject({ oid: p2.oid, index: 'email', expected: '["sa\\nb"]', found: '["sp2@x.org"]' })
      expect(report.problems.find((p) => p.kind === 'link-dangling')).toMatchObject({ oid: p1.oid, relation: 'boss', found: 'people/x0000000000001' })
      const fixed = await db.verify({ repair: true })
      expect(fixed.problems.filter((p) => !p.repaired).map((p) => p.kind).sort()).toEqual(['invalid-record', 'link-dangling'])
      expect((await db.verify()).problems.map((p) => p.kind).sort()).toEqual(['invalid-record', 'link-dangling'])
    })
  })
}
