import { createHash } from 'node:crypto'
import type { Engine } from '../../src/engine/engine.js'
import { toJsonValue } from '../../src/engine/directory/json-codec.js'
import { Index, Indexing, Many, Model, One, Property, Relation, StoredObject, StoredRaw, Types } from '../../src/index.js'
import { bytes } from '../../src/testing/helpers.js'

@Model({ collection: 'people' })
export class Person extends StoredObject {
  @Property(Types.STRING) @Index() name?: string
  @Property(Types.LINE) @Index(Indexing.value, { unique: true }) email?: string
  @Property(Types.DATE) born?: Date
  @Property(Types.ANY) extra?: unknown
  @Relation(() => Person) boss!: One<Person>
  @Relation(() => [Person]) friends!: Many<Person>
  @Relation(() => [Photo]) photos!: Many<Photo>
}

@Model({ collection: 'photos' })
export class Photo extends StoredRaw {
  @Property(Types.INTEGER) @Index() width?: number
}

export const models = [Person, Photo]

/** A store's people and photos: links both ways, dates, bytes, bigints, raw data of several chunks. */
export async function populate(people = 20): Promise<void> {
  const all: Person[] = []
  for (let i = 0; i < people; i++) {
    const p = new Person({ name: `P${i % 7}`, email: `p${i}@x.org`, born: new Date(Date.UTC(1980, 0, 1 + i)), extra: { n: BigInt(i) ** 5n, b: bytes(5, i), neg: -0 } })
    if (i > 0) p.boss.set(all[0]!)
    for (const f of all.slice(-3)) p.friends.add(f)
    all.push(p)
  }
  const photos = [await Photo.create(bytes(200_000, 1), { format: 'jpeg', width: 640 }), await Photo.create(bytes(0), { width: 0 }), await Photo.create(bytes(70_001, 3), { width: 100 })]
  all[1]!.photos.add(photos[0]!)
  all[1]!.photos.add(photos[2]!)
  for (const p of all) await p.save()
}

/**
 * Everything a store holds that a dump carries (records, entries outside idx, raw data digests), in
 * order; values as plain-data JSON (engines give bytes as Uint8Array or Buffer alike).
 */
export async function contentsOf(engine: Engine): Promise<unknown[]> {
  const out: unknown[] = []
  for await (const collection of engine.collections()) {
    for await (const [id, value] of engine.records(collection)) {
      out.push([collection, id, JSON.stringify(toJsonValue(value, id))])
      if (await engine.hasRaw(collection, id)) {
        const hash = createHash('sha256')
        let size = 0
        for await (const chunk of engine.readRaw(collection, id)) {
          hash.update(chunk)
          size += chunk.length
        }
        out.push(['raw', collection, id, size, hash.digest('hex')])
      }
    }
  }
  for await (const [key, value] of engine.entries()) if (!key.startsWith('idx\x00')) out.push([key, JSON.stringify(toJsonValue(value, key))])
  return out
}
