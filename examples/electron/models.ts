/** The store's model. Only the store service (main or utility process) imports it. */
import { Index, Indexing, Model, Property, StoredObject, Types } from '../../src/index.js'

@Model({
  collection: 'notes',
  // Every word (3 letters or more) of the title and body, lower case and without accents.
  indexes: { words: (note: Note) => Indexing.keywords([note.title, note.body]) },
})
export class Note extends StoredObject {
  /** The computed index's name and key type, for `Note.index('words')`. */
  declare static indexes: { words: string }
  @Property(Types.LINE, { required: true }) title!: string
  @Property(Types.MARKDOWN) body = ''
  // One key per tag, normalized: a search for 'Work' finds notes tagged 'work'.
  @Property(Types.LIST(Types.LINE)) @Index(Indexing.keyword) tags: string[] = []
  @Property(Types.DATE, { required: true }) @Index() created: Date = new Date()
}

export const models = [Note]
