// Models for the type-level tests: declared, never registered or run.
import { Index, Indexing, Many, Model, One, Property, Relation, StoredObject, StoredRaw, Types, type Props } from '../../../src/index.js'

@Model()
export class Account extends StoredObject {
  @Property(Types.EMAIL) @Index(Indexing.normalize) email!: string
  @Property(Types.STRING) name?: string
  @Property(Types.INTEGER) @Index() age?: number
  @Property(Types.LIST(Types.STRING)) @Index() roles: string[] = []
  @Property(Types.DATE) @Index() joined?: Date
  @Property(Types.ENUM('active', 'closed')) @Index() status: 'active' | 'closed' = 'active'
  @Property(Types.BOOL) @Index() admin = false
  @Property(Types.ANY) settings?: { theme: string }

  get label(): string {
    return this.name ?? this.email
  }

  greet(): string {
    return `Hello ${this.label}`
  }
}

@Model({ indexes: { words: (c: Comment) => Indexing.keywords(c.text), edited: (c: Comment) => c.getUpdateTime() } })
export class Comment extends StoredObject {
  declare static indexes: { words: string; edited: number }
  @Property(Types.STRING) text = ''
  @Relation(() => Account) @Index() author!: One<Account>
  @Relation(() => [Comment]) replies!: Many<Comment>
}

/** Checked constructor: the class names itself as StoredObject's type argument. */
@Model()
export class Member extends StoredObject<Member> {
  @Property(Types.EMAIL) email!: string
  @Relation(() => Account) sponsor!: One<Account>
}

/** Checked constructor: the class declares one. */
@Model()
export class Guest extends StoredObject {
  @Property(Types.STRING) name?: string
  constructor(props?: Props<Guest>) {
    super(props)
  }
}

@Model()
export class Image extends StoredRaw {
  @Property(Types.INTEGER) @Index() width?: number
  @Property(Types.STRING) @Index(Indexing.updateTime, { name: 'touched' }) caption?: string
  declare static indexes: { touched: number }
}

/** A model inheriting another's members (and its static `indexes` declaration). */
@Model()
export class Reply extends Comment {
  @Property(Types.BOOL) hidden?: boolean
}

/** A property index whose keys are not the property's values: the declaration gives their type. */
@Model()
export class Visit extends StoredObject {
  @Property(Types.DATE) @Index(Indexing.updateTime) at?: Date
  declare static indexes: { at: number }
}
