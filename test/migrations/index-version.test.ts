import { describe, expect, it } from 'vitest'
import { Database, Index, Model, ModelDefinitionError, Property, StoredObject, Types, type IndexProgress } from '../../src/index.js'
import { kindsSupporting } from '../helpers/store-supports.js'
import { expectExact } from '../indexes/helpers.js'

// Three builds of one app: the second minified (other function text, same keys), the third with new keys.
@Model({ collection: 'tags' })
class Build1 extends StoredObject {
  @Property(Types.STRING) @Index((name: string) => name.toLowerCase(), { version: 1 }) name?: string
}
@Model({ collection: 'tags' })
class Build2 extends StoredObject {
  @Property(Types.STRING) @Index((n: string) => n.toLowerCase(), { version: 1 }) name?: string
}
@Model({ collection: 'tags' })
class Build3 extends StoredObject {
  @Property(Types.STRING) @Index((n: string) => n.toUpperCase(), { version: 2 }) name?: string
}

for (const kind of await kindsSupporting((s) => s.persistent)) {
  describe(`index versions (${kind.name})`, () => {
    it('an index with a version is rebuilt when the version changes, not when its function text does', async () => {
      const store = await kind.make()
      try {
        const progress: IndexProgress[] = []
        const open = (model: Function) => Database.open({ engine: store.engine(), models: [model], onIndexProgress: (p) => progress.push(p) })
        let db = await open(Build1)
        for (const name of ['Ann', 'Bob', 'Cid']) await new Build1({ name }).save()
        await db.close()
        db = await open(Build2)
        expect(await Build2.index('name').count('ann')).toBe(1)
        expect(progress).toEqual([])
        await db.close()
        db = await open(Build3)
        expect(await Build3.index('name').count('ANN')).toBe(1)
        expect(await Build3.index('name').count('ann')).toBe(0)
        expect(progress.map((p) => p.index)).toEqual(['name'])
        await expectExact(db, Build3)
        await db.close()
      } finally {
        await store.cleanup()
      }
    })
  })
}

describe('index version option', () => {
  it('must be a positive integer, in @Index and in model options', () => {
    expect(() => Index({ version: 0 })).toThrow(ModelDefinitionError)
    expect(() => Index(undefined, { version: 1.5 })).toThrow(/version must be a positive integer/)
    expect(() => Model({ indexes: { n: { fn: () => 1, version: -1 } } })(class X extends StoredObject {})).toThrow(/version must be a positive integer/)
  })
})
