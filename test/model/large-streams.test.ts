import { describe, expect, it } from 'vitest'
import { Index, Model, Property, StoredObject, Types } from '../../src/index.js'
import { databaseEach, storeKinds } from '../helpers/stores.js'

/**
 * An index stream long enough to be loaded in several batches (on LevelDB the later ones are read
 * on the thread pool while the app takes the earlier ones), with the app writing while it runs.
 */
@Model({ collection: 'large_stream_docs' })
class Doc extends StoredObject {
  @Property(Types.STRING) title?: string
  @Property(Types.INTEGER) @Index() score?: number
}

const N = 1500

for (const kind of storeKinds) {
  describe(`an index stream of ${N} objects, on ${kind.name}`, () => {
    const t = databaseEach(kind, [Doc], { cache: { max: 100 } })

    it('gives each object once, in key order, as the instance the app holds, with what the app saved or removed while it ran', async () => {
      const oids: string[] = []
      await t.db.transaction(() => {
        for (let i = 0; i < N; i++) oids.push(new Doc({ title: `doc ${i}`, score: i }).oid)
      })
      const held = await Doc.get(oids[700]!)
      const found: Doc[] = []
      for await (const doc of Doc.index('score').list({ gte: 0 })) {
        found.push(doc)
        if (found.length === 200) {
          const changed = (await Doc.get(oids[1300]!))!
          await changed.update({ title: 'changed while listed' })
          await (await Doc.get(oids[1450]!))!.remove()
        }
      }
      expect(found).toHaveLength(N - 1)
      expect(found.map((d) => d.score)).toEqual(Array.from({ length: N }, (_, i) => i).filter((i) => i !== 1450))
      expect(new Set(found).size).toBe(N - 1)
      expect(found[700]).toBe(held)
      expect(found[1300]!.title).toBe('changed while listed')
      expect(found[1299]!.title).toBe('doc 1299')
      for (const doc of found.slice(1000, 1010)) expect(await Doc.get(doc.oid)).toBe(doc)
    })
  })
}
