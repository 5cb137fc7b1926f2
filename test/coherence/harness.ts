import { afterAll, afterEach } from 'vitest'
import type { Database } from '../../src/model/database.js'
import { dropSchema, freshSchema, postgresUrl } from '../helpers/postgres.js'
import { Account, openShared } from './models.js'
import { workers, type Worker } from './workers.js'

/**
 * What the tests of several processes on one store share, per test file: fresh schemas (dropped
 * after its tests), worker processes (killed after each test), and this process's database on the
 * store (`t.db`, closed after each test).
 */
export function sharedStoreTests() {
  const schemas: string[] = []
  const running: Worker[] = []
  const t = {
    db: undefined as Database | undefined,
    /** A schema no other test uses. */
    fresh(): string {
      const schema = freshSchema()
      schemas.push(schema)
      return schema
    },
    /** n worker processes on the store. */
    async start(n: number, schema: string, url = postgresUrl()): Promise<Worker[]> {
      const list = await workers(n, url, schema)
      running.push(...list)
      return list
    },
    /** Opens this process's database on the store as `t.db`. */
    async open(schema: string, url = postgresUrl()): Promise<Database> {
      return (t.db = await openShared(url, schema))
    },
    /** Stores these accounts on the schema, then closes this process's database on it. */
    async seedAccounts(schema: string, accounts: Array<{ email: string; name: string }>, url = postgresUrl()): Promise<void> {
      await t.open(schema, url)
      for (const a of accounts) await Account.create({ ...a, visits: 0 } as never)
      await t.close()
    },
    async close(): Promise<void> {
      await t.db?.close()
      t.db = undefined
    },
  }
  afterEach(async () => {
    await t.close()
    await Promise.all(running.splice(0).map((w) => w.kill()))
  })
  afterAll(async () => {
    for (const schema of schemas) await dropSchema(schema)
  })
  return t
}
