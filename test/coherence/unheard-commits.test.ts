import { describe, expect, it } from 'vitest'
import { sql } from '../helpers/postgres.js'
import { sharedStoreTests } from './harness.js'
import { Account } from './models.js'

/**
 * A commit another process makes that this one cannot hear record by record (one made while this
 * process was away for longer than the change log keeps its rows) still shows on this process's
 * live instances: they are all read back. A commit of many records is heard record by record.
 */
const t = sharedStoreTests()

describe('commits of another process this one could not hear record by record', () => {
  it('refresh every live instance here; a commit of 300 records refreshes those it wrote', async () => {
    const schema = t.fresh()
    const db = await t.open(schema)
    await db.transaction(async () => {
      for (let i = 0; i < 300; i++) new Account({ email: `u${i}@example.com`, name: 'old', visits: 0 } as never)
    })
    const held = (await Account.index('email').one('u7@example.com'))!
    const other = (await Account.index('email').one('u250@example.com'))!
    expect([held.name, other.name]).toEqual(['old', 'old'])
    const [worker] = await t.start(1, schema)
    expect(await worker!.run('renameAll', { name: 'new' })).toBe(300)
    await db.catchUp()
    expect([held.name, other.name]).toEqual(['new', 'new'])
    // A commit this process never heard, its log row pruned (as if it had been away for longer than
    // rows are kept): an older record of its own put back by hand, then the log marked pruned past its last read.
    held.visits = 5
    await held.save()
    const where = [Buffer.from('accounts'), Buffer.from(held.oid)]
    const [{ value: five }] = (await sql(`SELECT value FROM "${schema}".records WHERE collection = $1 AND id = $2`, where)) as [{ value: Buffer }]
    held.visits = 6
    await held.save()
    await sql(`UPDATE "${schema}".records SET value = $3 WHERE collection = $1 AND id = $2`, [...where, five])
    await sql(`UPDATE "${schema}".meta SET value = (pg_current_xact_id()::text::numeric + 1)::text WHERE name = 'pruned'`)
    await db.catchUp()
    expect([held.name, held.visits]).toEqual(['new', 5])
    // A save here builds on the record read back: no ConflictError.
    held.visits = 1
    await held.save()
    expect(await worker!.run('get', { email: 'u7@example.com' })).toMatchObject({ name: 'new', visits: 1 })
  }, 60_000)
})
