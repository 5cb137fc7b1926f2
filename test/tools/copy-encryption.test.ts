import { rm, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { EncryptedEngine } from '../../src/crypto/encrypted-engine.js'
import { CompressedEngine } from '../../src/compression/compressed-engine.js'
import { Database } from '../../src/model/database.js'
import { copyToPath } from '../../src/tools/restore-store.js'
import { engineAt, ENGINE_KINDS, type EngineKind } from '../../src/tools/store-path.js'
import { bytes } from '../../src/testing/helpers.js'
import { filesUnder } from '../helpers/store-files.js'
import { tempDir } from '../helpers/stores.js'
import { contentsOf, models, Person, Photo, populate } from './fixture.js'

const PASS = 'the passphrase of the encrypted copy'
const pathOf = (dir: string, kind: EngineKind, name: string) => join(dir, kind === 'lmdb' ? `${name}.lmdb` : name)

/** What a database on the store answers: index lookups (a hashed and an ordered index), links, raw data. */
async function answers(db: Database): Promise<unknown> {
  const p3 = (await Person.index('email').one('p3@x.org'))!
  const p1 = (await Person.index('email').one('p1@x.org'))!
  const photos: Array<[number | undefined, number]> = []
  for await (const photo of p1.photos) {
    let size = 0
    for await (const chunk of (photo as Photo).data()) size += chunk.length
    photos.push([(photo as Photo).width, size])
  }
  const friends: string[] = []
  for await (const f of p3.friends) friends.push((f as Person).email!)
  await db.sync()
  return { name: p3.name, boss: (await p3.boss.one())?.email, friends: friends.sort(), named: await Person.index('name').count('P0'), photos }
}

for (const kind of ENGINE_KINDS) {
  describe(`copying a ${kind} store to encrypted and back`, () => {
    it('copyToPath with encryption makes an encrypted copy (no plaintext in its files), and one without decrypts it: objects, links, raw data and indexes intact', async () => {
      const dir = await tempDir()
      try {
        const plainPath = pathOf(dir, kind, 'plain')
        let db = await Database.open({ engine: engineAt(plainPath, kind), models })
        await populate()
        const before = await answers(db)
        await db.close()
        const source = engineAt(plainPath, kind)
        await source.open()
        const expected = await contentsOf(source)

        const sealedPath = pathOf(dir, kind, 'sealed')
        expect(await copyToPath(source, sealedPath, { engine: kind, encryption: { key: PASS, ordered: ['people.name'] } })).toMatchObject({ records: 23, raw: 3 })
        await source.close()
        const files = await filesUnder(sealedPath)
        for (const secret of ['p13@x.org', 'p3@x.org']) expect(files.includes(Buffer.from(secret))).toBe(false)
        expect(files.includes(Buffer.from(bytes(200_000, 1).subarray(1000, 1032)))).toBe(false)
        await expect(Database.open({ engine: engineAt(sealedPath, kind), models })).rejects.toMatchObject({ code: 'WRONG_KEY' })
        const sealed = new EncryptedEngine(engineAt(sealedPath, kind), PASS)
        await sealed.open()
        expect(await contentsOf(sealed)).toEqual(expected)

        const backPath = pathOf(dir, kind, 'back')
        await copyToPath(sealed, backPath, { engine: kind })
        await sealed.close()
        const back = engineAt(backPath, kind)
        await back.open()
        expect(await contentsOf(back)).toEqual(expected)
        await back.close()

        // Databases on both copies answer as the original did; the encrypted one keeps people.name ordered.
        db = await Database.open({ engine: engineAt(sealedPath, kind), models, encryption: { key: PASS } })
        expect(await answers(db)).toEqual(before)
        let inOrder = 0
        for await (const _ of Person.index('name').list({ gte: 'P1', lt: 'P3' })) inOrder++
        expect(inOrder).toBe(6)
        await db.close()
        db = await Database.open({ engine: engineAt(backPath, kind), models })
        expect(await answers(db)).toEqual(before)
        await db.close()
      } finally {
        await rm(dir, { recursive: true, force: true })
      }
    })
  })
}

describe('copying into a compressed, encrypted store', () => {
  it('copyToPath with compression and encryption: the copy opens with both options, its contents equal', async () => {
    const dir = await tempDir()
    try {
      const plainPath = join(dir, 'plain')
      let db = await Database.open({ engine: engineAt(plainPath, 'level'), models })
      await populate()
      const before = await answers(db)
      await db.close()
      const source = engineAt(plainPath, 'level')
      await source.open()
      const expected = await contentsOf(source)
      const target = join(dir, 'zipped')
      await copyToPath(source, target, { engine: 'lmdb', encryption: { key: PASS }, compression: 'brotli' })
      await source.close()
      const opened = new CompressedEngine(new EncryptedEngine(engineAt(target, 'lmdb'), PASS), 'brotli')
      await opened.open()
      expect(await contentsOf(opened)).toEqual(expected)
      await opened.close()
      db = await Database.open({ engine: engineAt(target, 'lmdb'), models, encryption: { key: PASS }, compression: 'brotli' })
      expect(await answers(db)).toEqual(before)
      await db.close()
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('a wrong key for an existing encrypted target, or a bad one for a new target, is a typed error and writes nothing', async () => {
    const dir = await tempDir()
    try {
      const plainPath = join(dir, 'plain')
      const db = await Database.open({ engine: engineAt(plainPath, 'level'), models })
      await populate(3)
      await db.close()
      const source = engineAt(plainPath, 'level')
      await source.open()
      const target = join(dir, 'sealed')
      await copyToPath(source, target, { encryption: { key: PASS } })
      await expect(copyToPath(source, target, { encryption: { key: 'another passphrase' }, merge: true })).rejects.toMatchObject({ code: 'WRONG_KEY' })
      await expect(copyToPath(source, target, { merge: true })).rejects.toMatchObject({ code: 'WRONG_KEY' })
      await expect(copyToPath(source, join(dir, 'new'), { encryption: { key: '' } })).rejects.toMatchObject({ code: 'ARGUMENT' })
      await expect(stat(join(dir, 'new'))).rejects.toMatchObject({ code: 'ENOENT' })
      await source.close()
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})
