import { describe, expect, it } from 'vitest'
import { Database, defineModel, MemoryEngine, Model, ModelDefinitionError, Property, StoredObject, Types } from '../../src/index.js'
import { metaOf } from '../../src/model/meta.js'
import { conventions, run, thrownBy, type Convention } from '../helpers/compile-snippet.js'

const names = (map: Map<string, unknown>) => [...map.keys()]

function definitionError(fn: () => unknown): Error {
  const err = thrownBy(fn)
  expect(err).toBeInstanceOf(ModelDefinitionError)
  expect((err as ModelDefinitionError).code).toBe('MODEL_DEFINITION')
  return err
}

describe('models under both decorator standards', () => {
  it('declare the same models (StoredObject and StoredRaw), with inheritance from undecorated and model base classes', async () => {
    for (const convention of conventions) {
      const { A, B, Sub, Img } = run(
        convention,
        `
        class Base extends StoredObject {
          @Property(Types.STRING, { required: true }) name!: string
          @Property(Types.INTEGER) visits = 1
        }
        @Model() class A extends Base {
          @Property(Types.BOOL) @Index() flag = true
        }
        @Model({ collection: 'bees' }) class B extends Base {
          @Relation(() => [B]) peers!: any
        }
        @Model() class Sub extends A {
          @Property(Types.STRING) extra?: string
        }
        @Model() class Img extends StoredRaw {
          @Property(Types.INTEGER) @Index() width?: number
        }
        return { A, B, Sub, Img }`,
      )
      expect(names(metaOf(A)!.properties), convention).toEqual(['name', 'visits', 'flag'])
      expect(names(metaOf(B)!.properties)).toEqual(['name', 'visits'])
      expect(names(metaOf(B)!.relations)).toEqual(['peers'])
      expect(names(metaOf(Sub)!.properties)).toEqual(['name', 'visits', 'flag', 'extra'])
      expect(names(metaOf(Sub)!.indexes)).toEqual(['flag'])
      expect(metaOf(A)!.decorators).toBe(convention)

      const db = await Database.open({ engine: new MemoryEngine(), models: [A, B, Sub, Img] })
      const s = await Sub.create({ name: 'n', extra: 'x' })
      expect(Object.keys(s)).toEqual([]) // class fields went into the object's state
      expect([s.name, s.visits, s.flag, s.extra]).toEqual(['n', 1, true, 'x'])
      s.visits = 5
      await s.save()
      expect((await Sub.get(s.oid)).visits).toBe(5)
      await expect(new A({}).save()).rejects.toThrow(/name/)
      await A.create({ name: 'a', flag: false })
      expect(await A.index('flag').count(false)).toBe(1)
      const b = await B.create({ name: 'b' })
      const c = await B.create({ name: 'c' })
      b.peers.add(c)
      await b.save()
      expect((await b.peers.get()).map((p: { name: string }) => p.name)).toEqual(['c'])
      const img = await Img.create(new Uint8Array([1, 2, 3]), { width: 4 })
      expect([(await Img.get(img.oid)).width, await Img.index('width').count(4), Object.keys(img)]).toEqual([4, 1, []])
      await db.close()
    }
  })

  it('report a bad member of a base class to every model extending it', () => {
    for (const convention of conventions) {
      const declare = () =>
        run(
          convention,
          `
          class Base extends StoredObject { @Property('text' as any) name?: string }
          const models = []
          for (let i = 0; i < 2; i++) {
            try {
              @Model() class Sub extends Base {}
              models.push(Sub)
            } catch (err) {
              models.push(err)
            }
          }
          return models`,
        )
      if (convention === 'legacy') {
        // experimentalDecorators have the class at hand: the base's declaration fails.
        expect(definitionError(declare).message).toMatch(/^Base\.name: @Property needs a Stowage type/)
      } else {
        const errors = declare()
        expect(errors).toHaveLength(2)
        for (const err of errors) expect(err.message).toMatch(/^Base\.name: @Property needs a Stowage type/)
      }
    }
  })
})

describe('declaration errors under both decorator standards', () => {
  const model = (convention: Convention, members: string, extra?: Record<string, unknown>) => () =>
    run(convention, `@Model() class A extends StoredObject {\n${members}\n}\nreturn A`, extra)

  it('refuse a model mixing the two standards, naming where each is used', () => {
    for (const [first, second] of [
      ['legacy', 'standard'],
      ['standard', 'legacy'],
    ] as const) {
      const uses = (c: Convention, where: string) => (c === 'legacy' ? `${where} uses TypeScript's experimentalDecorators` : `${where} standard (TC39) decorators`)
      // An undecorated base declared one way, the model extending it the other.
      const { Base } = run(first, 'class Base extends StoredObject { @Property(Types.STRING) name?: string }\nreturn { Base }')
      const err = definitionError(() => run(second, '@Model() class Derived extends Base {}', { Base }))
      expect(err.message).toMatch(/^Derived mixes the two decorator standards: /)
      expect(err.message).toContain(uses(first, 'Base.name'))
      expect(err.message).toContain(uses(second, '@Model on Derived'))
      expect(err.message).toContain('Compile the model and its base classes with the same "experimentalDecorators" setting')
      // A model declared one way, extended by a model declared the other.
      const { Parent } = run(first, '@Model() class Parent extends StoredObject { @Property(Types.STRING) name?: string }\nreturn { Parent }')
      const err2 = definitionError(() => run(second, '@Model() class Child extends Parent { @Property(Types.INTEGER) n?: number }', { Parent }))
      expect(err2.message).toMatch(/^Child mixes the two decorator standards: /)
      expect(err2.message).toContain(uses(first, 'its base model Parent'))
    }
    // Members declared one way, @Model applied the other.
    const { Std } = run('standard', 'class Std extends StoredObject { @Property(Types.STRING) name?: string }\nreturn { Std }')
    expect(definitionError(() => Model()(Std)).message).toMatch(
      /^Std mixes the two decorator standards: @Model on Std uses TypeScript's experimentalDecorators, Std\.name standard \(TC39\) decorators\..*declared with defineModel\)$/,
    )
    class Hand extends StoredObject {}
    Property(Types.STRING)(Hand.prototype, 'name')
    const standardCall = () => Model()(Hand, { kind: 'class', name: 'Hand', metadata: {} })
    expect(definitionError(standardCall).message).toMatch(/^Hand mixes the two decorator standards: Hand\.name uses TypeScript's experimentalDecorators, @Model on Hand standard/)
    // defineModel, which has no convention of its own, takes either.
    expect(names(metaOf(defineModel(Std))!.properties)).toEqual(['name'])
    expect(names(metaOf(defineModel(Hand))!.properties)).toEqual(['name'])
  })

  it('refuse decorators on methods, getters, setters, auto-accessors, static and private members', () => {
    const cases: [member: string, legacy: RegExp | 'not compiled', standard: RegExp][] = [
      ['@Property(Types.STRING) m() {}', /^A\.m: @Property decorates an instance field \(name!: type\), not a method$/, /^A\.m: @Property decorates an instance field \(name!: type\), not a method$/],
      ["@Property(Types.STRING) get g() { return '' }", /^A\.g: @Property decorates an instance field .*, not a getter or setter$/, /^A\.g: @Property decorates an instance field .*, not a getter$/],
      ['@Relation(() => A) set s(v: any) {}', /^A\.s: @Relation decorates an instance field .*, not a getter or setter$/, /^A\.s: @Relation decorates an instance field .*, not a setter$/],
      ["@Property(Types.STRING) accessor acc = ''", /^A\.acc: @Property decorates an instance field .*, not a getter or setter$/, /^A\.acc: @Property decorates an instance field .*, not an auto-accessor \(drop the accessor keyword\)$/],
      ['@Index() static st?: string', /^A\.st: @Index cannot decorate a static member; Stowage members are instance fields$/, /^A\.st: @Index cannot decorate a static member/],
      ['@Property(Types.STRING) static sp?: string', /^A\.sp: @Property cannot decorate a static member/, /^A\.sp: @Property cannot decorate a static member/],
      ['@Property(Types.STRING) #p?: string', 'not compiled', /^A\.#p: @Property cannot decorate a private \(#\) field/],
      ["@Property(Types.STRING) [Symbol.for('k')]?: string", /^A: @Property cannot decorate symbol Symbol\(k\)$/, /^A: @Property cannot decorate symbol Symbol\(k\)$/],
    ]
    for (const [member, legacy, standard] of cases) {
      if (legacy === 'not compiled') {
        expect(() => model('legacy', member)()).toThrow(/experimental decorators cannot be used on private identifiers/)
      } else {
        expect(definitionError(model('legacy', member)).message, member).toMatch(legacy)
      }
      expect(definitionError(model('standard', member)).message, member).toMatch(standard)
    }
  })

  it('refuse @Model on a class that is not a StoredObject or StoredRaw, and on members', () => {
    for (const convention of conventions) {
      const plain = () => run(convention, '@Model() class Plain {}')
      expect(definitionError(plain).message).toBe('@Model() applies to classes extending StoredObject or StoredRaw; Plain does not (write class Plain extends StoredObject)')
      const onField = () => run(convention, 'class A extends StoredObject { @Model() x?: string }')
      expect(definitionError(onField).message).toBe(convention === 'legacy' ? '@Model() decorates a class, not the member A.x' : '@Model() decorates a class, not the field x')
    }
  })

  it('ask for the type where none is given and the compiler emits no design:type', () => {
    const legacy = definitionError(model('legacy', '@Property() name?: string'))
    expect(legacy.message).toMatch(/^A\.name: no type given and no design:type metadata \(is emitDecoratorMetadata on for this file\? esbuild and tsx never emit it\); pass one, e\.g\. @Property\(Types\.STRING\)$/)
    const standard = definitionError(model('standard', '@Property() name?: string'))
    expect(standard.message).toMatch(/^A\.name: no type given, and standard decorators carry no TypeScript types; pass one, e\.g\. @Property\(Types\.STRING\)/)
  })
})
