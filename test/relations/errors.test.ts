import { afterEach, describe, expect, it } from 'vitest'
import {
  Database,
  Many,
  MemoryEngine,
  Model,
  ModelDefinitionError,
  NotRegisteredError,
  One,
  Property,
  Relation,
  RelationError,
  StoredObject,
  Types,
} from '../../src/index.js'
import { checkLinks } from './helpers.js'

@Model()
class User extends StoredObject {
  @Property(Types.STRING) name?: string
}

@Model()
class Post extends StoredObject {
  @Property(Types.STRING) title?: string
  @Relation(() => User) author!: One<User>
  @Relation(() => [User]) readers!: Many<User>
}

@Model()
class Orphan extends StoredObject {}

@Model()
class PointsAtOrphan extends StoredObject {
  @Relation(() => Orphan) target!: One<Orphan>
  @Relation(() => [Orphan]) many!: Many<Orphan>
}

@Model()
class BadThunk extends StoredObject {
  @Relation((() => 42) as never) nope!: One<User>
}

describe('@Relation declaration', () => {
  it('refuses a class instead of a thunk, and anything not a function', () => {
    expect(() => {
      @Model()
      class A extends StoredObject {
        @Relation(User as never) author!: One<User>
      }
      return A
    }).toThrow(ModelDefinitionError)
    expect(() => Relation(User as never)(Post.prototype, 'x')).toThrow(/thunk/)
    expect(() => Relation('User' as never)(Post.prototype, 'x')).toThrow(ModelDefinitionError)
  })

  it('refuses @Property and @Relation on one member, in either order', () => {
    expect(() => {
      @Model()
      class A extends StoredObject {
        @Property(Types.STRING) @Relation(() => User) author!: One<User>
      }
      return A
    }).toThrow(/both @Relation and @Property|both @Property and @Relation/)
    expect(() => {
      @Model()
      class B extends StoredObject {
        @Relation(() => User) @Property(Types.STRING) author!: One<User>
      }
      return B
    }).toThrow(ModelDefinitionError)
  })

  it('refuses reserved names and symbols', () => {
    for (const name of ['type', 'oid', 'updates']) {
      class R extends StoredObject {}
      expect(() => Relation(() => User)(R.prototype, name)).toThrow(ModelDefinitionError)
      expect(() => Relation(() => User)(R.prototype, name)).toThrow(new RegExp(`"${name}" is reserved`))
    }
    class S extends StoredObject {}
    expect(() => Relation(() => User)(S.prototype, Symbol('s'))).toThrow(ModelDefinitionError)
  })

  it('says so at first use when the thunk does not return a model', async () => {
    const db = await Database.open({ engine: new MemoryEngine(), models: [BadThunk, User] })
    try {
      const b = new BadThunk()
      expect(() => b.nope).toThrow(ModelDefinitionError)
      expect(() => b.nope).toThrow(/BadThunk\.nope.*must return a model class \(declared with @Model\(\) or the class defineModel\(\) returned\)/)
    } finally {
      await db.close()
    }
  })
})

describe('relation errors', () => {
  let db: Database | undefined
  let other: Database | undefined
  afterEach(async () => {
    await db?.close()
    await other?.close()
    db = other = undefined
  })

  it('throws NotRegisteredError naming both models when the target model is not registered', async () => {
    db = await Database.open({ engine: new MemoryEngine(), models: [PointsAtOrphan] })
    const p = new PointsAtOrphan()
    const err = await p.target.one().catch((e) => e)
    expect(err).toBeInstanceOf(NotRegisteredError)
    expect(err.code).toBe('NOT_REGISTERED')
    expect(err.message).toContain('PointsAtOrphan.target')
    expect(err.message).toContain('Orphan')
    await expect(p.many.get()).rejects.toThrow(/PointsAtOrphan\.many links to Orphan/)
  })

  it('refuses the wrong model, a removed object and objects of another database with RelationError, writing nothing', async () => {
    db = await Database.open({ engine: new MemoryEngine(), models: [Post, User] })
    const ann = await User.create({ name: 'ann' })
    const post = await Post.create({ title: 't' })
    const notAUser = await Post.create({ title: 'not a user' })
    const expectRelationError = (fn: () => unknown, pattern: RegExp) => {
      let err: any
      try {
        fn()
      } catch (e) {
        err = e
      }
      expect(err).toBeInstanceOf(RelationError)
      expect(err.code).toBe('RELATION')
      expect(err.message).toMatch(pattern)
    }
    expectRelationError(() => post.author.set(notAUser as never), /Post\.author\.set\(\).*User.*got Post/)
    expectRelationError(() => post.readers.add(notAUser as never), /Post\.readers\.add\(\)/)
    expectRelationError(() => post.readers.add('just an oid' as never), /expected a User object/)
    expectRelationError(() => ((post as any).author = { oid: ann.oid }), /expected a User object/)
    // A bad element refuses the whole call.
    expectRelationError(() => post.readers.add(ann, notAUser as never), /got Post/)
    expect(post.readers.size).toBe(0)

    const gone = await User.create({ name: 'gone' })
    await gone.remove()
    expectRelationError(() => post.author.set(gone), /removed/)
    expectRelationError(() => post.readers.add(gone), /removed/)

    // An instance from a database that was closed: the class is now bound to a new one.
    const stale = ann
    await db.close()
    db = await Database.open({ engine: new MemoryEngine(), models: [Post, User] })
    const fresh = await Post.create({ title: 'fresh' })
    await User.create({ name: 'x' })
    expectRelationError(() => fresh.author.set(stale), /another database/)

    // An object of another open database.
    @Model()
    class Elsewhere extends StoredObject {}
    other = await Database.open({ engine: new MemoryEngine(), models: [Elsewhere] })
    const e = await Elsewhere.create()
    expectRelationError(() => fresh.author.set(e as never), /another open database/)
    expectRelationError(() => fresh.readers.add(e as never), /another open database/)

    expect(fresh.author.oid).toBeUndefined()
    expect(fresh.readers.size).toBe(0)
    await fresh.save()
    await checkLinks(db)
    const stored = (await db.engine.getRecord('Post', fresh.oid)) as { links?: unknown }
    expect(stored.links).toBeUndefined()
  })

  it('refuses changes to relations of a removed owner', async () => {
    db = await Database.open({ engine: new MemoryEngine(), models: [Post, User] })
    const u = await User.create()
    const post = await Post.create()
    await post.remove()
    expect(() => post.author.set(u)).toThrow(RelationError)
    expect(() => post.readers.add(u)).toThrow(RelationError)
  })
})
