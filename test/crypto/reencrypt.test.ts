import { createHash, randomBytes } from 'node:crypto'
import { readdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { ArgumentError, ConflictError, CorruptionError, Database, EncryptedEngine, LevelEngine, MemoryEngine } from '../../src/index.js'
import { decrypt } from '../../src/crypto/cipher.js'
import { KEY_SLOT } from '../../src/crypto/encrypted-engine.js'
import { openSlotKeys } from '../../src/crypto/store-key.js'
import { pathKinds, tempDir } from '../helpers/stores.js'
import { filesUnder } from '../helpers/store-files.js'
import { Letter, Photo } from './letters.js'


const KEY_A = new Uint8Array(32).fill(7)
const KEY_B = 'the new passphrase after a leak'
const ORDERED = ['letters.n']

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex')

async function rawOf(photo: Photo): Promise<Buffer> {
  const parts: Uint8Array[] = []
  for await (const chunk of photo.data()) parts.push(chunk)
  return Buffer.concat(parts)
}

/** Every sealed value the store holds (records and entry values), as stored, with where it is authenticated. */
async function sealedValues(engine: EncryptedEngine): Promise<Array<{ place: string; value: Uint8Array }>> {
  const out: Array<{ place: string; value: Uint8Array }> = []
  for await (const [key, value] of engine.inner.entries({})) if (key !== KEY_SLOT && value instanceof Uint8Array) out.push({ place: `e\0${key}`, value })
  for await (const collection of engine.inner.collections()) {
    for await (const [id, value] of engine.inner.records(collection, {})) out.push({ place: `r\0${collection}\0${id}`, value: value as Uint8Array })
  }
  return out
}

async function hashedEntryKeys(engine: EncryptedEngine): Promise<string[]> {
  const keys: string[] = []
  for await (const key of engine.inner.keys({ prefix: 'idx\0e\0letters\0to\0' })) keys.push(key)
  return keys
}

for (const kind of pathKinds) {
  describe(`reencrypt() (${kind.name})`, () => {
    let dir: string
    let db: Database | undefined
    afterEach(async () => {
      await db?.close()
      db = undefined
      if (dir) await rm(dir, { recursive: true, force: true })
    })

    it('re-seals every record, entry and raw data under a new data key, rehashes hashed index keys, and changes the key', async () => {
      dir = await tempDir()
      const engine = kind.make(dir)
      db = await Database.open({ engine, models: [Letter, Photo], encryption: { key: KEY_A, ordered: ORDERED } })
      const letters: Letter[] = []
      for (let i = 0; i < 120; i++) letters.push(await Letter.create({ to: `person${i % 7}@example.com`, n: i, text: `letter ${i}` }))
      const data = randomBytes(200_000)
      const photo = await Photo.create([data], { format: 'jpeg' })
      const sealed = db.engine as EncryptedEngine
      const [slot] = await sealed.inner.getMany([KEY_SLOT])
      const oldDataKey = openSlotKeys(KEY_A, slot).dataKey
      const hashedBefore = await hashedEntryKeys(sealed)
      expect(hashedBefore).toHaveLength(120)
      const oldSealed = (await sealedValues(sealed)).map(({ value }) => Buffer.from(value.subarray(13, 45)))

      await db.reencrypt(KEY_B)

      // Nothing sealed with the old data key is left, and the old key's hashes are gone.
      const values = await sealedValues(sealed)
      expect(values.length).toBeGreaterThan(240)
      for (const { place, value } of values) {
        expect(value[0]).toBe(2)
        expect(() => decrypt(oldDataKey, place, value, place)).toThrow(CorruptionError)
      }
      const hashedAfter = await hashedEntryKeys(sealed)
      expect(hashedAfter).toHaveLength(120)
      expect(hashedAfter.filter((k) => hashedBefore.includes(k))).toEqual([])
      expect(await sealed.reencryptionPending()).toBe(false)
      // The Directory engine's raw file keeps its name (and extension).
      if (kind.name === 'directory') expect((await readdir(join(dir, 'store', 'photos'))).sort()).toEqual([`${photo.oid}.jpeg`, `${photo.oid}.json`])

      const check = async (person3: number) => {
        expect(await Letter.index('to').count('person3@example.com')).toBe(person3)
        const found: number[] = []
        for await (const l of Letter.find({ where: { to: 'person5@example.com' } })) found.push(l.n)
        expect(found.sort((a, b) => a - b)).toEqual([5, 12, 19, 26, 33, 40, 47, 54, 61, 68, 75, 82, 89, 96, 103, 110, 117])
        let inRange = 0
        for await (const _ of Letter.index('n').list({ gte: 10, lt: 20 })) inRange++
        expect(inRange).toBe(10)
        db!.identity.clear()
        for (const l of letters) expect((await Letter.get(l.oid))!.text).toBe(`letter ${l.n}`)
        expect(sha(await rawOf((await Photo.get(photo.oid))!))).toBe(sha(data))
      }
      await check(17)
      // Writes after it use the new key too.
      await Letter.create({ to: 'person3@example.com', n: 500, text: 'after' })
      expect(await Letter.index('to').count('person3@example.com')).toBe(18)
      if (!kind.persistent) return
      await db.close()
      // No value sealed with the old data key is left in a Directory store's files (LevelDB keeps
      // overwritten values in its tables until it compacts them, LMDB in free pages until reused).
      if (kind.name === 'directory') {
        const files = await filesUnder(dir)
        expect(oldSealed.filter((old) => files.includes(old))).toEqual([])
      }
      await expect(Database.open({ engine: kind.make(dir), models: [Letter, Photo], encryption: { key: KEY_A } })).rejects.toMatchObject({ code: 'WRONG_KEY' })
      db = await Database.open({ engine: kind.make(dir), models: [Letter, Photo], encryption: { key: KEY_B } })
      await check(18)
    })

    it('keeps the key when given none, and can run again (the data key changes each time)', async () => {
      dir = await tempDir()
      db = await Database.open({ engine: kind.make(dir), models: [Letter], encryption: { key: KEY_A, ordered: ORDERED } })
      const letter = await Letter.create({ to: 'a@b.c', n: 1, text: 'kept' })
      const sealed = db.engine as EncryptedEngine
      const dataKeys: string[] = []
      for (let run = 0; run < 3; run++) {
        const [slot] = await sealed.inner.getMany([KEY_SLOT])
        dataKeys.push(openSlotKeys(KEY_A, slot).dataKey.toString('hex'))
        await db.reencrypt()
        expect(await Letter.index('to').count('a@b.c')).toBe(1)
      }
      expect(new Set(dataKeys).size).toBe(3)
      db.identity.clear()
      expect((await Letter.get(letter.oid))!.text).toBe('kept')
      if (!kind.persistent) return
      await db.close()
      db = await Database.open({ engine: kind.make(dir), models: [Letter], encryption: { key: KEY_A } })
      expect((await Letter.get(letter.oid))!.text).toBe('kept')
      expect(await Letter.index('to').count('a@b.c')).toBe(1)
    })
  })
}

describe('reencrypt() while the app reads', () => {
  it('index queries, gets and raw reads running meanwhile always see the whole data', async () => {
    const dir = await tempDir()
    const db = await Database.open({ engine: new LevelEngine(join(dir, 'db')), models: [Letter, Photo], encryption: { key: KEY_A, ordered: ORDERED } })
    try {
      await db.transaction(async () => {
        for (let i = 0; i < 400; i++) new Letter({ to: `p${i % 4}@x.org`, n: i, text: `letter ${i}` }).save()
      })
      const some = (await Letter.index('to').one('p1@x.org'))!
      const data = randomBytes(300_000)
      const photo = await Photo.create([data], { format: 'bin' })
      let done = false
      const rekeyed = db.reencrypt(KEY_B).finally(() => (done = true))
      let rounds = 0
      while (!done || rounds < 3) {
        expect(await Letter.index('to').count('p2@x.org')).toBe(100)
        db.identity.clear()
        expect((await Letter.get(some.oid))!.to).toBe('p1@x.org')
        expect(sha(await rawOf((await Photo.get(photo.oid))!))).toBe(sha(data))
        rounds++
      }
      await rekeyed
    } finally {
      await db.close()
      await rm(dir, { recursive: true, force: true })
    }
  })
})

describe('reencrypt() refuses what it cannot do', () => {
  it('on a store that is not encrypted, or with a bad new key: a typed error, nothing changed', async () => {
    const db = await Database.open({ engine: new MemoryEngine(), models: [Letter] })
    await expect(db.reencrypt()).rejects.toBeInstanceOf(ArgumentError)
    await db.close()
    const enc = await Database.open({ engine: new MemoryEngine(), models: [Letter], encryption: { key: KEY_A } })
    const letter = await Letter.create({ to: 'x@y.z', n: 2, text: 'safe' })
    await expect(enc.reencrypt(new Uint8Array(16))).rejects.toBeInstanceOf(ArgumentError)
    await expect(enc.reencrypt('')).rejects.toBeInstanceOf(ArgumentError)
    expect(await (enc.engine as EncryptedEngine).reencryptionPending()).toBe(false)
    expect((await Letter.get(letter.oid))!.text).toBe('safe')
    await enc.close()
  })

  it('raw data staged under the retired data key is refused at commit (ConflictError), nothing written; staged again it is stored', async () => {
    const db = await Database.open({ engine: new MemoryEngine(), models: [Letter], encryption: { key: KEY_A } })
    const engine = db.engine as EncryptedEngine
    const staged = await engine.stageRaw('photos', 'p1', [Buffer.from('staged before')], {})
    await db.reencrypt()
    await expect(engine.batch([{ type: 'putRaw', collection: 'photos', id: 'p1', staged }])).rejects.toBeInstanceOf(ConflictError)
    expect(await engine.hasRaw('photos', 'p1')).toBe(false)
    await engine.discardRaw(staged)
    const again = await engine.stageRaw('photos', 'p1', [Buffer.from('staged after')], {})
    await engine.batch([{ type: 'putRaw', collection: 'photos', id: 'p1', staged: again }])
    const parts: Uint8Array[] = []
    for await (const chunk of engine.readRaw('photos', 'p1')) parts.push(chunk)
    expect(Buffer.concat(parts).toString()).toBe('staged after')
    await db.close()
  })

  it('works under compression (the encrypted engine is the inner one)', async () => {
    const db = await Database.open({ engine: new MemoryEngine(), models: [Letter], compression: 'gzip', encryption: { key: KEY_A } })
    const letter = await Letter.create({ to: 'x@y.z', n: 3, text: 'z'.repeat(2000) })
    await db.reencrypt(KEY_B)
    await db.rekey(KEY_A)
    db.identity.clear()
    expect((await Letter.get(letter.oid))!.text).toBe('z'.repeat(2000))
    expect(await Letter.index('to').count('x@y.z')).toBe(1)
    await db.close()
  })

  it('a damaged next data key (of an unfinished re-encryption) is refused at open: KeyError', async () => {
    const dir = await tempDir()
    const location = join(dir, 'db')
    let db = await Database.open({ engine: new LevelEngine(location), models: [Letter], encryption: { key: KEY_A } })
    await Letter.create({ to: 'x@y.z', n: 4, text: 'one' })
    await db.close()
    let inner = new LevelEngine(location)
    await inner.open()
    const [slot] = await inner.getMany([KEY_SLOT])
    await inner.batch([{ type: 'put', key: KEY_SLOT, value: { ...(slot as object), next: { wrapped: Buffer.alloc(60).toString('base64'), mark: 2 } } }])
    await inner.close()
    await expect(Database.open({ engine: new LevelEngine(location), models: [Letter], encryption: { key: KEY_A } })).rejects.toMatchObject({ code: 'CORRUPTED_KEY' })
    inner = new LevelEngine(location)
    await inner.open()
    await inner.batch([{ type: 'put', key: KEY_SLOT, value: slot }])
    await inner.close()
    db = await Database.open({ engine: new LevelEngine(location), models: [Letter], encryption: { key: KEY_A } })
    expect(await Letter.index('to').count('x@y.z')).toBe(1)
    await db.close()
    await rm(dir, { recursive: true, force: true })
  })
})
