import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  ArgumentError,
  ClosedError,
  ConflictError,
  Database,
  Index,
  Many,
  Model,
  One,
  Property,
  Relation,
  RelationError,
  StoredObject,
  StoredRaw,
  Types,
  ValidationError,
} from '../../src/index.js'
import { storeKinds, type Store } from '../helpers/stores.js'

@Model()
class Person extends StoredObject {
  @Property(Types.STRING) name?: string
}

@Model()
class Doc extends StoredObject {
  @Property(Types.STRING) @Index() name?: string
  @Property(Types.INTEGER) n = 0
  @Property(Types.LIST(Types.STRING)) tags: string[] = []
}

@Model()
class Post extends StoredObject {
  @Property(Types.STRING) title = ''
  @Property(Types.INTEGER) n = 0
  @Relation(() => Person) author!: One<Person>
  @Relation(() => [Person]) readers!: Many<Person>
}

@Model()
class Blob extends StoredRaw {
  @Property(Types.STRING) label?: string
}

const MODELS = [Person, Doc, Post, Blob]
const bytesOf = (text: string) => new TextEncoder().encode(text)
const textOf = (data: Uint8Array) => new TextDecoder().decode(data)
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const gc = (globalThis as { gc?: () => void }).gc

async function collect(): Promise<void> {
  for (let i = 0; i < 5; i++) {
    gc!()
    await sleep(10)
  }
}

async function names(): Promise<string[]> {
  const out: string[] = []
  for await (const d of Doc.all()) out.push(d.name ?? '')
  return out
}

for (const kind of storeKinds) {
  describe(`consistency of live instances on ${kind.name}`, () => {
    let store: Store
    let db: Database
    beforeEach(async () => {
      store = await kind.make()
      db = await Database.open({ engine: store.engine(), models: MODELS })
    })
    afterEach(async () => {
      await db.close()
      await store.cleanup()
    })

    async function reopen(options: { cache?: { max?: number } } = {}): Promise<void> {
      await db.close()
      db = await Database.open({ engine: store.engine(), models: MODELS, ...options })
    }

    describe('concurrent transactions', () => {
      /**
       * A changes `name` and succeeds; B, at the same time, runs `changeB` (changing `n`) and fails.
       * Checks that A's change alone is on the instance and, after reopening, in the store.
       */
      async function failureBesideSuccess(changeB: (o: Doc) => Promise<void>, failed: (b: Promise<unknown>) => Promise<void>): Promise<Doc> {
        const o = await Doc.create({ name: 'old', n: 1 })
        const a = db.transaction(async () => {
          o.name = 'fromA'
          await sleep(50)
        })
        const b = db.transaction(() => changeB(o))
        await failed(b)
        await a
        expect([o.name, o.n]).toEqual(['fromA', 1])
        await reopen()
        const back = (await Doc.get(o.oid))!
        expect([back.name, back.n]).toEqual(['fromA', 1])
        return back
      }

      it('a failed transaction leaves a concurrent successful one whole', async () => {
        const o = await failureBesideSuccess(
          async (o) => {
            o.n = 5
            await sleep(10)
            throw new Error('B fails')
          },
          (b) => expect(b).rejects.toThrow('B fails'),
        )
        expect((await Doc.index('name').one('fromA'))?.oid).toBe(o.oid)
        expect(await Doc.index('name').has('old')).toBe(false)
      })

      it('a transaction refused at commit leaves a concurrent successful one whole', async () => {
        await failureBesideSuccess(
          async (o) => {
            o.n = 'bad' as never
            await sleep(10)
          },
          (b) => expect(b).rejects.toBeInstanceOf(ValidationError),
        )
      })

      it('a transaction that commits first does not write what a concurrent one changed', async () => {
        const o = await Doc.create({ name: 'old', n: 1 })
        const b = db.transaction(async () => {
          o.n = 7
          await sleep(50)
          throw new Error('B fails')
        })
        await db.transaction(async () => {
          o.name = 'fromA'
        })
        // A's commit wrote its own change only: B's is still B's to commit or undo.
        expect(o.n).toBe(7)
        await expect(b).rejects.toThrow('B fails')
        expect([o.name, o.n]).toEqual(['fromA', 1])
        await reopen()
        const back = (await Doc.get(o.oid))!
        expect([back.name, back.n]).toEqual(['fromA', 1])
      })

      it('a plain save during a transaction does not write the transaction\'s changes', async () => {
        const o = await Doc.create({ name: 'old', n: 1 })
        const t = db.transaction(async () => {
          o.n = 9
          await sleep(30)
          throw new Error('fails')
        })
        await sleep(5)
        o.name = 'saved'
        await o.save()
        await expect(t).rejects.toThrow('fails')
        expect([o.name, o.n]).toEqual(['saved', 1])
        expect(db.identity.pinnedCount).toBe(0)
        await reopen()
        const back = (await Doc.get(o.oid))!
        expect([back.name, back.n]).toEqual(['saved', 1])
      })

      it('a failed transaction keeps unsaved changes it did not make', async () => {
        const o = await Doc.create({ name: 'old', n: 1 })
        o.name = 'edited before'
        await expect(
          db.transaction(async () => {
            o.n = 2
            await o.save()
            throw new Error('fails')
          }),
        ).rejects.toThrow('fails')
        expect([o.name, o.n]).toEqual(['edited before', 1])
        await o.save()
        await reopen()
        const back = (await Doc.get(o.oid))!
        expect([back.name, back.n]).toEqual(['edited before', 1])
      })

      it('a failed transaction undoes its relation changes only', async () => {
        const ann = await Person.create({ name: 'Ann' })
        const bob = await Person.create({ name: 'Bob' })
        const p = await Post.create({ title: 'p' })
        const a = db.transaction(async () => {
          p.author.set(ann)
          await sleep(40)
        })
        const b = db.transaction(async () => {
          p.readers.add(bob)
          await sleep(10)
          throw new Error('B fails')
        })
        await expect(b).rejects.toThrow('B fails')
        await a
        expect(p.author.oid).toBe(ann.oid)
        expect(p.readers.size).toBe(0)
        await reopen()
        const back = (await Post.get(p.oid))!
        expect(back.author.oid).toBe(ann.oid)
        expect(back.readers.size).toBe(0)
      })
    })

    describe('other members and other transactions', () => {
      it('raw metadata and data changed in a failed transaction are its own to undo', async () => {
        const img = await Blob.create(bytesOf('v1'), { format: 'txt', label: 'one', color: 'red' })
        const t = db.transaction(async () => {
          img.meta('color', 'blue')
          img.setData(bytesOf('v2, never stored'))
          await img.save()
          await sleep(30)
          throw new Error('fails')
        })
        await sleep(10)
        img.label = 'two'
        await img.save() // a plain save meanwhile stores its own change only
        await expect(t).rejects.toThrow('fails')
        expect([img.meta('color'), img.label]).toEqual(['red', 'two'])
        expect(textOf(await img.loadData())).toBe('v1')
        await reopen()
        const back = (await Blob.get(img.oid))!
        expect([back.meta('color'), back.label]).toEqual(['red', 'two'])
        expect(textOf(await back.loadData())).toBe('v1')
      })

      it('an object read in one transaction and changed in another: each writes its own change', async () => {
        const o = await Doc.create({ name: 'o', n: 1, tags: ['a'] })
        const reader = db.transaction(async () => {
          const mine = (await Doc.get(o.oid))!
          mine.tags.push('b') // changed in place: belongs to nobody, written by the next write
          await sleep(30)
        })
        const writer = db.transaction(async () => {
          o.n = 2
          await sleep(10)
          throw new Error('fails')
        })
        await expect(writer).rejects.toThrow('fails')
        await reader
        await reopen()
        const back = (await Doc.get(o.oid))!
        expect([back.n, back.tags]).toEqual([1, ['a', 'b']])
      })

      it('revert() outside a transaction keeps what a running transaction changed', async () => {
        const o = await Doc.create({ name: 'o', n: 1 })
        const t = db.transaction(async () => {
          o.n = 2
          await sleep(30)
        })
        await sleep(5)
        o.name = 'unsaved'
        await o.revert()
        expect([o.name, o.n]).toEqual(['o', 2])
        await t
        await reopen()
        const back = (await Doc.get(o.oid))!
        expect([back.name, back.n]).toEqual(['o', 2])
      })

      it('revert() inside a transaction discards its changes, and the transaction writes none of them', async () => {
        const o = await Doc.create({ name: 'o', n: 1 })
        await db.transaction(async () => {
          o.n = 2
          await o.revert()
          expect(o.n).toBe(1)
        })
        expect(db.identity.pinnedCount).toBe(0)
        await reopen()
        expect((await Doc.get(o.oid))!.n).toBe(1)
      })
    })

    describe('reads racing writes', () => {
      it('all() never brings back an object removed during the iteration', async () => {
        const oids: string[] = []
        await db.transaction(async () => {
          for (let i = 0; i < 300; i++) oids.push(new Doc({ name: `d${i}` }).oid)
        })
        await reopen({ cache: { max: 0 } })
        let i = 0
        for await (const d of Doc.all()) {
          if (i++ === 10) await (await Doc.get(oids[250]!))!.remove()
          expect(d.oid).not.toBe(oids[250])
        }
        expect(await Doc.get(oids[250]!)).toBeUndefined()
        expect(await Doc.has(oids[250]!)).toBe(false)
        expect(await Doc.count()).toBe(299)
      })

      it('all() never brings back old values of an object updated during the iteration', async () => {
        const oids: string[] = []
        await db.transaction(async () => {
          for (let i = 0; i < 300; i++) oids.push(new Doc({ name: `d${i}` }).oid)
        })
        await reopen({ cache: { max: 0 } })
        let i = 0
        for await (const d of Doc.all()) {
          if (i++ === 10) {
            await (await Doc.get(oids[250]!))!.update({ name: 'new' })
            await collect()
          }
          if (d.oid === oids[250]) expect(d.name).toBe('new')
        }
        const back = (await Doc.get(oids[250]!))!
        expect(back.name).toBe('new')
        await back.save()
        await reopen()
        expect((await Doc.get(oids[250]!))!.name).toBe('new')
        expect(await Doc.index('name').has('d250')).toBe(false)
      })

      it('a get() answered after a concurrent remove does not bring the object back', async () => {
        const d = await Doc.create({ name: 'x' })
        const oid = d.oid
        await reopen({ cache: { max: 0 } })
        const live = (await Doc.get(oid))!
        const [read] = await Promise.all([Doc.list(), live.remove()])
        expect(read.every((x) => x.oid !== oid) || read[0] === live).toBe(true)
        expect(await Doc.get(oid)).toBeUndefined()
        expect(await Doc.has(oid)).toBe(false)
      })
    })

    describe('reads racing first saves', () => {
      it('get() and list() of new objects while their first saves are written give those instances or nothing, never others', async () => {
        const docs = Array.from({ length: 20 }, (_, i) => new Doc({ name: `new${i}` }))
        let done = false
        const saving = Promise.all(docs.map((d) => d.save())).finally(() => (done = true))
        const reads: Promise<Doc | undefined>[] = []
        const lists: Promise<Doc[]>[] = []
        while (!done) {
          for (const d of docs) reads.push(Doc.get(d.oid))
          lists.push(Doc.list())
          await new Promise((r) => setImmediate(r))
        }
        await saving
        expect(reads.length).toBeGreaterThan(0)
        for (const read of await Promise.all(reads)) expect(read === undefined || docs.includes(read)).toBe(true)
        for (const list of await Promise.all(lists)) for (const d of list) expect(docs.includes(d)).toBe(true)
        for (const d of docs) expect(await Doc.get(d.oid)).toBe(d)
      })
    })

    describe('one live instance per oid', () => {
      it('concurrent imports of one new oid give one instance and exact indexes', async () => {
        const [x, y] = await Promise.all([Doc.import({ oid: 'same', type: 'Doc', name: 'A' }), Doc.import({ oid: 'same', type: 'Doc', name: 'B' })])
        expect(x).toBe(y)
        expect(await Doc.get('same')).toBe(x)
        const name = x.name!
        expect((await Doc.index('name').one(name))).toBe(x)
        expect(await Doc.index('name').count('A') + (await Doc.index('name').count('B'))).toBe(1)
        await reopen()
        expect((await Doc.get('same'))!.name).toBe(name)
        expect(await Doc.index('name').count(name)).toBe(1)
      })

      it('ensure() in two overlapping transactions: one wins, the other gets ConflictError', async () => {
        const t1 = db.transaction(async () => {
          const d = await Doc.ensure('mine', { name: 'one' })
          await sleep(20)
          return d
        })
        const t2 = db.transaction(async () => {
          const d = await Doc.ensure('mine', { name: 'two' })
          await sleep(40)
          return d
        })
        const [r1, r2] = await Promise.allSettled([t1, t2])
        expect(r1.status).toBe('fulfilled')
        expect(r2.status).toBe('rejected')
        expect((r2 as PromiseRejectedResult).reason).toBeInstanceOf(ConflictError)
        const winner = (r1 as PromiseFulfilledResult<Doc>).value
        expect(await Doc.get('mine')).toBe(winner)
        expect(await Doc.index('name').count('one')).toBe(1)
        expect(await Doc.index('name').count('two')).toBe(0)
        expect(await Doc.ensure('mine')).toBe(winner)
      })
    })

    describe('refused writes leave no trace', () => {
      it('update() refused for a relation of the wrong model changes nothing', async () => {
        const p = await Post.create({ title: 'original' })
        const wrong = await Doc.create({ name: 'not a person' })
        await expect(p.update({ title: 'CHANGED', author: wrong as never })).rejects.toBeInstanceOf(RelationError)
        expect(p.title).toBe('original')
        expect(db.identity.pinnedCount).toBe(0)
      })

      it('update() refused by validation leaves no relation change pending', async () => {
        const bob = await Person.create({ name: 'Bob' })
        const p = await Post.create({ title: 'p' })
        await expect(p.update({ author: bob as never, readers: [bob] as never, n: 'bad' as never })).rejects.toBeInstanceOf(ValidationError)
        expect(p.author.oid).toBeUndefined()
        expect(p.readers.size).toBe(0)
        expect(p.n).toBe(0)
        p.title = 'unrelated'
        await p.save()
        await reopen()
        const back = (await Post.get(p.oid))!
        expect(back.title).toBe('unrelated')
        expect(back.author.oid).toBeUndefined()
        expect(back.readers.size).toBe(0)
      })

      it('a refused import leaves nothing on the live instance', async () => {
        const p = await Post.create({ title: 'kept', n: 1 })
        const exported = { ...p.export(), title: 'imported', n: 'bad', updates: { title: Date.now() + 1000, n: Date.now() + 1000 } }
        await expect(Post.import(exported as never)).rejects.toBeInstanceOf(ValidationError)
        expect([p.title, p.n]).toEqual(['kept', 1])
        expect(db.identity.pinnedCount).toBe(0)
      })
    })

    describe('closing', () => {
      it('an instance of a closed database cannot overwrite newer data', async () => {
        if (!store.persistent) return
        const old = await Doc.create({ name: 'v1', n: 1 })
        await reopen()
        const fresh = (await Doc.get(old.oid))!
        expect(fresh).not.toBe(old)
        await fresh.update({ name: 'v2' })
        old.n = 5
        await expect(old.save()).rejects.toBeInstanceOf(ClosedError)
        await expect(old.remove()).rejects.toBeInstanceOf(ClosedError)
        await reopen()
        const back = (await Doc.get(old.oid))!
        expect([back.name, back.n]).toEqual(['v2', 1])
      })

      it('close() lets every write issued before it finish', async () => {
        const saves = Array.from({ length: 10 }, (_, i) => new Doc({ name: `s${i}` }).save())
        const tx = db.transaction(async () => {
          await sleep(20)
          new Doc({ name: 'in tx' })
        })
        await db.close()
        await Promise.all(saves)
        await tx
        if (!store.persistent) return
        db = await Database.open({ engine: store.engine(), models: MODELS })
        expect((await names()).sort()).toEqual(['in tx', ...Array.from({ length: 10 }, (_, i) => `s${i}`)].sort())
        await expect(new Doc({ name: 'late' }).save()).resolves.toBeDefined()
      })

      it('writes issued after close() are refused with ClosedError', async () => {
        const closing = db.close()
        await expect(new Doc({ name: 'late' }).save()).rejects.toBeInstanceOf(ClosedError)
        await closing
      })

      it('one engine cannot serve two open databases', async () => {
        await expect(Database.open({ engine: db.engine, models: [] })).rejects.toBeInstanceOf(ArgumentError)
        await Doc.create({ name: 'still works' })
        expect(await Doc.count()).toBe(1)
      })
    })
  })
}
