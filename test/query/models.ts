import { Index, Indexing, Model, Property, StoredObject, Types } from '../../src/index.js'

@Model({ indexes: { words: (a: Article) => Indexing.keywords(a.title) } })
export class Article extends StoredObject {
  declare static indexes: { words: string }
  @Property(Types.STRING) title = ''
  @Property(Types.ENUM('draft', 'published')) @Index() status: 'draft' | 'published' = 'draft'
  @Property(Types.LIST(Types.STRING)) @Index() tags: string[] = []
  @Property(Types.DATE) @Index() date?: Date
  @Property(Types.INTEGER) @Index() rank?: number
  @Property(Types.BOOL) @Index() pinned = false
  /** No index: conditions on it are checked on the objects. */
  @Property(Types.INTEGER) views = 0
  @Property(Types.STRING) note?: string
}
