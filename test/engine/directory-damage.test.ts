import { mkdirSync, mkdtempSync, readFileSync, rmSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { DirectoryEngine } from '../../src/engine/directory/directory-engine.js'
import type { DamagedRecord } from '../../src/engine/engine.js'
import { ConstraintError, CorruptionError, Database, Model, Property, StoredObject, Types } from '../../src/index.js'
import { Index } from '../../src/indexes/index-decorator.js'
import { Indexing } from '../../src/indexes/indexing.js'
import { collect, expectExact, oids, view } from '../indexes/helpers.js'

const base = mkdtempSync(join(tmpdir(), 'stowage-damage-'))
afterAll(() => rmSync(base, { recursive: true, force: true }))
let n = 0
const opened: DirectoryEngine[] = []
afterEach(async () => {
  await Promise.all(opened.splice(0).map((e) => e.close()))
})

async function open(root = join(base, `r${n++}`), found: DamagedRecord[] = []): Promise<DirectoryEngine> {
  const e = new DirectoryEngine(root, { onDamage: (d) => found.push(d) })
  await e.open()
  opened.push(e)
  return e
}

const pad = 'x'.repeat(100)
const ids = (list: DamagedRecord[]) => list.map((d) => `${d.collection}/${d.id}`)

describe('DirectoryEngine damaged record files', () => {
  it('reports the damaged files found at open; every other record reads, and listings skip the damaged ones', async () => {
    let e = await open()
    await e.batch(['a', 'b', 'c', 'd'].map((id) => ({ type: 'putRecord' as const, collection: 'C', id, value: { id, pad } })))
    await e.putRecord('D', 'z', { id: 'z' })
    await e.close()
    truncateSync(join(e.root, 'C', 'b.json'), 20)
    writeFileSync(join(e.root, 'C', 'd.json'), '{"$bytes": 12}')
    writeFileSync(join(e.root, 'C', 'e.json'), '{"id": "e"') // added by hand, garbled
    writeFileSync(join(e.root, 'C', 'f.json'), '{"id": "f"}') // added by hand, fine
    const found: DamagedRecord[] = []
    e = await open(e.root, found)

    const damaged = e.damaged()
    expect(ids(damaged)).toEqual(['C/b', 'C/d', 'C/e'])
    expect(ids(found)).toEqual(['C/b', 'C/d', 'C/e'])
    expect(damaged[0]).toEqual({ collection: 'C', id: 'b', file: join(e.root, 'C', 'b.json'), reason: expect.stringContaining('not valid JSON') })
    expect(damaged[1]!.reason).toContain('malformed $bytes')
    for (const d of damaged) expect(d.reason).toContain(d.file)

    // Its own read throws, naming the file; the others read.
    const err = (await e.getRecord('C', 'b').catch((x) => x)) as CorruptionError
    expect(err).toBeInstanceOf(CorruptionError)
    expect(err.message).toContain(join(e.root, 'C', 'b.json'))
    expect(await e.getRecord('C', 'a')).toEqual({ id: 'a', pad })
    expect(await e.getRecord('C', 'f')).toEqual({ id: 'f' })
    // Reads of many records skip the damaged ones (they are reported): undefined, or left out.
    expect(await e.getRecords('C', ['a', 'b', 'c', 'e'])).toEqual([{ id: 'a', pad }, undefined, { id: 'c', pad }, undefined])
    expect((await collect(e.records('C'))).map(([id]) => id)).toEqual(['a', 'c', 'f'])
    // They are still stored.
    expect(await e.hasRecord('C', 'b')).toBe(true)
    expect(await e.countRecords('C')).toBe(6)
    expect(await collect(e.recordIds('C'))).toEqual(['a', 'b', 'c', 'd', 'e', 'f'])
    expect(e.externalChanges().sort((x, y) => (x.id < y.id ? -1 : 1))).toEqual([
      { collection: 'C', id: 'b', kind: 'changed' },
      { collection: 'C', id: 'd', kind: 'changed' },
      { collection: 'C', id: 'e', kind: 'added' },
      { collection: 'C', id: 'f', kind: 'added' },
    ])
    // Writes go on.
    await e.putRecord('C', 'g', { id: 'g' })
    expect(ids(e.damaged())).toEqual(['C/b', 'C/d', 'C/e'])
  })

  it('reports the damage at every open until it is mended by hand or through the engine', async () => {
    let e = await open()
    await e.batch(['a', 'b', 'c', 'd'].map((id) => ({ type: 'putRecord' as const, collection: 'C', id, value: { id } })))
    await e.close()
    for (const id of ['a', 'b', 'c', 'd']) writeFileSync(join(e.root, 'C', `${id}.json`), '{')
    e = await open(e.root)
    await e.acknowledgeExternalChanges()
    await e.close()
    // Nothing changed since: still reported (the damage was recorded, the files are not read again).
    const found: DamagedRecord[] = []
    e = await open(e.root, found)
    expect(e.externalChanges()).toEqual([])
    expect(ids(e.damaged())).toEqual(['C/a', 'C/b', 'C/c', 'C/d'])
    expect(ids(found)).toEqual(['C/a', 'C/b', 'C/c', 'C/d'])
    // Through the engine: a write or a delete of the record mends it at once.
    await e.putRecord('C', 'a', { id: 'a', again: true })
    await e.delRecord('C', 'b')
    expect(ids(e.damaged())).toEqual(['C/c', 'C/d'])
    expect(await e.getRecord('C', 'a')).toEqual({ id: 'a', again: true })
    await e.close()
    // By hand while closed: rewritten, or deleted.
    writeFileSync(join(e.root, 'C', 'c.json'), '{"id": "c", "fixed": true}')
    unlinkSync(join(e.root, 'C', 'd.json'))
    e = await open(e.root)
    expect(e.damaged()).toEqual([])
    expect(await e.getRecord('C', 'c')).toEqual({ id: 'c', fixed: true })
    expect(await e.hasRecord('C', 'd')).toBe(false)
    expect(await collect(e.recordIds('C'))).toEqual(['a', 'c'])
  })

  it('reports a record found damaged by a read while open, once', async () => {
    const found: DamagedRecord[] = []
    const e = await open(undefined, found)
    await e.batch(['a', 'b', 'c'].map((id) => ({ type: 'putRecord' as const, collection: 'C', id, value: { id } })))
    writeFileSync(join(e.root, 'C', 'b.json'), 'garbage')
    unlinkSync(join(e.root, 'C', 'c.json'))
    expect((await collect(e.records('C'))).map(([id]) => id)).toEqual(['a'])
    expect(ids(e.damaged())).toEqual(['C/b', 'C/c'])
    expect(e.damaged()[1]!.reason).toMatch(/c\.json is missing/)
    expect(await e.getRecords('C', ['b', 'c', 'a'])).toEqual([undefined, undefined, { id: 'a' }])
    await expect(e.getRecord('C', 'b')).rejects.toThrow(CorruptionError)
    await expect(e.getRecord('C', 'c')).rejects.toThrow(/c\.json is missing/)
    expect(ids(found).sort()).toEqual(['C/b', 'C/c']) // once each, in the order the concurrent reads found them
    // Mended by hand while open: the next read finds it readable again.
    writeFileSync(join(e.root, 'C', 'b.json'), '{"id": "b2"}')
    expect(await e.getRecord('C', 'b')).toEqual({ id: 'b2' })
    expect(ids(e.damaged())).toEqual(['C/c'])
  })
})

@Model({ collection: 'accounts' })
class Account extends StoredObject {
  @Property(Types.STRING) @Index(Indexing.normalize, { unique: true }) email?: string
  @Property(Types.STRING) @Index() name?: string
}

describe('a damaged file on the Directory engine, seen from a model', () => {
  let db: Database | undefined
  afterEach(async () => {
    await db?.close()
    db = undefined
  })

  async function openDb(root: string, found: DamagedRecord[] = []): Promise<Database> {
    await db?.close()
    db = await Database.open({ engine: new DirectoryEngine(root, { onDamage: (d) => found.push(d) }), models: [Account] })
    return db
  }

  async function fill(root: string): Promise<Account[]> {
    await openDb(root)
    const made: Account[] = []
    for (const name of ['ann', 'bob', 'cy', 'dan']) made.push(await Account.create({ email: `${name}@x.org`, name }))
    await db!.close()
    db = undefined
    return made
  }

  it('leaves the rest of the model working: creates, gets, index queries, all() and list() skip it', async () => {
    const root = join(base, `m${n++}`)
    const [ann, bob, cy, dan] = await fill(root)
    const bad = join(root, 'accounts', `${bob!.oid}.json`)
    const copy = readFileSync(bad)
    truncateSync(bad, 30)
    const found: DamagedRecord[] = []
    await openDb(root, found)
    expect(db!.engine.damaged()).toEqual([{ collection: 'accounts', id: bob!.oid, file: bad, reason: expect.stringContaining(bad) }])
    expect(found).toEqual(db!.engine.damaged())

    const err = await Account.get(bob!.oid).catch((x) => x)
    expect(err).toBeInstanceOf(CorruptionError)
    expect(err.message).toContain(bad)
    const eve = await Account.create({ email: 'eve@x.org', name: 'eve' })
    expect((await Account.get(ann!.oid))!.name).toBe('ann')
    expect(await view(Account, 'name').one('cy')).toBeDefined()
    expect(await view(Account, 'email').one('eve@x.org')).toBe(eve)
    expect(oids(await collect(Account.all()))).toEqual([ann!.oid, cy!.oid, dan!.oid, eve.oid])
    expect(oids(await Account.list())).toEqual([ann!.oid, cy!.oid, dan!.oid, eve.oid])
    expect(await collect(view(Account, 'name').get('bob'))).toEqual([])
    expect(oids(await collect(view(Account, 'name').list()))).toEqual([ann!.oid, cy!.oid, dan!.oid, eve.oid])
    // It still counts, and keeps the keys it was indexed under: its unique email stays held.
    expect(await Account.count()).toBe(5)
    expect(await Account.has(bob!.oid)).toBe(true)
    expect(await view(Account, 'name').count('bob')).toBe(1)
    await expect(Account.create({ email: 'bob@x.org' })).rejects.toThrow(ConstraintError)

    // Mended by hand (here: the file restored from a copy), it is whole again at the next open.
    await db!.close()
    writeFileSync(bad, copy)
    await openDb(root)
    expect(db!.engine.damaged()).toEqual([])
    expect((await Account.get(bob!.oid))!.name).toBe('bob')
    expect(oids(await collect(view(Account, 'email').get('bob@x.org')))).toEqual([bob!.oid])
    await expectExact(db!, Account)
  })

  it('indexes a damaged object again once mended, after a reindex() while it was damaged', async () => {
    const root = join(base, `m${n++}`)
    const [, bob] = await fill(root)
    const bad = join(root, 'accounts', `${bob!.oid}.json`)
    const copy = readFileSync(bad)
    writeFileSync(bad, '{')
    await openDb(root)
    await db!.reindex()
    expect(await view(Account, 'name').count('bob')).toBe(0)
    expect(await view(Account, 'name').count('ann')).toBe(1)
    await db!.close()
    writeFileSync(bad, copy)
    await openDb(root)
    expect(db!.engine.damaged()).toEqual([])
    expect(oids(await collect(view(Account, 'name').get('bob')))).toEqual([bob!.oid])
    await expectExact(db!, Account)
  })

  it('lists a unique key duplicated by a hand edit, and lets it be fixed', async () => {
    const root = join(base, `m${n++}`)
    const [ann, bob] = await fill(root)
    const file = join(root, 'accounts', `${bob!.oid}.json`)
    writeFileSync(file, readFileSync(file, 'utf8').replace('bob@x.org', 'ANN@x.org'))
    await openDb(root)
    expect(db!.engine.damaged()).toEqual([])
    const fred = await Account.create({ email: 'fred@x.org' })
    expect(await view(Account, 'email').one('fred@x.org')).toBe(fred)
    expect(await view(Account, 'email').duplicates()).toEqual([{ key: 'ann@x.org', oids: [ann!.oid, bob!.oid] }])
    await expect(Account.create({ email: 'ann@x.org' })).rejects.toThrow(ConstraintError)
    const b = (await Account.get(bob!.oid))!
    expect(b.email).toBe('ANN@x.org')
    await b.update({ email: 'bob@x.org' })
    expect(await view(Account, 'email').duplicates()).toEqual([])
    await expectExact(db!, Account)
  })

  it('keeps a damaged collection directory that is not a model from stopping others', async () => {
    const root = join(base, `m${n++}`)
    await fill(root)
    mkdirSync(join(root, 'other'))
    writeFileSync(join(root, 'other', 'x.json'), '][')
    await openDb(root)
    expect(ids(db!.engine.damaged())).toEqual(['other/x'])
    await Account.create({ email: 'g@x.org' })
    expect(await Account.count()).toBe(5)
  })
})
