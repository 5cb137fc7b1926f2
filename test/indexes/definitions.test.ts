import { readFile, readdir, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ConstraintError, Database, IndexError, Model, Property, StoredObject, Types, type IndexProgress } from '../../src/index.js'
import { DirectoryEngine } from '../../src/engine/directory/directory-engine.js'
import { Index } from '../../src/indexes/index-decorator.js'
import { Indexing } from '../../src/indexes/indexing.js'
import { keysRecordPrefix, signaturePrefix } from '../../src/indexes/layout.js'
import { readKeysRecord } from '../../src/indexes/index-writes.js'
import { metaOf } from '../../src/model/meta.js'
import { newOid } from '../../src/model/oid.js'
import { kindsSupporting } from '../helpers/store-supports.js'
import { tempDir, type Store } from '../helpers/stores.js'
import { collect, expectExact, storedEntries, view } from './helpers.js'

// Successive definitions of one collection, as an app's code changes between runs.
@Model({ collection: 'things' })
class V1 extends StoredObject {
  @Property(Types.STRING) @Index() name?: string
  @Property(Types.STRING) @Index(Indexing.paths('/')) path?: string
  @Property(Types.INTEGER) score?: number
}

@Model({ collection: 'things' })
class V2 extends StoredObject {
  @Property(Types.STRING) @Index(Indexing.normalize) name?: string // changed function
  @Property(Types.STRING) @Index(Indexing.paths('.')) path?: string // same source text, other separator
  @Property(Types.INTEGER) @Index() score?: number // new index
}

@Model({ collection: 'things' })
class V3 extends StoredObject {
  @Property(Types.STRING) name?: string // index removed
  @Property(Types.STRING) path?: string // index removed
  @Property(Types.INTEGER) @Index() score?: number
}

@Model({ collection: 'things' })
class UniqueName extends StoredObject {
  @Property(Types.STRING) @Index(Indexing.value, { unique: true }) name?: string
  @Property(Types.STRING) path?: string
  @Property(Types.INTEGER) score?: number
}

let throwFor: string | undefined
@Model({ collection: 'things' })
class Throwing extends StoredObject {
  @Property(Types.STRING)
  @Index((v: string) => {
    if (v === throwFor) throw new Error(`cannot index ${v}`)
    return v
  })
  name?: string
  @Property(Types.STRING) path?: string
  @Property(Types.INTEGER) score?: number
}

for (const kind of await kindsSupporting((s) => s.persistent)) {
  describe(`index definitions changing between runs on ${kind.name}`, () => {
    let store: Store
    let db: Database | undefined
    const progress: IndexProgress[] = []

    async function open(model: Function): Promise<Database> {
      await db?.close()
      progress.length = 0
      db = await Database.open({ engine: store.engine(), models: [model], onIndexProgress: (p) => progress.push({ ...p }) })
      return db
    }

    beforeEach(async () => {
      throwFor = undefined
      store = await kind.make()
      await open(V1)
      await db!.transaction(() => {
        for (let i = 0; i < 300; i++) new V1({ name: i % 2 ? 'Ann' : 'BOB', path: `a/b${i % 3}`, score: i % 10 })
      })
    })
    afterEach(async () => {
      await db?.close()
      db = undefined
      await store.cleanup()
    })

    it('rebuilds changed and new indexes at next open, reporting progress', async () => {
      expect(await view(V1, 'name').count('Ann')).toBe(150)
      expect(await view(V1, 'path').count('a')).toBe(300)
      const d = await open(V2)
      expect(await view(V2, 'name').count('ann')).toBe(150)
      expect(await view(V2, 'name').count('Ann')).toBe(0)
      expect(await view(V2, 'path').count('a')).toBe(0) // '.' splits nothing here
      expect(await view(V2, 'path').count('a/b1')).toBe(100)
      expect(await collect(view(V2, 'score').keys())).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
      const scoreProgress = progress.filter((p) => p.index === 'score')
      expect(scoreProgress.at(-1)).toEqual({ model: 'V2', index: 'score', done: 300, total: 300 })
      expect(scoreProgress.length).toBeGreaterThan(1) // streamed in batches
      await expectExact(d, V2)
      // Nothing to rebuild the next time.
      await open(V2)
      expect(await view(V2, 'score').count(3)).toBe(30)
      expect(progress).toEqual([])
    })

    it('leaves no entries behind for removed indexes', async () => {
      const d = await open(V3)
      expect(await view(V3, 'score').count(0)).toBe(30)
      const meta = metaOf(V3)!
      expect(await storedEntries(d, meta, 'name')).toEqual([])
      expect(await storedEntries(d, meta, 'path')).toEqual([])
      const signatures = await collect(d.engine.keys({ prefix: signaturePrefix('things') }))
      expect(signatures.map((k) => k.slice(signaturePrefix('things').length))).toEqual(['score'])
      for await (const [, value] of d.engine.entries({ prefix: keysRecordPrefix('things') })) expect(Object.keys(readKeysRecord(value))).toEqual(['score'])
      await expectExact(d, V3)
    })

    it('makes an index unique over duplicate keys, lists them, and refuses new ones until the data is fixed', async () => {
      const d = await open(UniqueName)
      expect(await view(UniqueName, 'name').count('Ann')).toBe(150)
      expect((await view(UniqueName, 'name').duplicates()).map((dup) => [dup.key, dup.oids.length])).toEqual([
        ['Ann', 150],
        ['BOB', 150],
      ])
      const err = await UniqueName.create({ name: 'Ann' }).catch((e) => e)
      expect(err).toBeInstanceOf(ConstraintError)
      expect(err.message).toMatch(/UniqueName\.name: key "Ann" is already held by UniqueName \w+/)
      // Fix the data through the unique model itself.
      let i = 0
      await d.transaction(async () => {
        for await (const t of UniqueName.all()) t.name = `n${i++}`
      })
      expect(await view(UniqueName, 'name').duplicates()).toEqual([])
      await open(UniqueName)
      expect(await view(UniqueName, 'name').count('n7')).toBe(1)
      await expect(UniqueName.create({ name: 'n7' })).rejects.toThrow(ConstraintError)
      await expectExact(db!, UniqueName)
    })

    it('retries a rebuild cut short by a failing index function', async () => {
      const first = await V1.list({ count: 1 })
      await first[0]!.update({ name: 'poison' })
      throwFor = 'poison'
      await open(Throwing)
      await expect(view(Throwing, 'name').count('Ann')).rejects.toThrow(IndexError)
      await expect(view(Throwing, 'name').count('Ann')).rejects.toThrow(/cannot index poison/) // not memoized
      throwFor = undefined
      expect(await view(Throwing, 'name').count('Ann')).toBe(150)
      await expectExact(db!, Throwing)
      await open(Throwing)
      expect(await view(Throwing, 'name').count('poison')).toBe(1)
    })

    it('rebuilds when code reverts to the definition of an interrupted rebuild', async () => {
      throwFor = 'Ann'
      await open(Throwing) // same function text as no other version: rebuild starts and fails
      await expect(view(Throwing, 'name').has('BOB')).rejects.toThrow(IndexError)
      const d = await open(V1) // the name index was half deleted: it must be rebuilt, not trusted
      expect(await view(V1, 'name').count('Ann')).toBe(150)
      await expectExact(d, V1)
    })
  })
}

describe('files edited by hand while a Directory store was closed', () => {
  let dir: string
  let db: Database | undefined
  beforeEach(async () => {
    dir = await tempDir()
  })
  afterEach(async () => {
    await db?.close()
    db = undefined
    await rm(dir, { recursive: true, force: true })
  })

  it('re-indexes added, changed and removed record files at the next open', async () => {
    const root = join(dir, 'store')
    db = await Database.open({ engine: new DirectoryEngine(root), models: [V2] })
    const a = await V2.create({ name: 'Ann', path: 'x', score: 1 })
    const b = await V2.create({ name: 'Bob', path: 'y', score: 2 })
    const c = await V2.create({ name: 'Cid', path: 'z', score: 3 })
    await db.close()
    db = undefined

    const files = await readdir(join(root, 'things'))
    expect(files).toContain(`${a.oid}.json`)
    const aFile = join(root, 'things', `${a.oid}.json`)
    const record = JSON.parse(await readFile(aFile, 'utf8'))
    record.properties.name = 'Annabel'
    await writeFile(aFile, JSON.stringify(record, null, 2))
    await rm(join(root, 'things', `${b.oid}.json`))
    const added = newOid()
    const copy = JSON.parse(await readFile(join(root, 'things', `${c.oid}.json`), 'utf8'))
    copy.properties.name = 'Dee'
    copy.properties.score = 4
    await writeFile(join(root, 'things', `${added}.json`), JSON.stringify(copy))

    // A session that never touches the model must not lose the changes (the engine reports them once).
    db = await Database.open({ engine: new DirectoryEngine(root), models: [V2] })
    await db.close()
    db = await Database.open({ engine: new DirectoryEngine(root), models: [V2] })
    const byName = view(V2, 'name')
    expect(await collect(byName.keys())).toEqual(['annabel', 'cid', 'dee'])
    expect((await byName.one('dee'))!.oid).toBe(added)
    expect(await collect(view(V2, 'score').keys())).toEqual([1, 3, 4])
    await expectExact(db, V2)
  })
})
