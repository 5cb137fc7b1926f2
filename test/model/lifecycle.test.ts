import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { Database, InvalidKeyError, isOid, Model, Property, StoredObject, Types, ValidationError } from '../../src/index.js'
import { decoratorStandard } from '../helpers/decorator-standard.js'
import { storeKinds, type Store } from '../helpers/stores.js'

@Model()
class Account extends StoredObject {
  @Property(Types.EMAIL, { required: true }) email!: string
  @Property(Types.STRING) name!: string
  // Inferred from `string` where TypeScript emits design:type; standard decorators need the type.
  @Property(decoratorStandard === 'standard' ? Types.STRING : undefined) nickname?: string
  @Property(Types.LIST(Types.STRING)) roles: string[] = []
  @Property(Types.INTEGER) visits = 0
}

@Model({ collection: 'notes' })
class Note extends StoredObject {
  @Property(Types.LINE) title!: string
  @Property(Types.DATE) date?: Date
  @Property(Types.BINARY) bytes?: Uint8Array
  @Property(Types.ANY) extra?: unknown
  @Property(Types.MAP({ a: Types.NUMBER, b: Types.LIST(Types.MAP({ c: Types.STRING })) })) nested?: { a?: number; b?: { c?: string }[] }
  @Property(Types.FLOAT) float?: number
  @Property(Types.INTEGER) big?: bigint | number
}

for (const kind of storeKinds) {
  describe(`object lifecycle on ${kind.name}`, () => {
    let store: Store
    let db: Database

    beforeEach(async () => {
      store = await kind.make()
      db = await Database.open({ engine: store.engine(), models: [Account, Note] })
    })
    afterEach(async () => {
      await db.close()
      await store.cleanup()
    })

    async function reopen(): Promise<void> {
      await db.close()
      db = await Database.open({ engine: store.engine(), models: [Account, Note] })
    }

    it('creates an unsaved instance with a fresh oid and field defaults', async () => {
      const a = new Account({ email: 'ann@example.com', name: 'Ann' })
      expect(isOid(a.oid)).toBe(true)
      expect(a.type).toBe('Account')
      expect(a.roles).toEqual([])
      expect(a.visits).toBe(0)
      expect(a.email).toBe('ann@example.com')
      expect(await Account.has(a.oid)).toBe(false)
      expect(await Account.get(a.oid)).toBeUndefined()
      expect(Object.keys(a)).not.toContain('email') // no own field shadows the accessor
    })

    it('saves, reads back the same instance, and reads back after reopening', async () => {
      const a = await Account.create({ email: 'ann@example.com', name: 'Ann', roles: ['admin'] })
      expect(await Account.get(a.oid)).toBe(a)
      expect(await Account.has(a.oid)).toBe(true)
      expect(await Account.count()).toBe(1)
      if (!store.persistent) return
      const oid = a.oid
      await reopen()
      const b = await Account.get(oid)
      expect(b).toBeInstanceOf(Account)
      expect(b).not.toBe(a)
      expect(b!.email).toBe('ann@example.com')
      expect(b!.roles).toEqual(['admin'])
      expect(b!.visits).toBe(0)
      expect(b!.nickname).toBeUndefined()
    })

    it('round-trips every value with its JavaScript type', async () => {
      const date = new Date('2024-02-29T12:34:56.789Z')
      const bytes = new Uint8Array([0, 1, 2, 254, 255])
      const n = await Note.create({
        title: 'Ünïcødé 😀 \u{10FFFF} 中文',
        date,
        bytes,
        extra: { list: [1, 'two', null, true, { deep: new Date(0) }], neg: -0, big: 2n ** 70n },
        nested: { a: 1.5, b: [{ c: 'x' }, {}] },
        float: -0,
        big: 2n ** 64n + 1n,
      })
      const check = (m: Note) => {
        expect(m.title).toBe('Ünïcødé 😀 \u{10FFFF} 中文')
        expect(m.date).toBeInstanceOf(Date)
        expect(m.date!.getTime()).toBe(date.getTime())
        expect(m.bytes).toBeInstanceOf(Uint8Array)
        expect([...m.bytes!]).toEqual([0, 1, 2, 254, 255])
        expect(m.extra).toEqual({ list: [1, 'two', null, true, { deep: new Date(0) }], neg: -0, big: 2n ** 70n })
        expect(Object.is((m.extra as { neg: number }).neg, -0)).toBe(true)
        expect(m.nested).toEqual({ a: 1.5, b: [{ c: 'x' }, {}] })
        expect(Object.is(m.float, -0)).toBe(true)
        expect(m.big).toBe(2n ** 64n + 1n)
      }
      check(n)
      if (!store.persistent) return
      await reopen()
      check((await Note.get(n.oid))!)
    })

    it('update() assigns and saves; remove() deletes', async () => {
      const a = await Account.create({ email: 'ann@example.com', name: 'Ann' })
      await a.update({ name: 'Annie', visits: 3 })
      expect(a.name).toBe('Annie')
      if (store.persistent) {
        await reopen()
        const b = (await Account.get(a.oid))!
        expect(b.name).toBe('Annie')
        expect(b.visits).toBe(3)
        await b.remove()
        expect(await Account.get(a.oid)).toBeUndefined()
        await reopen()
      } else {
        await a.remove()
      }
      expect(await Account.has(a.oid)).toBe(false)
      expect(await Account.count()).toBe(0)
    })

    it('update() that is refused leaves the live instance as it was', async () => {
      const a = await Account.create({ email: 'ann@example.com', name: 'Ann', visits: 1 })
      await expect(a.update({ name: 'Annie', visits: 1.5 })).rejects.toBeInstanceOf(ValidationError)
      expect(a.name).toBe('Ann')
      expect(a.visits).toBe(1)
      expect(await Account.get(a.oid)).toBe(a)
      expect(db.identity.pinnedCount).toBe(0) // nothing unsaved is held
      await expect(a.update({ name: 'x', nope: 1 } as never)).rejects.toThrow(/no property "nope"/)
      expect(a.name).toBe('Ann') // no partial assignment
    })

    it('refuses unknown properties in the constructor and update()', async () => {
      expect(() => new Account({ emial: 'x' } as never)).toThrow(/no property "emial"/)
      const a = await Account.create({ email: 'ann@example.com' })
      await expect(a.update({ oid: 'x' } as never)).rejects.toThrow(/no property "oid"/)
    })

    it('validates on save and writes nothing when invalid', async () => {
      const a = new Account({ email: 'not an email', name: 'Ann', roles: ['ok', 3 as never] })
      const err = await a.save().catch((e) => e)
      expect(err).toBeInstanceOf(ValidationError)
      expect(err.code).toBe('VALIDATION')
      expect(err.errors.map((e: { property: string }) => e.property).sort()).toEqual(['email', 'roles'])
      const roles = err.errors.find((e: { property: string }) => e.property === 'roles')
      expect(roles.value).toEqual(['ok', 3])
      expect(roles.reason).toMatch(/1/)
      expect(await Account.count()).toBe(0)
      const missing = await new Account({ name: 'No mail' }).save().catch((e) => e)
      expect(missing.errors).toEqual([{ property: 'email', value: undefined, reason: 'is required' }])
      // A failed save of a stored object leaves the stored version as it was.
      const b = await Account.create({ email: 'bob@example.com', visits: 1 })
      b.visits = 1.5
      await expect(b.save()).rejects.toBeInstanceOf(ValidationError)
      if (store.persistent) {
        await reopen()
        expect((await Account.get(b.oid))!.visits).toBe(1)
      }
    })

    it('refuses cyclic and unstorable ANY values, and values of the wrong type, writing nothing', async () => {
      const cyclic: Record<string, unknown> = { a: 1 }
      cyclic.self = { back: cyclic }
      for (const extra of [cyclic, { f: () => 1 }, new Map([[1, 2]])]) {
        const err = await Note.create({ title: 't', extra }).catch((e) => e)
        expect(err).toBeInstanceOf(ValidationError)
        expect(err.errors[0].property).toBe('extra')
      }
      const wrong = await Note.create({ title: 42 as never, date: '2020-01-01' as never, bytes: [1, 2] as never }).catch((e) => e)
      expect(wrong.errors.map((e: { property: string }) => e.property)).toEqual(['title', 'date', 'bytes'])
      expect(await Note.count()).toBe(0)
    })

    it('all() and list() stream objects in creation order', async () => {
      const made: Account[] = []
      for (let i = 0; i < 25; i++) made.push(await Account.create({ email: `u${i}@example.com`, visits: i }))
      const seen: number[] = []
      for await (const a of Account.all()) seen.push(a.visits)
      expect(seen).toEqual(made.map((a) => a.visits))
      const page = await Account.list({ start: 10, count: 5 })
      expect(page.map((a) => a.visits)).toEqual([10, 11, 12, 13, 14])
      expect(page[0]).toBe(made[10])
      expect((await Account.list({ start: 20 })).length).toBe(5)
      expect(await Account.list({ start: 30 })).toEqual([])
      await expect(Account.list({ start: -1 })).rejects.toThrow(/start/)
    })

    it('ensure() returns the stored object or saves a new one with that oid, once', async () => {
      const a = await Account.ensure('settings-account', { email: 'ann@example.com' })
      expect(a.oid).toBe('settings-account')
      expect(await Account.has('settings-account')).toBe(true)
      const [b, c] = await Promise.all([Account.ensure('settings-account', { email: 'other@example.com' }), Account.ensure('x1', { email: 'x@example.com' })])
      expect(b).toBe(a)
      expect(b.email).toBe('ann@example.com')
      const [d, e] = await Promise.all([Account.ensure('same', { email: 'd@example.com' }), Account.ensure('same', { email: 'e@example.com' })])
      expect(d).toBe(e)
      expect(c.oid).toBe('x1')
      await expect(Account.ensure('../escape', { email: 'x@example.com' })).rejects.toBeInstanceOf(InvalidKeyError)
    })

    it('keeps per-property update times that move only when a value really changes', async () => {
      const a = await Account.create({ email: 'ann@example.com', name: 'Ann', roles: ['a'] })
      const t0 = a.getUpdateTime()!
      expect(a.getUpdateTime('email')).toBe(t0)
      expect(a.getUpdateTime('nickname')).toBeUndefined()
      await new Promise((r) => setTimeout(r, 5))
      a.name = 'Ann' // same value
      a.roles = ['a'] // equal list
      await a.save()
      expect(a.getUpdateTime()).toBe(t0)
      expect(a.getUpdateTime('name')).toBe(t0)
      a.roles.push('b') // in-place change is a change
      await a.save()
      const t1 = a.getUpdateTime('roles')!
      expect(t1).toBeGreaterThan(t0)
      expect(a.getUpdateTime('name')).toBe(t0)
      expect(a.getUpdateTime()).toBe(t1)
      if (!store.persistent) return
      await reopen()
      const b = (await Account.get(a.oid))!
      expect(b.getUpdateTime('roles')).toBe(t1)
      expect(b.getUpdateTime('name')).toBe(t0)
    })

    it('exports at depth 0 and 1, and imports merging field by field by update time', async () => {
      const a = await Account.create({ email: 'ann@example.com', name: 'Ann' })
      expect(a.export({ depth: 0 })).toEqual({ oid: a.oid, type: 'Account' })
      const full = a.export()
      expect(full).toMatchObject({ oid: a.oid, type: 'Account', email: 'ann@example.com', name: 'Ann', roles: [], visits: 0 })
      expect(full.updates!.email).toBe(a.getUpdateTime('email'))
      // A newer change to name elsewhere wins; an older one to email loses.
      const incoming = { ...full, name: 'Annie', email: 'old@example.com', updates: { ...full.updates, name: full.updates!.name! + 1000, email: full.updates!.email! - 1000 } }
      const merged = await Account.import(incoming)
      expect(merged).toBe(a)
      expect(a.name).toBe('Annie')
      expect(a.email).toBe('ann@example.com')
      expect(a.getUpdateTime('name')).toBe(full.updates!.name! + 1000)
      // Into an empty store (another copy of the database), through JSON.
      const json = JSON.parse(JSON.stringify(a.export()))
      await a.remove()
      const copy = await Account.import(json)
      expect(copy.oid).toBe(a.oid)
      expect(copy.name).toBe('Annie')
      expect(copy.getUpdateTime('name')).toBe(full.updates!.name! + 1000)
    })

    it('import never lets __proto__ or constructor keys pollute anything', async () => {
      const evil = JSON.parse(`{"oid":"evil1","type":"Account","email":"e@example.com","__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}},"updates":{"__proto__":{"polluted":true}}}`)
      const obj = await Account.import(evil)
      expect(({} as { polluted?: boolean }).polluted).toBeUndefined()
      expect((obj as unknown as { polluted?: boolean }).polluted).toBeUndefined()
      expect(Object.getPrototypeOf(obj)).toBe(Account.prototype)
      expect(obj.email).toBe('e@example.com')
      await expect(Account.import({ oid: 'x', type: 'notes' })).rejects.toThrow(/type/)
    })

    it('imports Dates that went through JSON as Dates', async () => {
      const n = await Note.create({ title: 't', date: new Date('2020-01-01T00:00:00Z') })
      const json = JSON.parse(JSON.stringify(n.export()))
      await n.remove()
      const m = await Note.import(json)
      expect(m.date).toBeInstanceOf(Date)
      expect(m.date!.toISOString()).toBe('2020-01-01T00:00:00.000Z')
    })

    it('concurrent saves never tear a record: the last save wins', async () => {
      const a = await Account.create({ email: 'ann@example.com', name: 'v0', visits: 0 })
      const saves: Promise<unknown>[] = []
      for (let i = 1; i <= 50; i++) saves.push(a.update({ name: `v${i}`, visits: i }))
      const many = Array.from({ length: 50 }, (_, i) => Account.create({ email: `m${i}@example.com`, visits: i }))
      await Promise.all([...saves, ...many])
      expect(await Account.count()).toBe(51)
      if (!store.persistent) return
      await reopen()
      const b = (await Account.get(a.oid))!
      expect(b.name).toBe('v50')
      expect(b.visits).toBe(50)
    })
  })
}
