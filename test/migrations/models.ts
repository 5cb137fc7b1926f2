import { Index, Indexing, Model, Property, Relation, StoredObject, Types, type One } from '../../src/index.js'

// One app's models as they change between releases: the store keeps collection "notes".

@Model({ collection: 'people' })
export class Person extends StoredObject {
  @Property(Types.STRING) @Index() name?: string
}

@Model({ collection: 'notes' })
export class NoteV1 extends StoredObject {
  @Property(Types.STRING) @Index(Indexing.normalize) title?: string
  @Property(Types.STRING) body?: string
  @Property(Types.BOOL) archived?: boolean
  @Property(Types.STRING) stars?: string
  @Relation(() => Person) author!: One<Person>
}

/** v2: title renamed heading (and its index), stars retyped to an integer, author renamed writer. */
@Model({
  collection: 'notes',
  version: 2,
  migrations: {
    2: (old) => ({ ...old, heading: old.title, title: undefined, stars: Number(old.stars ?? 0), writer: old.author, author: undefined }),
  },
})
export class NoteV2 extends StoredObject {
  @Property(Types.STRING) @Index(Indexing.normalize) heading?: string
  @Property(Types.STRING) body?: string
  @Property(Types.BOOL) archived?: boolean
  @Property(Types.INTEGER) @Index() stars?: number
  @Relation(() => Person) @Index() writer!: One<Person>
}

const v2Step = (old: Record<string, any>) => ({ ...old, heading: old.title, title: undefined, stars: Number(old.stars ?? 0), writer: old.author, author: undefined })

/** v3: archived notes are dropped (asynchronously decided), the others get a words index. */
@Model({
  collection: 'notes',
  version: 3,
  migrations: {
    2: v2Step,
    3: async (old) => {
      await new Promise((resolve) => setImmediate(resolve))
      return old.archived ? undefined : { ...old, archived: undefined }
    },
  },
  indexes: { words: { fn: (note: NoteV3) => Indexing.keywords(note.heading ?? ''), version: 1 } },
})
export class NoteV3 extends StoredObject {
  @Property(Types.STRING) @Index(Indexing.normalize) heading?: string
  @Property(Types.STRING) body?: string
  @Property(Types.INTEGER) @Index() stars?: number
  @Relation(() => Person) @Index() writer!: One<Person>
}
