import { rm } from 'node:fs/promises'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ConstraintError, Database, Model, Property, StoredObject, Types } from '../../src/index.js'
import { Index } from '../../src/indexes/index-decorator.js'
import { encodeKey } from '../../src/indexes/key-codec.js'
import { claimPrefix, signatureKey, signatureOf } from '../../src/indexes/layout.js'
import { keepsClaims } from '../../src/indexes/unique-claims.js'
import { metaOf } from '../../src/model/meta.js'
import { filesUnder } from '../helpers/store-files.js'
import { pathKinds, storeKinds, tempDir, type Store } from '../helpers/stores.js'
import { expectExact, storedClaims } from './helpers.js'

@Model({ collection: 'members' })
class Member extends StoredObject {
  @Property(Types.STRING) @Index({ unique: true }) handle = ''
  @Property(Types.LIST(Types.STRING)) @Index({ unique: true }) badges: string[] = []
  @Property(Types.STRING) @Index() team = ''
}

const claimOf = (index: string, key: string) => claimPrefix('members', index) + encodeKey(key)

/**
 * Unique indexes keep one claim per key (the oids holding it) beside their entries, written in the
 * same batch; saves check a claimed key with one point read of it. These tests hold the claims to
 * the entries (expectExact compares them) through every kind of write, and show that a store whose
 * claims are missing or wrong is put right: rebuilt once when written before claims existed, found
 * by verify and repaired.
 */
for (const kind of storeKinds) {
  describe(`claims of unique indexes on ${kind.name}`, () => {
    let store: Store
    let db: Database

    beforeEach(async () => {
      store = await kind.make()
      db = await Database.open({ engine: store.engine(), models: [Member] })
    })
    afterEach(async () => {
      await db.close()
      await store.cleanup()
    })

    it('follow creates, updates, key swaps and removals; a refused save changes none', async () => {
      const ann = await Member.create({ handle: 'ann', badges: ['gold', 'early'], team: 'a' })
      const bob = await Member.create({ handle: 'bob', badges: ['silver'], team: 'a' })
      await expect(Member.create({ handle: 'ann', team: 'b' })).rejects.toBeInstanceOf(ConstraintError)
      await expect(Member.create({ handle: 'cy', badges: ['silver'] })).rejects.toThrow(/key "silver" is already held by Member/)
      await expectExact(db, Member)
      // A key let go and taken in one transaction, and a swap between two objects.
      await db.transaction(async () => {
        ann.handle = 'bob'
        bob.handle = 'ann'
        bob.badges = ['gold']
        ann.badges = ['early', 'silver']
      })
      expect(await Member.index('handle').one('ann')).toBe(bob)
      expect(await Member.index('badges').one('silver')).toBe(ann)
      await expectExact(db, Member)
      await bob.update({ handle: 'robert', badges: [] })
      const cy = await Member.create({ handle: 'ann', badges: ['gold'] })
      await ann.remove()
      await expect(Member.create({ handle: 'cy', badges: ['gold'] })).rejects.toBeInstanceOf(ConstraintError)
      const dee = await Member.create({ handle: 'bob', badges: ['silver', 'early'] })
      expect((await Member.index('handle').one('bob'))?.oid).toBe(dee.oid)
      await expectExact(db, Member)
      if (keepsClaims(db.engine)) {
        expect(await storedClaims(db.engine, 'members', 'handle')).toEqual({ [encodeKey('ann')]: [cy.oid], [encodeKey('bob')]: [dee.oid], [encodeKey('robert')]: [bob.oid] })
        expect(await db.engine.get(claimOf('badges', 'gold'))).toBe(cy.oid)
      }
    })

    it('answer find() conditions on unique keys, short and long lists alike', async () => {
      const made = await db.transaction(async () => Array.from({ length: 30 }, (_, i) => new Member({ handle: `m${i}`, team: i % 2 === 0 ? 'even' : 'odd' })))
      const wanted = (n: number) => Array.from({ length: n }, (_, i) => `m${i}`)
      const oddOids = made.filter((_, i) => i % 2 === 1).map((m) => m.oid).sort()
      expect((await Member.find({ where: { handle: { in: wanted(40) }, team: 'odd' } }).oids()).sort()).toEqual(oddOids)
      // Past 1,024 keys their entries are counted instead of their claims read: the same answer.
      expect((await Member.find({ where: { handle: { in: wanted(1100) }, team: 'odd' } }).oids()).sort()).toEqual(oddOids)
      expect(await Member.find({ where: { handle: 'm3' } }).oids()).toEqual([made[3]!.oid])
    })

    it('answer find().first() by one unique key as iterating the same query does', async () => {
      const ann = await Member.create({ handle: 'ann', badges: ['gold'], team: 'a' })
      const bob = await Member.create({ handle: 'bob', team: 'b' })
      const first = (query: Parameters<typeof Member.find>[0]) => Member.find(query).first()
      const iterated = async (query: Parameters<typeof Member.find>[0]) => {
        for await (const m of Member.find(query)) return m
        return undefined
      }
      const same = async (query: Parameters<typeof Member.find>[0], expected: Member | undefined) => {
        expect(await first(query)).toBe(expected)
        expect(await iterated(query)).toBe(expected)
      }
      await same({ where: { handle: 'ann' } }, ann)
      await same({ where: { badges: { in: ['gold'] } } }, ann)
      await same({ where: { handle: 'nobody' } }, undefined)
      // Stored values decide, as for every query: an unsaved change does not.
      bob.handle = 'unsaved'
      await same({ where: { handle: 'bob' } }, bob)
      await same({ where: { handle: 'unsaved' } }, undefined)
      await bob.update({ handle: 'robert' })
      await same({ where: { handle: 'bob' } }, undefined)
      await same({ where: { handle: 'robert' } }, bob)
      // What the shortcut leaves to the planner: another condition, paging, a limit of 0.
      await same({ where: { handle: 'robert', team: 'a' } }, undefined)
      await same({ where: { handle: 'robert', team: 'b' } }, bob)
      await same({ where: { handle: 'robert' }, offset: 1 }, undefined)
      expect(await first({ where: { handle: 'robert' }, limit: 0 })).toBeUndefined()
      await ann.remove()
      await same({ where: { handle: 'ann' } }, undefined)
      await same({ where: { badges: 'gold' } }, undefined)
    })

    it('are refused as a whole with their batch: concurrent saves of one key leave one holder', async () => {
      const results = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => Member.create({ handle: 'same', team: String(i) })))
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1)
      expect(results.filter((r) => r.status === 'rejected').every((r) => (r as PromiseRejectedResult).reason instanceof ConstraintError)).toBe(true)
      expect(await Member.index('handle').count('same')).toBe(1)
      await expectExact(db, Member)
    })

    it('are built once, from the entries, for a store written before claims existed, and then refuse duplicates', async () => {
      if (!keepsClaims(db.engine)) return expect(kind.name).toBe('postgres') // checked by the engine in the batch: no claims
      const ann = await Member.create({ handle: 'ann', badges: ['gold'] })
      await Member.create({ handle: 'bob' })
      await db.close()
      // The store as a build without claims left it: entries, keys records, and the signatures of then.
      const meta = metaOf(Member)!
      const engine = store.engine()
      await engine.open()
      const ops: Parameters<typeof engine.batch>[0] = []
      for (const name of ['handle', 'badges']) {
        for await (const key of engine.keys({ prefix: claimPrefix('members', name) })) ops.push({ type: 'del', key })
        ops.push({ type: 'put', key: signatureKey('members', name), value: signatureOf(meta.indexes.get(name)!, false) })
      }
      // And a claim left by a build of them cut short.
      ops.push({ type: 'put', key: claimOf('handle', 'zed'), value: 'x0000000000000' })
      await engine.batch(ops)
      expect(await engine.get(claimOf('handle', 'ann'))).toBeUndefined()
      await engine.close()

      const progress: Array<{ index: string }> = []
      db = await Database.open({ engine: store.engine(), models: [Member], onIndexProgress: (p) => progress.push(p) })
      await expect(Member.create({ handle: 'ann' })).rejects.toBeInstanceOf(ConstraintError)
      await expect(Member.create({ handle: 'cy', badges: ['gold'] })).rejects.toBeInstanceOf(ConstraintError)
      // Built from the entries, which are exact: no index is rebuilt from the objects.
      expect(progress).toEqual([])
      expect(await db.engine.get(claimOf('handle', 'ann'))).toBe(ann.oid)
      expect(await db.engine.get(claimOf('handle', 'zed'))).toBeUndefined()
      await expectExact(db, Member)
      // Built once: the next open rebuilds nothing.
      await db.close()
      progress.length = 0
      db = await Database.open({ engine: store.engine(), models: [Member], onIndexProgress: (p) => progress.push(p) })
      await Member.create({ handle: 'cy' })
      expect(progress).toEqual([])
    })

    it('missing or wrong are found by verify and repaired', async () => {
      if (!keepsClaims(db.engine)) return expect(kind.name).toBe('postgres')
      const ann = await Member.create({ handle: 'ann' })
      const bob = await Member.create({ handle: 'bob' })
      // Damage by hand: ann's claim lost, bob's claim listing a stranger too.
      await db.engine.batch([
        { type: 'del', key: claimOf('handle', 'ann') },
        { type: 'put', key: claimOf('handle', 'bob'), value: `${bob.oid}\x00x0000000000000` },
      ])
      const report = await db.verify()
      expect(report.problems.map((p) => [p.kind, p.oid, p.key]).sort()).toEqual(
        [
          ['index-entry-extra', 'x0000000000000', claimOf('handle', 'bob').replaceAll('\x00', '\\0')],
          ['index-entry-missing', ann.oid, claimOf('handle', 'ann').replaceAll('\x00', '\\0')],
        ].sort(),
      )
      expect(report.problems.every((p) => p.repairable)).toBe(true)
      const repaired = await db.verify({ repair: true })
      expect(repaired.ok).toBe(true)
      expect((await db.verify()).problems).toEqual([])
      await expectExact(db, Member)
      await expect(Member.create({ handle: 'ann' })).rejects.toBeInstanceOf(ConstraintError)
    })
  })
}

for (const kind of pathKinds.filter((k) => k.persistent)) {
  describe(`claims of unique indexes in an encrypted store on ${kind.name}`, () => {
    let dir: string
    let db: Database | undefined
    afterEach(async () => {
      await db?.close()
      db = undefined
      if (dir) await rm(dir, { recursive: true, force: true })
    })

    it('are stored under keyed hashes, verify finds them sound, and they change form with the index', async () => {
      dir = await tempDir()
      const key = 'a long passphrase for tests'
      db = await Database.open({ engine: kind.make(dir), models: [Member], encryption: { key } })
      const ann = await Member.create({ handle: 'HANDLE-MARK-91c2', badges: ['BADGE-MARK-3e7a'] })
      await expect(Member.create({ handle: 'HANDLE-MARK-91c2' })).rejects.toBeInstanceOf(ConstraintError)
      expect(await db.verify()).toMatchObject({ ok: true, problems: [] })
      await db.close()
      const files = await filesUnder(dir)
      for (const plain of ['HANDLE-MARK-91c2', 'BADGE-MARK-3e7a']) expect(files.includes(Buffer.from(plain)), plain).toBe(false)
      // Listed as ordered, the indexes are rebuilt with their keys (and claims) in the clear; the hashed ones go.
      db = await Database.open({ engine: kind.make(dir), models: [Member], encryption: { key, ordered: ['members.handle', 'members.badges', 'members.team'] } })
      await expect(Member.create({ handle: 'HANDLE-MARK-91c2' })).rejects.toBeInstanceOf(ConstraintError)
      expect(await storedClaims(db.engine, 'members', 'handle')).toEqual({ [encodeKey('HANDLE-MARK-91c2')]: [ann.oid] })
      expect(await db.verify()).toMatchObject({ ok: true, problems: [] })
      await (await Member.get(ann.oid))!.update({ handle: 'other' })
      await Member.create({ handle: 'HANDLE-MARK-91c2' })
      await expectExact(db, Member)
    })
  })
}
