import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  ArgumentError,
  Index,
  Database,
  MigrationError,
  Model,
  ModelDefinitionError,
  Property,
  ReadOnlyError,
  StoredObject,
  StoredRaw,
  Types,
  VersionError,
  type MigrationProgress,
} from '../../src/index.js'
import { metaOf } from '../../src/model/meta.js'
import { markerKey } from '../../src/migrations/schema-marker.js'
import { RELATIONS_ROOT } from '../../src/relations/layout.js'
import { kindsSupporting } from '../helpers/store-supports.js'
import type { Store } from '../helpers/stores.js'
import { expectExact } from '../indexes/helpers.js'
import { NoteV1, NoteV2, NoteV3, Person } from './models.js'

/** Stored records of a collection, by oid. */
async function records(db: Database, collection: string): Promise<Map<string, any>> {
  const out = new Map<string, any>()
  for await (const [oid, record] of db.engine.records(collection)) out.set(oid, record)
  return out
}

async function relationEntries(db: Database): Promise<string[]> {
  const keys: string[] = []
  for await (const key of db.engine.keys({ prefix: RELATIONS_ROOT })) keys.push(key.split('\x00').join('|'))
  return keys.sort()
}

@Model({ collection: 'photos' })
class PhotoV1 extends StoredRaw {
  @Property(Types.INTEGER) width?: number
}

@Model({ collection: 'photos', version: 2, migrations: { 2: (old) => ({ ...old, pixels: old.width * 2, width: undefined }) } })
class PhotoV2 extends StoredRaw {
  @Property(Types.INTEGER) @Index() pixels?: number
}

// A store only outlives its database on a persistent engine: migrations need one.
for (const kind of await kindsSupporting((s) => s.persistent)) {
  describe(`migrations (${kind.name})`, () => {
    let store: Store
    let db: Database | undefined
    beforeEach(async () => {
      store = await kind.make()
    })
    afterEach(async () => {
      await db?.close()
      db = undefined
      await store.cleanup()
    })

    const open = async (models: Function[], options: Partial<Parameters<typeof Database.open>[0]> = {}) => {
      await db?.close()
      db = undefined
      db = await Database.open({ engine: store.engine(), models, ...options })
      return db
    }

    /** `n` v1 notes, every third archived, each written by one of two people. */
    async function writeV1(n: number): Promise<{ ann: Person; bob: Person; oids: string[] }> {
      await open([NoteV1, Person])
      const ann = new Person({ name: 'Ann' })
      const bob = new Person({ name: 'Bob' })
      const oids: string[] = []
      await db!.transaction(async () => {
        for (let i = 0; i < n; i++) {
          const note = new NoteV1({ title: `Note number ${i}`, body: `body ${i}`, archived: i % 3 === 2, stars: String(i % 5) })
          note.author.set(i % 2 === 0 ? ann : bob)
          await note.save()
          oids.push(note.oid)
        }
      })
      await db!.close()
      db = undefined
      return { ann, bob, oids }
    }

    it('migrates every object at open: renamed and retyped properties, a renamed relation, indexes rebuilt for what changed', async () => {
      const { ann, oids } = await writeV1(600)
      const progress: MigrationProgress[] = []
      await open([NoteV2, Person], { onMigrationProgress: (p) => progress.push(p) })
      const first = (await NoteV2.get(oids[0]!))!
      expect(first.heading).toBe('Note number 0')
      expect(first.stars).toBe(0)
      expect((first as any).title).toBeUndefined()
      expect(first.writer.oid).toBe(ann.oid)
      const stored = await records(db!, 'notes')
      expect(stored.size).toBe(600)
      for (const record of stored.values()) {
        expect(record.version).toBe(2)
        expect(Object.keys(record.properties).sort()).toEqual(['archived', 'body', 'heading', 'stars'])
        expect(Object.keys(record.links)).toEqual(['writer'])
      }
      // The old relation's entries are gone; the renamed one's reverse entries point at the writer.
      const entries = await relationEntries(db!)
      expect(entries.some((k) => k.endsWith('|author'))).toBe(false)
      expect(entries.filter((k) => k.endsWith('|writer'))).toHaveLength(600)
      expect(await NoteV2.index('heading').count(Indexing_normalize('NOTE NUMBER 7'))).toBe(1)
      expect(await NoteV2.index('writer').count(ann.oid)).toBe(300)
      await expectExact(db!, NoteV2)
      expect(progress.at(-1)).toEqual({ model: 'NoteV2', from: 1, to: 2, done: 600, total: 600 })
      expect(progress.length).toBe(3) // batches of 256
      // Removing the writer unlinks the notes through the renamed relation's reverse entries.
      await (await Person.get(ann.oid))!.remove()
      expect((await NoteV2.get(oids[0]!))!.writer.oid).toBeUndefined()
      await expectExact(db!, NoteV2)
    })

    it('runs several steps in order, async ones too, and a step returning undefined removes the object with its links', async () => {
      const { oids } = await writeV1(30)
      await open([NoteV3, Person])
      const kept = await records(db!, 'notes')
      expect(kept.size).toBe(20)
      oids.forEach((oid, i) => expect(kept.has(oid)).toBe(i % 3 !== 2))
      for (const record of kept.values()) expect(record.version).toBe(3)
      expect(await NoteV3.find({ where: { words: 'number' } as never }).count()).toBe(20)
      expect((await relationEntries(db!)).filter((k) => k.endsWith('|writer'))).toHaveLength(20)
      await expectExact(db!, NoteV3)
      // A second open finds the store at its version: nothing to do, nothing written.
      let reported = 0
      await open([NoteV3, Person], { onMigrationProgress: () => reported++ })
      expect(reported).toBe(0)
    })

    it('goes on from where it stopped: a step that throws names model, version and oid, and the next open finishes', async () => {
      const { oids } = await writeV1(600)
      const bad = oids[400]!
      let failing = true
      @Model({
        collection: 'notes',
        version: 2,
        migrations: {
          2: (old, { oid }) => {
            if (failing && oid === bad) throw new Error('cannot read this one')
            return { ...old, heading: old.title, title: undefined, stars: Number(old.stars ?? 0), writer: old.author, author: undefined }
          },
        },
      })
      class Flaky extends NoteV2 {}
      const err = await open([Flaky, Person]).catch((e) => e)
      expect(err).toBeInstanceOf(MigrationError)
      expect(err).toMatchObject({ code: 'MIGRATION', model: 'Flaky', version: 2, oid: bad })
      expect(err.message).toContain('cannot read this one')
      // The batches before the failing one are migrated; its batch and the rest are whole v1 objects.
      await open([NoteV1, Person], { newerVersions: 'read-only' })
      const mix = await records(db!, 'notes')
      const versions = oids.map((oid) => mix.get(oid).version ?? 1)
      expect(versions.slice(0, 256).every((v) => v === 2)).toBe(true)
      expect(versions.slice(256).every((v) => v === 1)).toBe(true)
      for (const oid of oids.slice(256)) expect(Object.keys(mix.get(oid).properties)).toContain('title')
      failing = false
      await open([Flaky, Person])
      expect([...(await records(db!, 'notes')).values()].every((r) => r.version === 2)).toBe(true)
      expect((await Flaky.get(bad))!.heading).toBe('Note number 400')
      await expectExact(db!, Flaky)
    })

    it('refuses migrated objects that do not validate, naming version and oid, and writes nothing of their batch', async () => {
      const { oids } = await writeV1(10)
      @Model({ collection: 'notes', version: 2, migrations: { 2: (old) => ({ ...old, heading: 42 }) } })
      class Invalid extends NoteV2 {}
      const err = await open([Invalid, Person]).catch((e) => e)
      expect(err).toBeInstanceOf(MigrationError)
      expect(err).toMatchObject({ code: 'MIGRATION', version: 2 })
      expect(oids).toContain(err.oid)
      expect(err.message).toMatch(/heading/)
      @Model({ collection: 'notes', version: 2, migrations: { 2: () => 'nonsense' as never } })
      class NotAnObject extends NoteV2 {}
      await expect(open([NotAnObject, Person])).rejects.toMatchObject({ code: 'MIGRATION', version: 2, oid: oids[0] })
      // The pass began, so older code may only read the store: every object is still at version 1.
      await expect(open([NoteV1, Person])).rejects.toBeInstanceOf(VersionError)
      await open([NoteV1, Person], { newerVersions: 'read-only' })
      for (const record of (await records(db!, 'notes')).values()) expect(record.version).toBeUndefined()
      await expectExact(db!, NoteV1)
    })

    it('refuses a store written by a newer version, or opens it read-only when asked', async () => {
      const { oids } = await writeV1(5)
      await open([NoteV3, Person])
      await db!.close()
      db = undefined
      const err = await open([NoteV2, Person]).catch((e) => e)
      expect(err).toBeInstanceOf(VersionError)
      expect(err.code).toBe('NEWER_VERSION')
      expect(err.message).toMatch(/version 3.*version 2/)
      await open([NoteV1, Person], { newerVersions: 'read-only' })
      const note = (await NoteV1.get(oids[0]!))!
      expect(note.body).toBe('body 0')
      note.body = 'changed'
      await expect(note.save()).rejects.toBeInstanceOf(ReadOnlyError)
      await expect(new NoteV1({ title: 'new' }).save()).rejects.toMatchObject({ code: 'READ_ONLY' })
      await open([NoteV3, Person])
      expect((await NoteV3.get(oids[0]!))!.body).toBe('body 0')
    })

    it('a store without a marker (written before versions) is at version 1; a new collection starts at the model version', async () => {
      const { oids } = await writeV1(3)
      await open([NoteV1, Person])
      expect(await db!.engine.getMany([markerKey('notes')])).toEqual([undefined])
      await open([NoteV3, Person])
      expect(await db!.engine.getMany([markerKey('notes')])).toEqual([{ version: 3 }])
      expect(await NoteV3.get(oids[0]!)).toBeDefined()
      @Model({ collection: 'fresh', version: 4, migrations: { 2: () => ({}), 3: () => ({}), 4: () => ({}) } })
      class Fresh extends StoredObject {
        @Property(Types.STRING) name?: string
      }
      db!.use(Fresh)
      const f = new Fresh({ name: 'x' })
      await f.save()
      expect((await records(db!, 'fresh')).get(f.oid).version).toBe(4)
      expect(await db!.engine.getMany([markerKey('fresh')])).toEqual([{ version: 4 }])
    })

    it('raw data and its metadata survive a migration of the raw object properties', async () => {
      await open([PhotoV1])
      const data = Buffer.alloc(200_000, 7)
      data.write('stowage', 1000)
      const photo = await PhotoV1.create(data, { width: 640, camera: 'X' })
      const sha = photo.sha256
      await open([PhotoV2])
      const again = (await PhotoV2.get(photo.oid))!
      expect(again.pixels).toBe(1280)
      expect(again.sha256).toBe(sha)
      expect(again.meta('camera')).toBe('X')
      expect(Buffer.from(await again.loadData()).equals(data)).toBe(true)
      expect(await PhotoV2.index('pixels').count(1280)).toBe(1)
    })

    it('lazy gets of many objects while the pass runs migrate each object once, with indexes and links exact', async () => {
      const { oids, ann } = await writeV1(1200)
      await open([NoteV2, Person], { migrate: 'lazy' })
      const read = await Promise.all(oids.filter((_, i) => i % 7 === 3).map((oid) => NoteV2.get(oid)))
      expect(read.every((n) => n !== undefined && n.heading!.startsWith('Note number'))).toBe(true)
      expect(await NoteV2.index('writer').count(ann.oid)).toBe(600) // waits for the pass
      for (const record of (await records(db!, 'notes')).values()) expect(record.version).toBe(2)
      const entries = await relationEntries(db!)
      expect(entries.filter((k) => k.endsWith('|writer'))).toHaveLength(1200)
      expect(entries.some((k) => k.endsWith('|author'))).toBe(false)
      await expectExact(db!, NoteV2)
    })

    it('closing the database during a lazy pass stops it after a batch; the next open finishes it', async () => {
      const { oids } = await writeV1(1500)
      await open([NoteV2, Person], { migrate: 'lazy' })
      expect((await NoteV2.get(oids[1]!))!.heading).toBe('Note number 1')
      await db!.close()
      db = undefined
      await open([NoteV2, Person])
      for (const record of (await records(db!, 'notes')).values()) expect(record.version).toBe(2)
      await expectExact(db!, NoteV2)
    })

    it('a model registered later with use() is migrated before its first use', async () => {
      const { oids } = await writeV1(300)
      await open([Person])
      db!.use(NoteV2)
      expect((await NoteV2.get(oids[5]!))!.heading).toBe('Note number 5')
      await expectExact(db!, NoteV2)
    })

    it('with migrate: "lazy", get() migrates the object it reads at once and the rest waits for the background pass', async () => {
      const { oids } = await writeV1(900)
      let reported = 0
      await open([NoteV2, Person], { migrate: 'lazy', onMigrationProgress: () => reported++ })
      const last = (await NoteV2.get(oids[899]!))!
      const batchesBeforeGet = reported
      expect(last.heading).toBe('Note number 899')
      expect(batchesBeforeGet).toBeLessThan(4) // of 4: it did not wait for the pass
      expect((await records(db!, 'notes')).get(oids[899]!).version).toBe(2)
      expect(await NoteV2.get(oids[899]!)).toBe(last)
      expect(await NoteV2.find({ where: { heading: { prefix: 'note number 29' } } }).count()).toBe(11)
      expect(reported).toBe(4)
      for (const record of (await records(db!, 'notes')).values()) expect(record.version).toBe(2)
      await expectExact(db!, NoteV2)
      // A store newer than the code is refused on the first read, as at open.
      await open([NoteV1, Person], { migrate: 'lazy' })
      await expect(NoteV1.get(oids[0]!)).rejects.toBeInstanceOf(VersionError)
    })
  })
}

function Indexing_normalize(s: string): string {
  return s.normalize('NFKC').toLowerCase().trim()
}

describe('migration definitions', () => {
  it('refuses a gap in the chain, a step out of range, a step that is not a function and a bad version', () => {
    expect(() => Model({ version: 3, migrations: { 2: (o) => o } })(class A extends StoredObject {})).toThrow(/missing 3/)
    expect(() => Model({ version: 2, migrations: { 2: (o) => o, 3: (o) => o } })(class B extends StoredObject {})).toThrow(ModelDefinitionError)
    expect(() => Model({ version: 2, migrations: { 2: 'x' as never } })(class C extends StoredObject {})).toThrow(/step 2 must be a function/)
    expect(() => Model({ version: 0 })(class D extends StoredObject {})).toThrow(/positive integer/)
    expect(() => Model({ version: 2.5 as never })(class E extends StoredObject {})).toThrow(/positive integer/)
    expect(metaOf(NoteV1)!.versioning.version).toBe(1)
    expect(metaOf(NoteV3)!.versioning.version).toBe(3)
  })

  it('refuses bad open options', async () => {
    await expect(Database.open({ path: '/nonexistent/x', migrate: 'later' as never })).rejects.toBeInstanceOf(ArgumentError)
    await expect(Database.open({ path: '/nonexistent/x', newerVersions: 'yes' as never })).rejects.toBeInstanceOf(ArgumentError)
  })
})
