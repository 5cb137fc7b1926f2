import { describe, expect, it } from 'vitest'
import { sharedStoreTests } from './harness.js'
import { Account } from './models.js'

/**
 * A commit another process makes that this one cannot hear record by record (a transaction whose
 * list of records is too large for a NOTIFY payload, or one made while the LISTEN connection was
 * lost) still shows on this process's live instances: they are all read back.
 */
const t = sharedStoreTests()

describe('commits of another process too large to announce record by record', () => {
  it('refresh every live instance here', async () => {
    const schema = t.fresh()
    const db = await t.open(schema)
    await db.transaction(async () => {
      for (let i = 0; i < 300; i++) new Account({ email: `u${i}@example.com`, name: 'old', visits: 0 } as never)
    })
    const held = (await Account.index('email').one('u7@example.com'))!
    const other = (await Account.index('email').one('u250@example.com'))!
    expect([held.name, other.name]).toEqual(['old', 'old'])
    const [worker] = await t.start(1, schema)
    // 300 records in one commit: their list is over PostgreSQL's 8,000-byte NOTIFY payload.
    expect(await worker!.run('renameAll', { name: 'new' })).toBe(300)
    await db.catchUp()
    expect([held.name, other.name]).toEqual(['new', 'new'])
    // A save here builds on the new record: no ConflictError, and the other process's name stays.
    held.visits = 1
    await held.save()
    expect(await worker!.run('get', { email: 'u7@example.com' })).toMatchObject({ name: 'new', visits: 1 })
  }, 60_000)
})
