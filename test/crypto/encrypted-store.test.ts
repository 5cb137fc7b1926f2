import { randomBytes } from 'node:crypto'
import { rm } from 'node:fs/promises'
import { afterEach, describe, expect, it } from 'vitest'
import {
  ArgumentError,
  CorruptionError,
  Database,
  EncryptedEngine,
  Index,
  KeyError,
  Model,
  Property,
  StoredObject,
  StoredRaw,
  Types,
} from '../../src/index.js'
import { encodeKey } from '../../src/indexes/key-codec.js'
import { pathKinds, tempDir } from '../helpers/stores.js'
import { filesUnder } from '../helpers/store-files.js'

@Model({ collection: 'diary' })
class Entry extends StoredObject {
  @Property(Types.STRING) @Index() mood = ''
  @Property(Types.STRING) text = ''
}

@Model({ collection: 'scans' })
class Scan extends StoredRaw {}

const SECRET = 'SECRET-PROPERTY-VALUE-7f3a'
const MOOD_MARK = 'INDEX-KEY-MARKER-c41e'
const RAW_MARK = Buffer.from('RAW-BYTES-MARKER-91c2')
const PASS = 'a long passphrase for tests'

function rawSource(): Buffer {
  const data = randomBytes(300_000)
  for (let at = 0; at < data.length - 100; at += 50_000) RAW_MARK.copy(data, at)
  return data
}

for (const kind of pathKinds) {
  describe(`an encrypted store (${kind.name})`, () => {
    let dir: string
    let db: Database | undefined
    afterEach(async () => {
      await db?.close()
      db = undefined
      if (dir) await rm(dir, { recursive: true, force: true })
    })

    it('stores objects, index entries and raw data encrypted, and reads them back with the key', async () => {
      dir = await tempDir()
      const engine = kind.make(dir)
      db = await Database.open({ engine, models: [Entry, Scan], encryption: { key: PASS } })
      expect(db.engine).toBeInstanceOf(EncryptedEngine)
      const entry = await Entry.create({ mood: 'calm', text: SECRET })
      await Entry.create({ mood: MOOD_MARK, text: 'another' }) // a distinctive index key (the index stores keyed hashes)
      const data = rawSource()
      const scan = await Scan.create(data, { format: 'bin' })
      expect(scan.size).toBe(data.length)
      expect(await Entry.index('mood').count('calm')).toBe(1)
      if (kind.persistent) {
        await db.close()
        db = await Database.open({ engine: kind.make(dir), models: [Entry, Scan], encryption: { key: PASS } })
      }
      expect((await Entry.get(entry.oid))!.text).toBe(SECRET)
      expect(Buffer.from(await (await Scan.get(scan.oid))!.loadData()).equals(data)).toBe(true)
      expect((await Entry.find({ where: { mood: 'calm' } }).first())!.oid).toBe(entry.oid)
      if (kind.persistent) {
        await db.close()
        db = undefined
        // No property value and no raw byte appears in the clear in any file of the store.
        const files = await filesUnder(dir)
        expect(files.includes(Buffer.from(SECRET))).toBe(false)
        expect(files.includes(Buffer.from(MOOD_MARK))).toBe(false)
        expect(files.includes(RAW_MARK)).toBe(false)
      }
    })

    it('verify finds a sound encrypted store sound, hashed index keys included, and finds a stray entry', async () => {
      dir = await tempDir()
      db = await Database.open({ engine: kind.make(dir), models: [Entry, Scan], encryption: { key: PASS } })
      const a = await Entry.create({ mood: 'calm', text: 'one' })
      await Entry.create({ mood: 'glad', text: 'two' })
      expect(await db.verify()).toMatchObject({ ok: true, problems: [] })
      if (kind.persistent) {
        await db.close()
        db = await Database.open({ engine: kind.make(dir), models: [Entry, Scan], encryption: { key: PASS } })
      }
      const again = (await Entry.get(a.oid))!
      again.mood = 'tense'
      await again.save()
      expect(await db.verify()).toMatchObject({ ok: true, problems: [] })
      // An entry the object's keys do not call for, written behind the index's back.
      await db.engine.batch([{ type: 'put', key: `idx\x00e\x00diary\x00mood\x00${encodeKey('ghost')}\x00${a.oid}`, value: null }])
      const report = await db.verify()
      expect(report.problems.map((p) => [p.kind, p.oid])).toEqual([['index-entry-extra', a.oid]])
      expect(await Entry.index('mood').count('ghost')).toBe(1)
      expect(await db.verify({ repair: true })).toMatchObject({ repaired: 1 })
      expect(await db.verify()).toMatchObject({ ok: true, problems: [] })
      expect(await Entry.index('mood').count('ghost')).toBe(0)
      expect(await Entry.index('mood').count('tense')).toBe(1)
    })

    it('round-trips raw data of any size and chunking, frame boundaries included', async () => {
      dir = await tempDir()
      db = await Database.open({ engine: kind.make(dir), models: [Scan], encryption: { key: randomBytes(32) } })
      for (const size of [0, 1, 65_536, 131_072, 100_001]) {
        const data = randomBytes(size)
        const pieces = function* () {
          for (let at = 0; at < data.length; at += 333) yield data.subarray(at, at + 333)
        }
        const scan = await Scan.create(pieces())
        expect(scan.size).toBe(size)
        const back: Buffer[] = []
        for await (const chunk of scan.data(10_000)) back.push(Buffer.from(chunk))
        expect(Buffer.concat(back).equals(data), `size ${size}`).toBe(true)
        expect(back.every((c) => c.length <= 10_000)).toBe(true)
      }
    })

    it('refuses the wrong key, a missing key, and a key for a store holding unencrypted data, before reading anything', async () => {
      dir = await tempDir()
      if (!kind.persistent) {
        const engine = kind.make(dir)
        db = await Database.open({ engine, models: [Entry] })
        await Entry.create({ text: 'plain' })
        await db.close()
        db = undefined
        return
      }
      db = await Database.open({ engine: kind.make(dir), models: [Entry], encryption: { key: PASS } })
      await Entry.create({ text: SECRET })
      await db.close()
      db = undefined
      await expect(Database.open({ engine: kind.make(dir), models: [Entry], encryption: { key: 'wrong passphrase' } })).rejects.toMatchObject({ code: 'WRONG_KEY' })
      await expect(Database.open({ engine: kind.make(dir), models: [Entry] })).rejects.toBeInstanceOf(KeyError)
      await expect(Database.open({ engine: kind.make(dir), models: [Entry], encryption: { key: randomBytes(32) } })).rejects.toThrow(/passphrase/)
      const plainDir = await tempDir()
      try {
        const plain = await Database.open({ engine: kind.make(plainDir), models: [Entry] })
        await Entry.create({ text: 'plain' })
        await plain.close()
        await expect(Database.open({ engine: kind.make(plainDir), models: [Entry], encryption: { key: PASS } })).rejects.toMatchObject({ code: 'NOT_ENCRYPTED' })
        const again = await Database.open({ engine: kind.make(plainDir), models: [Entry] }) // still readable without a key
        expect(await Entry.count()).toBe(1)
        await again.close()
      } finally {
        await rm(plainDir, { recursive: true, force: true })
      }
    })

    it('rekey() changes the key at once: the old key no longer opens the store, nothing is lost', async () => {
      dir = await tempDir()
      db = await Database.open({ engine: kind.make(dir), models: [Entry], encryption: { key: PASS } })
      const entry = await Entry.create({ text: SECRET })
      const newKey = randomBytes(32)
      await db.rekey(newKey)
      await expect(db.rekey('')).rejects.toBeInstanceOf(ArgumentError)
      expect((await Entry.get(entry.oid))!.text).toBe(SECRET)
      if (!kind.persistent) return
      await db.close()
      db = undefined
      await expect(Database.open({ engine: kind.make(dir), models: [Entry], encryption: { key: PASS } })).rejects.toMatchObject({ code: 'WRONG_KEY' })
      db = await Database.open({ engine: kind.make(dir), models: [Entry], encryption: { key: newKey } })
      expect((await Entry.get(entry.oid))!.text).toBe(SECRET)
    })

    it('a flipped byte in a stored record or entry value gives CorruptionError naming it, never wrong data', async () => {
      dir = await tempDir()
      const engine = new EncryptedEngine(kind.make(dir), PASS)
      await engine.open()
      await engine.batch([
        { type: 'putRecord', collection: 'diary', id: 'e1', value: { properties: { text: SECRET }, updates: {}, changed: 1 } },
        { type: 'put', key: 'some-entry', value: { n: 1 } },
      ])
      const inner = engine.inner
      const record = Buffer.from((await inner.getRecord('diary', 'e1')) as Uint8Array)
      record[record.length - 5]! ^= 1
      const entry = Buffer.from((await inner.get('some-entry')) as Uint8Array)
      entry[20]! ^= 1
      await inner.batch([
        { type: 'putRecord', collection: 'diary', id: 'e1', value: record },
        { type: 'put', key: 'some-entry', value: entry },
      ])
      await expect(engine.getRecord('diary', 'e1')).rejects.toThrow(CorruptionError)
      await expect(engine.getRecord('diary', 'e1')).rejects.toThrow(/record diary\/e1/)
      await expect(engine.get('some-entry')).rejects.toThrow(/some-entry/)
      // A value moved under another key fails too: it is bound to its place.
      await inner.batch([{ type: 'putRecord', collection: 'diary', id: 'e2', value: Buffer.from((await inner.get('some-entry')) as Uint8Array) }])
      await expect(engine.getRecord('diary', 'e2')).rejects.toThrow(CorruptionError)
      await engine.close()
    })
  })
}

@Model({ collection: 'people' })
class Person extends StoredObject {
  @Property(Types.EMAIL) @Index({ unique: true }) email = ''
  @Property(Types.STRING) @Index() city = ''
  @Property(Types.INTEGER) @Index() age = 0
}

@Model({ collection: 'people' })
class PersonByCityWords extends StoredObject {
  @Property(Types.EMAIL) @Index({ unique: true }) email = ''
  @Property(Types.STRING) @Index((city: string) => city.toLowerCase()) city = ''
  @Property(Types.INTEGER) @Index() age = 0
}

for (const kind of pathKinds.filter((k) => k.persistent)) {
  describe(`index keys in an encrypted store (${kind.name})`, () => {
    let dir: string
    afterEach(async () => {
      if (dir) await rm(dir, { recursive: true, force: true })
    })

    it('stores keyed hashes by default (equality, unique and find() work; ranges refused), and keeps listed indexes in order', async () => {
      dir = await tempDir()
      const encryption = { key: PASS, ordered: ['people.age'] }
      let db = await Database.open({ engine: kind.make(dir), models: [Person], encryption })
      await Person.create({ email: 'zed@hidden-domain.example', city: 'Quuxville', age: 41 })
      await Person.create({ email: 'amy@hidden-domain.example', city: 'Quuxville', age: 29 })
      await expect(Person.create({ email: 'zed@hidden-domain.example', city: 'Elsewhere', age: 1 })).rejects.toMatchObject({ code: 'CONSTRAINT' })
      expect(await Person.index('city').count('Quuxville')).toBe(2)
      expect((await Person.find({ where: { city: 'Quuxville', email: 'amy@hidden-domain.example' } }).first())!.age).toBe(29)
      expect((await Person.find({ where: { age: { gte: 30 } } }).oids()).length).toBe(1) // ordered: ranges work
      await expect(async () => {
        for await (const _ of Person.index('city').list({ gte: 'Q' })) break
      }).rejects.toThrow(/people\.city is stored with keyed hashes/)
      await expect(async () => {
        for await (const _ of Person.index('city').keys()) break
      }).rejects.toThrow(/keyed hashes in an encrypted store: its keys cannot be listed/)
      await db.close()
      const files = await filesUnder(dir)
      for (const plain of ['Quuxville', 'hidden-domain']) expect(files.includes(Buffer.from(plain)), plain).toBe(false)
      // Opened without the list, the store's own is used; with another list, the indexes that change form are rebuilt.
      db = await Database.open({ engine: kind.make(dir), models: [Person], encryption: { key: PASS } })
      expect((await Person.find({ where: { age: { gte: 30 } } }).oids()).length).toBe(1)
      await db.close()
      db = await Database.open({ engine: kind.make(dir), models: [Person], encryption: { key: PASS, ordered: ['people.city'] } })
      expect((await Person.find({ where: { city: { prefix: 'Quux' } } }).oids()).length).toBe(2)
      expect(await Person.index('age').count(41)).toBe(1)
      await expect(async () => {
        for await (const _ of Person.index('age').list({ gte: 30 })) break
      }).rejects.toThrow(/people\.age is stored with keyed hashes/)
      await db.close()
      db = await Database.open({ engine: kind.make(dir), models: [Person], encryption })
      expect((await Person.find({ where: { age: { gte: 30 } } }).oids()).length).toBe(1)
      expect(await Person.index('city').count('Quuxville')).toBe(2)
      // Each index holds one entry per object, in its current form only.
      for (const index of ['city', 'age', 'email']) {
        let n = 0
        for await (const _ of db.engine.keys({ prefix: `idx\x00e\x00people\x00${index}\x00` })) n++
        expect(n, index).toBe(2)
      }
      await db.close()
      // A changed index definition is rebuilt over hashed entries, leaving none of the old ones.
      db = await Database.open({ engine: kind.make(dir), models: [PersonByCityWords], encryption })
      expect(await PersonByCityWords.index('city').count('quuxville')).toBe(2)
      expect(await PersonByCityWords.index('city').count('Quuxville')).toBe(0)
      let entries = 0
      for await (const _ of db.engine.keys({ prefix: 'idx\x00e\x00people\x00city\x00' })) entries++
      expect(entries).toBe(2)
      await db.close()
    })
  })
}
