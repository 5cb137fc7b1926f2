import { describe, expect, it } from 'vitest'
import * as lib from '../../src/index.js'
import { ConstraintError, defineModel, Index, Indexing, Model, ModelDefinitionError, Property, StoredObject, Types, ValidationError } from '../../src/index.js'
import { metaOf } from '../../src/model/meta.js'
import { databaseEach, storeKinds } from '../helpers/stores.js'
import { defineModels } from './fixtures/plain-models.mjs'

const { Account, Post, Admin, Original } = defineModels(lib)

for (const kind of storeKinds) {
  describe(`defineModel (plain JavaScript) on ${kind.name}`, () => {
    const t = databaseEach(kind, [Account, Post, Admin])

    it('saves, validates and reads back properties, relations and indexes', async () => {
      const ann = await Account.create({ email: 'Ann@Example.com', name: 'Ann', tags: ['a', 'b'] })
      expect(ann).toBeInstanceOf(Original)
      expect(Account.name).toBe('Account')
      expect(Object.keys(ann)).toEqual([]) // the class field went into the state
      expect(ann.visits).toBe(0)
      expect(ann.greet()).toBe('Hello Ann')
      const post = new Post({ title: 'First' })
      post.author = ann
      ann.posts.add(post)
      ann.visits = 2
      await Promise.all([post.save(), ann.save()])
      await expect(new Account({ email: 'bob@example.com' }).save()).rejects.toBeInstanceOf(ValidationError) // name is required
      await expect(Account.create({ email: 'ANN@example.com', name: 'Other' })).rejects.toBeInstanceOf(ConstraintError)
      const admin = await Admin.create({ email: 'root@example.com', name: 'Root', level: 3 })
      admin.sponsor = ann
      await admin.save()

      if (t.store.persistent) await t.reopen()
      const read = await Account.index('email').one('ann@example.com')
      expect(read).toBeDefined()
      expect([read.oid, read.name, read.visits, read.tags]).toEqual([ann.oid, 'Ann', 2, ['a', 'b']])
      expect((await read.posts.get()).map((p: { title: string }) => p.title)).toEqual(['First'])
      const readPost = await Post.get(post.oid)
      expect((await readPost.author.one())?.oid).toBe(ann.oid)
      expect((await Account.index('byName').one('Ann'))?.oid).toBe(ann.oid)
      expect(await Account.index('tags').count('b')).toBe(1)
      const readAdmin = await Admin.get(admin.oid)
      expect([readAdmin.level, readAdmin.email, (await readAdmin.sponsor.one())?.oid]).toEqual([3, 'root@example.com', ann.oid])
      expect(readAdmin).toBeInstanceOf(Account)
    })
  })
}

describe('defineModel options', () => {
  const refusal = (options: object, ctor: Function = class Thing extends StoredObject {}) => {
    try {
      defineModel(ctor, options as never)
    } catch (err) {
      expect(err).toBeInstanceOf(ModelDefinitionError)
      return (err as Error).message
    }
    throw new Error('defineModel accepted the options')
  }

  it('declares what @Model and the member decorators declare, leaving the class as it was', () => {
    class Plain extends StoredObject {}
    const M = defineModel(Plain, { properties: { a: Types.STRING, b: { type: Types.INTEGER, required: true } }, indexes: { a: { property: 'a', unique: true } } })
    const meta = metaOf(M)!
    expect([...meta.properties.values()].map((p) => [p.name, p.type.name, p.required])).toEqual([
      ['a', 'STRING', false],
      ['b', 'INTEGER', true],
    ])
    expect(meta.indexes.get('a')).toEqual({ name: 'a', fn: Indexing.value, property: 'a', unique: true })
    expect(meta.collection).toBe('Plain')
    expect(Object.getOwnPropertyNames(Plain.prototype)).toEqual(['constructor'])
    expect(metaOf(Plain)).toBeUndefined()
    // A second model from the same class is independent of the first.
    const N = defineModel(Plain, { collection: 'others', properties: { c: Types.BOOL } })
    expect([...metaOf(N)!.properties.keys()]).toEqual(['c'])
    expect('c' in new M()).toBe(false)
  })

  it('refuses unknown options and keys, values that are not Stowage types, and bad index specs', () => {
    expect(refusal({ propertis: {} })).toBe('defineModel(Thing): unknown option "propertis"; the options are collection, properties, relations, indexes, version, migrations, formerly')
    expect(refusal({ properties: [] })).toMatch(/^defineModel\(Thing\) option properties must be an object of name -> a type or \{ type, required \}, got an array$/)
    expect(refusal({ properties: { email: 'EMAIL' } })).toMatch(/^defineModel\(Thing\) property "email" must be \{ type, required \}, got "EMAIL"$/)
    expect(refusal({ properties: { email: { type: String } } })).toMatch(/^defineModel\(Thing\) property "email" needs a Stowage type \(Types\.\*\), got function String/)
    expect(refusal({ properties: { email: { type: Types.EMAIL, requird: true } } })).toMatch(/property "email": unknown key "requird"; the keys are type, required$/)
    expect(refusal({ properties: { email: { type: Types.EMAIL, required: 'yes' } } })).toMatch(/property "email": required must be a boolean/)
    expect(refusal({ properties: { oid: Types.STRING } })).toMatch(/^Thing\.oid: "oid" is reserved/)
    expect(refusal({ properties: { save: Types.STRING } })).toMatch(/^Thing\.save: "save" is a member of StoredObject/)
    expect(refusal({ properties: { a: Types.STRING }, relations: { a: () => Account } })).toBe('Thing.a is both in properties and in relations; a member is one of them')
    expect(refusal({ relations: { owner: Account } })).toMatch(/^Thing\.owner: a relation takes a thunk such as relations: \{ owner: \(\) => Account \}/)
    expect(refusal({ indexes: { x: 'name' } })).toMatch(/^defineModel\(Thing\) index "x" must be \(obj\) => keys for a computed index, or \{ property, fn, unique, version \}, got "name"$/)
    expect(refusal({ indexes: { x: { unique: true } } })).toMatch(/index "x": property must be the name of a property or relation, got undefined/)
    expect(refusal({ indexes: { x: { property: 'name' } } })).toBe('defineModel(Thing) index "x": there is no property or relation "name" to index')
    expect(refusal({ properties: { a: Types.STRING }, indexes: { x: { property: 'a', fn: 'lower' } } })).toMatch(/index "x": fn must be an index function/)
    expect(refusal({ properties: { a: Types.STRING }, indexes: { x: { property: 'a', unique: 1 } } })).toMatch(/index "x": unique must be a boolean, got number 1/)
    expect(refusal({ properties: { a: Types.STRING }, indexes: { x: { property: 'a', name: 'y' } } })).toMatch(/index "x": unknown key "name"; the keys are property, fn, unique, version/)
    expect(refusal({ collection: 'a/b' })).toMatch(/^defineModel\(Thing\): /)
    expect(refusal({}, class NotStored {})).toBe('defineModel() applies to classes extending StoredObject or StoredRaw; NotStored does not (write class NotStored extends StoredObject)')
    expect(refusal(null as never)).toBe('defineModel(Thing) options must be an object')
  })

  it('refuses a member declared both by a decorator and in the options, and two indexes with one name', () => {
    class Decorated extends StoredObject {}
    Property(Types.STRING)(Decorated.prototype, 'name')
    Index()(Decorated.prototype, 'name')
    expect(refusal({ properties: { name: Types.STRING } }, Decorated)).toBe('Decorated.name is declared both by a decorator and in the options; keep one')
    expect(refusal({ indexes: { name: (o: { name: string }) => o.name } }, Decorated)).toMatch(/^Decorated: two indexes are named "name"/)
    const M = defineModel(Decorated, { indexes: { length: (o: { name: string }) => o.name.length } })
    expect([...metaOf(M)!.indexes.keys()]).toEqual(['name', 'length'])
    expect([...metaOf(Model({ indexes: { length: (o: { name: string }) => o.name.length } })(Decorated))!.indexes.keys()]).toEqual(['name', 'length'])
  })

  it('points at the class defineModel() returned when the original class is used instead', async () => {
    class Plain extends StoredObject {}
    const Defined = defineModel(Plain, { properties: { n: Types.NUMBER } })
    expect(new Defined()).toBeInstanceOf(Plain)
    expect(() => new Plain()).toThrow(ModelDefinitionError)
    expect(() => new Plain()).toThrow(/Plain is not a model class: decorate it with @Model\(\), or use the class defineModel\(\) returned/)
  })
})
