import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { Database, Index, Many, Model, Property, Relation, StoredObject, Types } from '../../src/index.js'
import { expectExact } from '../indexes/helpers.js'
import { checkLinks } from '../relations/helpers.js'
import { STATE } from '../../src/model/object-state.js'
import { storeKinds, type Store } from '../helpers/stores.js'

/**
 * Random interleavings of transactions, updates, saves, removes, imports and iterations over the
 * same few objects, checked against the sequential model the README promises: every committed write
 * visible, no failed write visible (on the store or a live instance), indexes and links exact, one
 * live instance per oid, no removed object read back.
 */

@Model()
class Thing extends StoredObject {
  @Property(Types.STRING) @Index() name = 'initial'
  @Property(Types.INTEGER) @Index() n = 0
  @Property(Types.STRING) note = 'initial'
}

@Model()
class Shelf extends StoredObject {
  @Property(Types.STRING) label = ''
  @Relation(() => [Thing]) items!: Many<Thing>
}

type Member = 'name' | 'n' | 'note'
const MEMBERS: Member[] = ['name', 'n', 'note']
const IMPORT_OIDS = ['imp-a', 'imp-b', 'imp-c']
const gc = (globalThis as { gc?: () => void }).gc

/** A small seeded PRNG (mulberry32), so a failing run can be replayed. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const SEED = Number(process.env.STRESS_SEED ?? 20261130)
const ROUNDS = 25
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

for (const kind of storeKinds) {
  describe(`concurrency stress on ${kind.name}`, () => {
    let store: Store
    let db: Database
    beforeEach(async () => {
      store = await kind.make()
      db = await Database.open({ engine: store.engine(), models: [Thing, Shelf], cache: { max: 3 } })
    })
    afterEach(async () => {
      await db.close()
      await store.cleanup()
    })

    it(`random interleavings follow the sequential model (seed ${SEED})`, async () => {
      const rnd = random(SEED + kind.name.length)
      const pick = <T>(xs: T[]): T => xs[Math.floor(rnd() * xs.length)]!
      let nextTag = 0
      const tag = () => `t${nextTag++}`

      // What the sequential model knows.
      const failedTags = new Set<string>()
      const okTags = new Set<string>(['initial'])
      /** Values assigned outside transactions (a failed transaction may give one back, unsaved). */
      const freeTags = new Set<string>()
      const okNumbers = new Set<number>([0])
      const removed = new Set<string>() // oids whose successful removal resolved
      /** The op that last assigned (oid, member), in program order, and its value. */
      const lastAssign = new Map<string, { op: number; value: string | number }>()
      const opOk = new Map<number, boolean>()
      const instances = new Map<string, WeakRef<StoredObject>>()
      const problems: string[] = []

      const seeInstance = (obj: StoredObject | undefined, where: string) => {
        if (obj === undefined) return
        const previous = instances.get(obj.oid)?.deref()
        if (previous !== undefined && previous !== obj) problems.push(`${where}: two live instances of ${obj.oid}`)
        instances.set(obj.oid, new WeakRef(obj))
        // A stream may hand out an instance read before its removal, but never one that is live again.
        if (removed.has(obj.oid) && !obj[STATE].removed) problems.push(`${where}: removed ${obj.oid} is live again`)
      }

      const shelf = await Shelf.create({ label: 'shelf' })
      let live: string[] = []
      await db.transaction(async () => {
        for (let i = 0; i < 12; i++) live.push(new Thing().oid)
      })

      let opId = 0
      let importTime = 0
      const assign = (op: number, obj: Thing, member: Member, fails: boolean) => {
        const value = member === 'n' ? (fails ? -1 - op : 1000 + op) : (fails ? `bad${op}` : tag())
        ;(obj as any)[member] = value
        lastAssign.set(obj.oid + '.' + member, { op, value })
        return value
      }
      const liveThing = async (where: string): Promise<Thing | undefined> => {
        const oid = pick(live)
        const obj = await Thing.get(oid)
        seeInstance(obj, where)
        return obj
      }

      const ops: Array<() => Promise<void>> = [
        // A transaction changing several objects, maybe creating, removing and linking, maybe failing.
        async () => {
          const op = ++opId
          const fails = rnd() < 0.35
          const delay = Math.floor(rnd() * 6)
          const assigned: Array<[string, Member, string | number]> = []
          let created: string | undefined
          let removing: string | undefined
          try {
            await db.transaction(async () => {
              for (let k = 0; k < 1 + Math.floor(rnd() * 3); k++) {
                const obj = await liveThing('tx get')
                if (obj === undefined || obj.oid === removing) continue
                const member = pick(MEMBERS)
                assigned.push([obj.oid, member, assign(op, obj, member, fails)])
                if (rnd() < 0.3) shelf.items.add(obj)
              }
              if (rnd() < 0.3) created = new Thing({ name: fails ? `bad${op}` : `new${op}` }).oid
              if (rnd() < 0.15 && live.length > 4) {
                const victim = await liveThing('tx remove')
                if (victim !== undefined && !assigned.some(([oid]) => oid === victim.oid)) {
                  removing = victim.oid
                  await victim.remove()
                }
              }
              await sleep(delay)
              if (fails) throw new Error('planned failure')
            })
            opOk.set(op, true)
            for (const [, member, value] of assigned) member === 'n' ? okNumbers.add(value as number) : okTags.add(value as string)
            if (created !== undefined) {
              live.push(created)
              okTags.add(`new${op}`)
            }
            if (removing !== undefined) {
              removed.add(removing)
              live = live.filter((o) => o !== removing)
            }
          } catch (err) {
            opOk.set(op, false)
            for (const [, , value] of assigned) failedTags.add(String(value))
            if ((err as Error).message !== 'planned failure' && (err as { code?: string }).code !== 'VALIDATION' && (err as { code?: string }).code !== 'NOT_FOUND') throw err
          }
        },
        // update(), refused when the value is invalid.
        async () => {
          const op = ++opId
          const obj = await liveThing('update get')
          if (obj === undefined) return
          const fails = rnd() < 0.3
          const value = fails ? 'not an integer' : 1000 + op
          const note = fails ? `bad${op}` : `u${op}`
          lastAssign.set(obj.oid + '.n', { op, value })
          lastAssign.set(obj.oid + '.note', { op, value: note })
          try {
            await obj.update({ n: value as number, note })
            opOk.set(op, true)
            okNumbers.add(value as number)
            okTags.add(note)
          } catch (err) {
            opOk.set(op, false)
            failedTags.add(String(value)).add(note)
            if ((err as { code?: string }).code !== 'VALIDATION' && (err as { code?: string }).code !== 'NOT_FOUND') throw err
          }
        },
        // A plain save of a valid change.
        async () => {
          const op = ++opId
          const obj = await liveThing('save get')
          if (obj === undefined) return
          const value = assign(op, obj, 'note', false)
          freeTags.add(value as string)
          try {
            await obj.save()
            opOk.set(op, true)
            okTags.add(value as string)
          } catch (err) {
            opOk.set(op, false)
            if ((err as { code?: string }).code !== 'NOT_FOUND') throw err
          }
        },
        // A remove outside a transaction.
        async () => {
          if (live.length <= 4) return
          const obj = await liveThing('remove get')
          if (obj === undefined) return
          live = live.filter((o) => o !== obj.oid)
          try {
            await obj.remove()
            removed.add(obj.oid)
          } catch (err) {
            if ((err as { code?: string }).code !== 'NOT_FOUND') throw err
          }
        },
        // Imports of a few chosen oids, racing each other; some refused.
        async () => {
          const oid = pick(IMPORT_OIDS)
          const fails = rnd() < 0.25
          const name = fails ? `bad-import${opId}` : tag()
          const time = Date.now() + 1_000_000 + importTime++ // always newer: every import takes both properties
          try {
            const obj = await Thing.import({ oid, type: 'Thing', name, n: fails ? ('x' as never) : 1, updates: { name: time, n: time } })
            seeInstance(obj, 'import')
            okTags.add(name)
          } catch (err) {
            failedTags.add(name)
            if ((err as { code?: string }).code !== 'VALIDATION') throw err
          }
        },
        // An iteration: never a removed object, one instance per oid.
        async () => {
          const removedBefore = new Set(removed)
          for await (const t of Thing.all()) {
            if (removedBefore.has(t.oid)) problems.push(`all() yielded ${t.oid}, removed before it began`)
            seeInstance(t, 'all()')
            if (rnd() < 0.05) await sleep(1)
          }
        },
        async () => {
          const removedBefore = new Set(removed)
          for await (const t of Thing.index('n').list({ gte: 0, limit: 8 })) {
            if (removedBefore.has(t.oid)) problems.push(`index list yielded ${t.oid}, removed before it began`)
            seeInstance(t, 'index list')
          }
          const page = await Thing.list({ start: 0, count: 5 })
          for (const t of page) seeInstance(t, 'list()')
        },
      ]

      for (let round = 0; round < ROUNDS; round++) {
        const running: Promise<void>[] = []
        const count = 6 + Math.floor(rnd() * 8)
        for (let i = 0; i < count; i++) {
          running.push(pick(ops)())
          if (rnd() < 0.4) await sleep(Math.floor(rnd() * 3))
        }
        const results = await Promise.allSettled(running)
        for (const r of results) if (r.status === 'rejected') throw r.reason
        if (round % 8 === 7 && gc !== undefined) gc()
      }

      expect(problems.join("\n")).toBe("")
      await checkAgainstModel('live')
      if (store.persistent) {
        await db.close()
        instances.clear()
        db = await Database.open({ engine: store.engine(), models: [Thing, Shelf], cache: { max: 3 } })
        await checkAgainstModel('after reopen')
      }

      async function checkAgainstModel(when: string): Promise<void> {
        // Live instances show committed values, or a value assigned outside any transaction that a
        // failed transaction gave back, unsaved (the next save writes it); never a failed write's.
        for (const ref of instances.values()) {
          const t = ref.deref() as Thing | undefined
          if (t === undefined || t[STATE].removed) continue
          for (const member of MEMBERS) {
            const value = (t as any)[member]
            expect(failedTags.has(String(value)), `${when}: live ${t.oid}.${member} = ${value} from a failed write`).toBe(false)
            if (member !== 'n') expect(okTags.has(value) || freeTags.has(value), `${when}: live ${t.oid}.${member} = ${value}`).toBe(true)
          }
        }
        // The store, read from the engine.
        const stored = new Map<string, Record<string, unknown>>()
        for await (const [oid, record] of db.engine.records('Thing')) stored.set(oid, (record as { properties: Record<string, unknown> }).properties)
        for (const oid of removed) expect(stored.has(oid) && !IMPORT_OIDS.includes(oid), `${when}: removed ${oid}`).toBe(false)
        for (const oid of live) expect(stored.has(oid), `${when}: ${oid} is stored`).toBe(true)
        for (const [oid, properties] of stored) {
          for (const member of MEMBERS) {
            const value = properties[member] ?? (member === 'n' ? 0 : 'initial')
            if (member === 'n') expect(okNumbers.has(value as number) || value === 1, `${when}: ${oid}.n = ${value} was committed`).toBe(true)
            else expect(okTags.has(value as string), `${when}: ${oid}.${member} = ${value} was committed`).toBe(true)
            expect(failedTags.has(String(value)), `${when}: ${oid}.${member} = ${value} from a failed write`).toBe(false)
            // The last assignment in program order, if it succeeded, is what is stored.
            const last = lastAssign.get(oid + '.' + member)
            if (last !== undefined && opOk.get(last.op) === true) expect(value, `${when}: ${oid}.${member}`).toBe(last.value)
          }
        }
        // Saving every live instance leaves nothing unsaved.
        for (const ref of instances.values()) {
          const t = ref.deref()
          if (t !== undefined && !t[STATE].removed) await t.save()
        }
        expect(db.identity.pinnedCount, `${when}: nothing left unsaved`).toBe(0)
        await expectExact(db, Thing)
        await checkLinks(db)
        const onShelf = (await Shelf.get(shelf.oid))!
        for await (const t of onShelf.items) expect(stored.has(t.oid), `${when}: shelf links ${t.oid}`).toBe(true)
      }
    })
  })
}
