import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { Database, Many, MemoryEngine, Model, One, Property, Relation, StoredObject, Types } from '../../src/index.js'

// Runs under both class-field semantics (see vitest.config.ts): relation members declared as class
// fields must never shadow the relation accessors.
@Model()
class Person extends StoredObject {
  @Property(Types.STRING) name = ''
  @Relation(() => Person) friend!: One<Person>
  @Relation(() => [Person]) followers!: Many<Person>
  declare plain?: string
}

describe('relation members as class fields', () => {
  let db: Database
  beforeEach(async () => {
    db = await Database.open({ engine: new MemoryEngine(), models: [Person] })
  })
  afterEach(() => db.close())

  it('are relation handles, not own properties, on new and loaded instances', async () => {
    const a = new Person({ name: 'a' })
    expect(Object.hasOwn(a, 'friend')).toBe(false)
    expect(Object.hasOwn(a, 'followers')).toBe(false)
    expect(a.friend).toBeInstanceOf(One)
    expect(a.followers).toBeInstanceOf(Many)
    expect(a.friend).toBe(a.friend) // one handle per instance and relation
    const b = new Person({ name: 'b', friend: a, followers: [a] } as never)
    expect(b.friend.oid).toBe(a.oid)
    expect(b.followers.has(a)).toBe(true)
    await b.save()
    ;(b as any).friend = undefined // assignment goes through the accessor
    expect(b.friend).toBeInstanceOf(One)
    expect(b.friend.oid).toBeUndefined()
    ;(b as any).friend = a
    expect(b.friend.oid).toBe(a.oid)
    await b.save()
    const loaded = [] as Person[]
    for await (const p of Person.all()) loaded.push(p)
    expect(loaded.every((p) => p.friend instanceof One && !Object.hasOwn(p, 'friend'))).toBe(true)
    expect(await b.friend.one()).toBe(a)
  })
})
