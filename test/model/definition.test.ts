import { describe, expect, it } from 'vitest'
import {
  AlreadyRegisteredError,
  ClosedError,
  Database,
  ModelDefinitionError,
  Model,
  NotRegisteredError,
  Property,
  StoredObject,
  Types,
} from '../../src/index.js'
import { MemoryEngine } from '../../src/engine/memory/memory-engine.js'
import { metaOf } from '../../src/model/meta.js'
import { decoratorStandard } from '../helpers/decorator-standard.js'

describe('model declaration', () => {
  it('infers types from TypeScript types and refuses what it cannot infer', () => {
    if (decoratorStandard === 'standard') {
      // Standard decorators carry no design:type: the type must be given.
      const declare = () => {
        @Model()
        class Inferred extends StoredObject {
          @Property() name?: string
        }
        return Inferred
      }
      expect(declare).toThrow(ModelDefinitionError)
      expect(declare).toThrow(/^Inferred\.name: no type given, and standard decorators carry no TypeScript types; pass one, e\.g\. @Property\(Types\.STRING\)/)
      return
    }
    @Model()
    class Inferred extends StoredObject {
      @Property() name?: string
      @Property() count?: number
      @Property() flag?: boolean
      @Property() when?: Date
    }
    const meta = metaOf(Inferred)!
    expect([...meta.properties.values()].map((p) => [p.name, p.type.name])).toEqual([
      ['name', 'STRING'],
      ['count', 'NUMBER'],
      ['flag', 'BOOL'],
      ['when', 'DATE'],
    ])
    expect(() => {
      class ListWithoutType extends StoredObject {
        @Property() tags?: string[]
      }
      return ListWithoutType
    }).toThrow(ModelDefinitionError)
    expect(() => {
      class Union extends StoredObject {
        @Property() value?: string | number
      }
      return Union
    }).toThrow(/cannot infer/)
  })

  it('refuses reserved names at declaration', () => {
    for (const name of ['type', 'oid', 'updates']) {
      const declare = () => {
        class Reserved extends StoredObject {}
        Property(Types.STRING)(Reserved.prototype, name)
      }
      expect(declare).toThrow(ModelDefinitionError)
      expect(declare).toThrow(new RegExp(`"${name}" is reserved`))
    }
  })

  it('refuses member names that would hide StoredObject members', () => {
    expect(() => {
      // Declared without decorator syntax: TypeScript itself refuses a field named like a method.
      class Clash extends StoredObject {}
      Property(Types.STRING)(Clash.prototype, 'save')
      return Model()(Clash)
    }).toThrow(/Clash.save: "save" is a member of StoredObject/)
  })

  it('refuses two conflicting decorators on one property', () => {
    expect(() => {
      @Model()
      class Twice extends StoredObject {
        @Property(Types.STRING) @Property(Types.INTEGER) name?: string
      }
      return Twice
    }).toThrow(/both @Property and @Property/)
  })

  it('refuses a property type that is not a Stowage type', () => {
    const err = (() => {
      try {
        @Model()
        class Bad extends StoredObject {
          @Property(String as never) name?: string
        }
        return Bad
      } catch (e) {
        return e
      }
    })()
    expect(err).toBeInstanceOf(ModelDefinitionError)
    expect((err as Error).message).toMatch(/Bad\.name: @Property needs a Stowage type/)
  })

  it('refuses @Model on a class that is not a StoredObject, and unsafe collection names', () => {
    expect(() => Model()(class Plain {})).toThrow(ModelDefinitionError)
    expect(() => Model({ collection: '../up' })(class X extends StoredObject {})).toThrow(ModelDefinitionError)
  })

  it('lets subclasses inherit metadata without leaking back into the base', () => {
    @Model()
    class Base extends StoredObject {
      @Property(Types.STRING) name?: string
    }
    @Model()
    class Derived extends Base {
      @Property(Types.INTEGER) level = 1
    }
    expect([...metaOf(Base)!.properties.keys()]).toEqual(['name'])
    expect([...metaOf(Derived)!.properties.keys()]).toEqual(['name', 'level'])
    expect(metaOf(Derived)!.collection).toBe('Derived')
    const d = new Derived({ name: 'n' })
    expect(d).toBeInstanceOf(Base)
    expect(d.name).toBe('n')
    expect(d.level).toBe(1)
    expect(Derived.name).toBe('Derived')
  })

  it('refuses to construct an undecorated subclass of StoredObject', () => {
    class Undecorated extends StoredObject {}
    expect(() => new Undecorated()).toThrow(/decorate it with @Model/)
  })
})

describe('registration', () => {
  @Model()
  class Thing extends StoredObject {
    @Property(Types.STRING) name?: string
  }

  it('throws NotRegisteredError naming the class when no open database has it', async () => {
    const err = await Thing.count().catch((e) => e)
    expect(err).toBeInstanceOf(NotRegisteredError)
    expect(err.code).toBe('NOT_REGISTERED')
    expect(err.message).toMatch(/Thing/)
    await expect(new Thing({ name: 'x' }).save()).rejects.toBeInstanceOf(NotRegisteredError)
  })

  it('binds a model to one open database at a time, and unbinds it on close', async () => {
    const a = await Database.open({ engine: new MemoryEngine(), models: [Thing] })
    const b = await Database.open({ engine: new MemoryEngine() })
    expect(() => b.use(Thing)).toThrow(AlreadyRegisteredError)
    await expect(Database.open({ engine: new MemoryEngine(), models: [Thing] })).rejects.toBeInstanceOf(AlreadyRegisteredError)
    await Thing.create({ name: 'in a' })
    await a.close()
    const err = await Thing.count().catch((e) => e)
    expect(err).toBeInstanceOf(ClosedError)
    await expect(a.sync()).rejects.toBeInstanceOf(ClosedError)
    expect(b.use(Thing)).toBe(b)
    expect(await Thing.count()).toBe(0)
    await b.close()
  })

  it('refuses two models with one collection in a database', async () => {
    @Model({ collection: 'shared' })
    class One extends StoredObject {}
    @Model({ collection: 'shared' })
    class Two extends StoredObject {}
    const db = await Database.open({ engine: new MemoryEngine(), models: [One] })
    expect(() => db.use(Two)).toThrow(/both use the collection "shared"/)
    await db.close()
  })

  it('refuses bad open options with clear errors', async () => {
    await expect(Database.open({})).rejects.toThrow(/path/)
    await expect(Database.open({ engine: {} as never })).rejects.toThrow(/engine/)
    await expect(Database.open({ engine: new MemoryEngine(), models: [class NotAModel {}] })).rejects.toBeInstanceOf(ModelDefinitionError)
  })
})
