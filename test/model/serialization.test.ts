import { inspect } from 'node:util'
import { describe, expect, it } from 'vitest'
import { Many, Model, One, Property, Relation, StoredObject, Types } from '../../src/index.js'
import { databaseEach, storeKinds } from '../helpers/stores.js'

@Model()
class Writer extends StoredObject {
  @Property(Types.STRING) name?: string
}

@Model()
class Essay extends StoredObject {
  @Property(Types.STRING) title = ''
  @Property(Types.DATE) date?: Date
  @Property(Types.LIST(Types.STRING)) tags: string[] = []
  @Relation(() => Writer) author!: One<Writer>
  @Relation(() => [Writer]) readers!: Many<Writer>
}

for (const kind of storeKinds) {
  describe(`instances as JSON and in the console on ${kind.name}`, () => {
    databaseEach(kind, [Writer, Essay])

    it('JSON.stringify gives the export at depth 1, relations as { oid, type }', async () => {
      const ann = await Writer.create({ name: 'Ann' })
      const essay = await Essay.create({ title: 'On stores', date: new Date('2026-01-02T03:04:05Z'), tags: ['db'] })
      essay.author.set(ann)
      essay.readers.add(ann)
      await essay.save()
      const json = JSON.parse(JSON.stringify(essay))
      expect(json).toEqual(JSON.parse(JSON.stringify(essay.export({ depth: 1 }))))
      expect(json).toMatchObject({
        oid: essay.oid,
        type: 'Essay',
        title: 'On stores',
        date: '2026-01-02T03:04:05.000Z',
        tags: ['db'],
        author: { oid: ann.oid, type: 'Writer' },
        readers: [{ oid: ann.oid, type: 'Writer' }],
      })
      expect(typeof json.updates.title).toBe('number')
      // It imports back.
      const back = await Essay.import({ ...json, oid: 'copy', date: json.date })
      expect(back.title).toBe('On stores')
      expect(back.date).toEqual(essay.date)
    })

    it('console.log shows the class, oid and values, not the internal state', async () => {
      const ann = await Writer.create({ name: 'Ann' })
      const essay = new Essay({ title: 'Draft', tags: ['a', 'b'] })
      essay.author.set(ann)
      const shown = inspect(essay)
      expect(shown.startsWith('Essay {')).toBe(true)
      expect(shown).toContain(essay.oid)
      expect(shown).toContain("title: 'Draft'")
      expect(shown).toContain("tags: [ 'a', 'b' ]")
      expect(shown).toContain(ann.oid)
      expect(shown).not.toContain('Symbol(stowage.state)')
      expect(shown).not.toContain('savedVersion')
      expect(inspect({ nested: { deeper: { essay } } }, { depth: 1 })).toContain('[Object]')
      expect(inspect([essay], { depth: 0 })).toContain(`[Essay ${essay.oid}]`)
    })
  })
}
