import { describe, expect, it } from 'vitest'
import type { ChangeEvent } from '../../src/changes/change-event.js'
import { sharedStoreTests } from './harness.js'
import { Account } from './models.js'

/**
 * Change streams of one object or one model hear another process's commits of what they cover.
 * What this process reads back for them is only that: the records of objects it holds, and those
 * a stream or live query uses.
 */
const t = sharedStoreTests()

describe('change events of commits made by another process', () => {
  it('reach the streams of the object and of the model they touch; objects no stream uses are not read back', async () => {
    const schema = t.fresh()
    await t.seedAccounts(schema, ['ann', 'bob', 'cy'].map((name) => ({ email: `${name}@x.org`, name })))
    const db = await t.open(schema)
    const ann = (await Account.index('email').one('ann@x.org'))!
    const readBack: string[] = []
    const getRecords = db.engine.getRecords.bind(db.engine)
    db.engine.getRecords = (collection, ids) => {
      if (collection === 'accounts') readBack.push(...ids)
      return getRecords(collection, ids)
    }
    const annEvents: ChangeEvent[] = []
    ann.changes().subscribe((e) => annEvents.push(e))
    const [worker] = await t.start(1, schema)
    for (const email of ['ann@x.org', 'cy@x.org']) await worker!.run('hold', { email })
    expect(await worker!.run('change', { email: 'cy@x.org', set: { visits: 1 } })).toEqual({ saved: true })
    expect(await worker!.run('change', { email: 'ann@x.org', set: { visits: 2 } })).toEqual({ saved: true })
    await db.catchUp()
    expect(annEvents.map((e) => e.changes.map((c) => [c.oid, c.kind, c.properties]))).toEqual([[[ann.oid, 'updated', ['visits']]]])
    expect(ann.visits).toBe(2)
    // cy is neither held here nor used by a stream: heard of, never read.
    expect(readBack).toEqual([ann.oid])

    // A stream of the model uses every object of it: cy is read back, though this process never loaded it.
    const modelEvents: ChangeEvent[] = []
    const sub = Account.changes().subscribe((e) => modelEvents.push(e))
    readBack.length = 0
    expect(await worker!.run('change', { email: 'cy@x.org', set: { visits: 3 } })).toEqual({ saved: true })
    await db.catchUp()
    expect(modelEvents.flatMap((e) => e.changes.map((c) => c.kind))).toEqual(['updated'])
    expect(readBack).toEqual([modelEvents[0]!.changes[0]!.oid])
    expect((await Account.get(readBack[0]!))!.email).toBe('cy@x.org')
    expect(annEvents).toHaveLength(1)
    sub.unsubscribe()

    // A live query re-runs for a commit of an object no instance here holds (bob was never loaded here).
    const results: string[][] = []
    const live = Account.find({ where: { name: 'bobby' } }).watch().subscribe((found) => results.push(found.map((a) => a.email)))
    await expect.poll(() => results).toEqual([[]])
    await worker!.run('hold', { email: 'bob@x.org' })
    expect(await worker!.run('change', { email: 'bob@x.org', set: { name: 'bobby' } })).toEqual({ saved: true })
    await db.catchUp()
    await expect.poll(() => results.at(-1)).toEqual(['bob@x.org'])
    live.unsubscribe()
  }, 60_000)
})
