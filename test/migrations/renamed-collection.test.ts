import { describe, expect, it } from 'vitest'
import { ArgumentError, Database, Index, Model, ModelDefinitionError, Property, Relation, StoredObject, StoredRaw, Types, type Many, type One } from '../../src/index.js'
import { kindsSupporting } from '../helpers/store-supports.js'
import { expectExact } from '../indexes/helpers.js'

// Release 1: memos, linked from people (a One and a Many) and from other memos (a One).
@Model({ collection: 'people' })
class Person1 extends StoredObject {
  @Property(Types.STRING) name?: string
  @Relation(() => Memo) favorite!: One<Memo>
  @Relation(() => [Memo]) pinned!: Many<Memo>
}
@Model({ collection: 'memos' })
class Memo extends StoredObject {
  @Property(Types.STRING) @Index() text?: string
  @Relation(() => Memo) parent!: One<Memo>
  @Relation(() => [Memo]) related!: Many<Memo>
  @Relation(() => Person1) author!: One<Person1>
}

// Release 2: the collection is now "notes", at version 2 (text renamed heading); people link to notes.
@Model({ collection: 'people' })
class Person2 extends StoredObject {
  @Property(Types.STRING) name?: string
  @Relation(() => Note) favorite!: One<Note>
  @Relation(() => [Note]) pinned!: Many<Note>
}
@Model({ collection: 'notes', formerly: ['memos'], version: 2, migrations: { 2: (old) => ({ ...old, heading: old.text, text: undefined }) } })
class Note extends StoredObject {
  @Property(Types.STRING) @Index() heading?: string
  @Relation(() => Note) parent!: One<Note>
  @Relation(() => [Note]) related!: Many<Note>
  @Relation(() => Person2) author!: One<Person2>
}

async function allKeys(db: Database): Promise<string[]> {
  const keys: string[] = []
  for await (const key of db.engine.keys({})) keys.push(key)
  return keys
}

for (const kind of await kindsSupporting((s) => s.persistent)) {
  describe(`a renamed collection (${kind.name})`, () => {
    it('moves its objects with formerly, keeping every link to them, from them and among them', async () => {
      const store = await kind.make()
      try {
        let db = await Database.open({ engine: store.engine(), models: [Person1, Memo] })
        const ann = new Person1({ name: 'Ann' })
        const memos = Array.from({ length: 40 }, (_, i) => new Memo({ text: `memo ${i}` }))
        await db.transaction(async () => {
          memos.forEach((m, i) => {
            m.author.set(ann)
            if (i > 0) m.parent.set(memos[i - 1]!)
            if (i % 10 === 0) m.related.add(memos[i + 1]!, memos[i + 2]!, m)
            m.save()
          })
          ann.favorite.set(memos[7]!)
          ann.pinned.add(memos[3]!, memos[1]!, memos[2]!)
          await ann.save()
        })
        const oids = memos.map((m) => m.oid)
        await db.close()

        const progress: unknown[] = []
        db = await Database.open({ engine: store.engine(), models: [Person2, Note], onMigrationProgress: (p) => progress.push(p) })
        expect(progress[0]).toEqual({ model: 'Note', from: 0, to: 0, done: 40, total: 40, movedFrom: 'memos' })
        expect(await db.engine.countRecords('memos')).toBe(0)
        expect(await Note.count()).toBe(40)
        expect((await allKeys(db)).filter((k) => k.includes('memos'))).toEqual([])
        const person = (await Person2.get(ann.oid))!
        expect((await person.favorite.one())!.heading).toBe('memo 7')
        expect((await person.pinned.get()).map((n) => n.heading)).toEqual(['memo 3', 'memo 1', 'memo 2'])
        const n10 = (await Note.get(oids[10]!))!
        expect(n10).toBeInstanceOf(Note)
        expect((await n10.parent.one())!.oid).toBe(oids[9])
        expect((await n10.related.get()).map((n) => n.oid)).toEqual([oids[11], oids[12], oids[10]])
        expect((await n10.author.one())!.oid).toBe(ann.oid)
        expect(await Note.index('heading').count('memo 33')).toBe(1)
        await expectExact(db, Note)
        // Reverse entries moved too: removing a note unlinks it everywhere.
        await (await Note.get(oids[3]!))!.remove()
        await (await Note.get(oids[7]!))!.remove()
        expect(person.favorite.oid).toBeUndefined()
        expect((await person.pinned.get()).map((n) => n.heading)).toEqual(['memo 1', 'memo 2'])
        expect((await Note.get(oids[8]!))!.parent.oid).toBeUndefined()
        await (await Person2.get(ann.oid))!.remove()
        expect((await Note.get(oids[0]!))!.author.oid).toBeUndefined()
        await expectExact(db, Note)
        await db.close()
        // Nothing left to move: the next open does nothing.
        progress.length = 0
        db = await Database.open({ engine: store.engine(), models: [Person2, Note], onMigrationProgress: (p) => progress.push(p) })
        expect(progress).toEqual([])
        await db.close()
      } finally {
        await store.cleanup()
      }
    })
  })
}

describe('formerly', () => {
  it('is refused for raw models, for names that are not collections or repeat, and in a use() after open', async () => {
    expect(() => Model({ formerly: ['old'] })(class R extends StoredRaw {})).toThrow(/formerly is for StoredObject models/)
    expect(() => Model({ collection: 'a', formerly: ['a'] })(class S extends StoredObject {})).toThrow(ModelDefinitionError)
    expect(() => Model({ formerly: ['a/b'] })(class T extends StoredObject {})).toThrow(/formerly/)
    expect(() => Model({ formerly: 'old' as never })(class U extends StoredObject {})).toThrow(/array/)
    const { MemoryEngine } = await import('../../src/index.js')
    const db = await Database.open({ engine: new MemoryEngine(), models: [Person2] })
    try {
      expect(() => db.use(Note)).toThrow(ArgumentError)
    } finally {
      await db.close()
    }
  })

  it('refuses a former collection that a registered model uses', async () => {
    const { MemoryEngine } = await import('../../src/index.js')
    await expect(Database.open({ engine: new MemoryEngine(), models: [Note, Memo, Person1] })).rejects.toThrow(/Note lists "memos" in formerly, but Memo uses that collection/)
    await expect(Database.open({ engine: new MemoryEngine(), models: [Memo, Note, Person1] })).rejects.toThrow(ModelDefinitionError)
  })
})
