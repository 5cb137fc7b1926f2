/**
 * The service's models. Notes and bookmarks are one model: a bookmark is a note with a `url`.
 */
import { Index, Indexing, Many, Model, One, Property, Relation, StoredObject, StoredRaw, Types } from '../../src/index.js'

@Model({ collection: 'accounts' })
export class Account extends StoredObject {
  // Stored normalized (see normalizeEmail); the index is normalized too, so the uniqueness holds
  // whatever the case or spacing even for objects written by other code.
  @Property(Types.EMAIL, { required: true }) @Index(Indexing.normalize, { unique: true }) email!: string
  @Property(Types.LINE, { required: true }) name!: string
}

/** A file attached to a note. Its data is streamed in and out, never held whole in memory. */
@Model({ collection: 'attachments' })
export class Attachment extends StoredRaw {
  @Property(Types.LINE) name?: string
}

@Model({
  collection: 'notes',
  // Version 1 of the service stored tags as the client sent them; version 2 keeps them trimmed and
  // without duplicates, so a store written by version 1 is brought up to date when it is opened.
  version: 2,
  migrations: { 2: (old) => ({ ...old, tags: Array.isArray(old.tags) ? normalizeTags(old.tags).filter((tag) => tag !== '') : old.tags }) },
  // Every word (3 letters or more) of the title and body, lower case and without accents.
  indexes: { keywords: (note: Note) => Indexing.keywords([note.title, note.body]) },
})
export class Note extends StoredObject {
  declare static indexes: { keywords: string } // the computed index's name and key type, for Note.index()
  // Indexed for sorting by title (`?sort=title`), in lower case and without accents.
  @Property(Types.LINE, { required: true }) @Index(Indexing.keyword) title!: string
  @Property(Types.MARKDOWN) body = ''
  @Property(Types.URL) url?: string
  // One key per tag, normalized, so `?tag=Work` finds notes tagged 'work' or ' WORK'.
  @Property(Types.LIST(Types.LINE)) @Index(Indexing.keyword) tags: string[] = []
  @Property(Types.DATE, { required: true }) @Index() created: Date = new Date()
  @Relation(() => Account) @Index() owner!: One<Account>
  @Relation(() => [Attachment]) attachments!: Many<Attachment>
}

export const models = [Account, Note, Attachment]

/** Emails are kept trimmed and in lower case: `Ann@Example.com ` and `ann@example.com` are one account. */
export function normalizeEmail(email: unknown): unknown {
  return typeof email === 'string' ? email.trim().toLowerCase() : email
}

/** Tags as the service stores them: trimmed, each once. */
export function normalizeTags(tags: unknown[]): unknown[] {
  return [...new Set(tags.map((t) => (typeof t === 'string' ? t.trim() : t)))]
}
