import { join } from 'node:path'
import { rm } from 'node:fs/promises'
import { afterEach, describe, expect, it } from 'vitest'
import type { DamagedRecord } from '../../src/engine/engine.js'
import { LevelEngine } from '../../src/engine/level/level-engine.js'
import { ConstraintError, CorruptionError, Database, Index, Indexing, Model, Property, StoredObject, Types } from '../../src/index.js'
import { collect, oids, view } from '../indexes/helpers.js'
import { compactStore, flipByteOf, noise } from '../helpers/level-damage.js'
import { tempDir } from '../helpers/stores.js'

@Model({ collection: 'accounts' })
class Account extends StoredObject {
  @Property(Types.EMAIL) @Index(Indexing.normalize, { unique: true }) email!: string
  @Property(Types.STRING) @Index() name?: string
  @Property(Types.STRING) bio?: string
}

describe('a damaged LevelDB record, seen from a model', () => {
  let db: Database | undefined
  let dir: string | undefined
  afterEach(async () => {
    await db?.close()
    db = undefined
    if (dir !== undefined) await rm(dir, { recursive: true, force: true })
  })

  it('is unreadable alone: reported, skipped by all(), list() and index queries; the rest of the model works', async () => {
    dir = await tempDir()
    const path = join(dir, 'db')
    db = await Database.open({ engine: new LevelEngine(path), models: [Account] })
    const bios = ['ann', 'bob', 'cy', 'dan'].map(() => noise(60))
    const [ann, bob, cy, dan] = await Promise.all(['ann', 'bob', 'cy', 'dan'].map((name, i) => Account.create({ email: `${name}@x.org`, name, bio: bios[i] })))
    await db.close()
    db = undefined
    await compactStore(path)
    flipByteOf(path, bios[1]!)

    const found: DamagedRecord[] = []
    db = await Database.open({ engine: new LevelEngine(path, { onDamage: (d) => found.push(d) }), models: [Account] })
    const err = await Account.get(bob!.oid).catch((x) => x)
    expect(err).toBeInstanceOf(CorruptionError)
    expect(err.message).toContain(`accounts/${bob!.oid}`)
    expect(err.message).toContain('checksum')
    expect(db.engine.damaged()).toEqual([{ collection: 'accounts', id: bob!.oid, reason: err.message }])
    expect(found).toEqual(db.engine.damaged())

    const eve = await Account.create({ email: 'eve@x.org', name: 'eve' })
    expect((await Account.get(ann!.oid))!.name).toBe('ann')
    expect(oids(await collect(Account.all()))).toEqual([ann!.oid, cy!.oid, dan!.oid, eve.oid].sort())
    expect(oids(await Account.list())).toEqual([ann!.oid, cy!.oid, dan!.oid, eve.oid].sort())
    expect(await collect(view(Account, 'name').get('bob'))).toEqual([])
    expect(await view(Account, 'email').one('eve@x.org')).toBe(eve)
    // Still stored, with the keys it was indexed under: its unique email stays held.
    expect(await Account.count()).toBe(5)
    expect(await view(Account, 'name').count('bob')).toBe(1)
    await expect(Account.create({ email: 'bob@x.org' })).rejects.toThrow(ConstraintError)
    await expect(new Account({ email: 'ann2@x.org', name: 'x' }).save()).resolves.toBeDefined()
    await (await Account.get(cy!.oid))!.update({ name: 'cyril' })
    expect((await view(Account, 'name').one('cyril'))?.oid).toBe(cy!.oid)
  })

  it('deep in a long index query (a batch read on the thread pool): reported and skipped, every other object given', async () => {
    dir = await tempDir()
    const path = join(dir, 'db')
    db = await Database.open({ engine: new LevelEngine(path), models: [Account] })
    const bios = Array.from({ length: 400 }, () => noise(60))
    const created: Account[] = []
    await db.transaction(() => {
      for (let i = 0; i < 400; i++) created.push(new Account({ email: `a${i}@x.org`, name: 'same', bio: bios[i] }))
    })
    const all = created.map((a) => a.oid).sort()
    const damaged = all[300]! // past the first batch of the stream, read synchronously
    await db.close()
    db = undefined
    await compactStore(path)
    flipByteOf(path, bios[created.findIndex((a) => a.oid === damaged)]!)

    const found: DamagedRecord[] = []
    db = await Database.open({ engine: new LevelEngine(path, { onDamage: (d) => found.push(d) }), models: [Account] })
    expect(db.engine.supports.backgroundReads).toBe(true)
    const listed = await collect(view(Account, 'name').get('same'))
    expect(oids(listed)).toEqual(all.filter((oid) => oid !== damaged))
    expect(found.map((d) => d.id)).toEqual([damaged])
    expect((await Account.get(all[299]!))!.bio).toBe(bios[created.findIndex((a) => a.oid === all[299])])
  })
})
