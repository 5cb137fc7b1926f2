import { describe, expect, it } from 'vitest'
import { sharedStoreTests } from './harness.js'
import { Account } from './models.js'

/**
 * What find() keeps between queries (counts, keys records, the oids of conditions it keeps checking)
 * follows another process's commits: once heard (`db.catchUp()`), the next query sees them.
 */
const t = sharedStoreTests()

/** u010..u019 whose name is `name`: the email range (10) drives, the name (150) is checked per candidate. */
const query = (name: string) => Account.find({ where: { email: { gte: 'u01', lt: 'u02' }, name } })

async function emails(name: string): Promise<string[]> {
  const out: string[] = []
  for await (const a of query(name)) out.push(a.email)
  return out.sort()
}

describe('queries on a store another process writes', () => {
  it("a query after another process's commit sees it, though earlier queries kept what they read", async () => {
    const schema = t.fresh()
    const db = await t.open(schema)
    for (let i = 0; i < 300; i++) await Account.create({ email: `u${String(i).padStart(3, '0')}@example.com`, name: i % 2 === 0 ? 'even' : 'odd', visits: 0 } as never)
    expect(await query('even').explain()).toMatchObject({ intersected: [], actual: { results: 5 } })
    // Enough runs for the name's checks to pay for keeping its oids (1,024 candidates checked).
    let kept = false
    for (let runs = 0; runs < 200 && !kept; runs++) kept = (await query('even').explain()).intersected.includes('name')
    expect(kept).toBe(true)
    expect(await emails('even')).toEqual(['u010', 'u012', 'u014', 'u016', 'u018'].map((u) => `${u}@example.com`))

    const [worker] = await t.start(1, schema)
    await worker!.run('hold', { email: 'u012@example.com' })
    expect(await worker!.run('change', { email: 'u012@example.com', set: { name: 'odd' } })).toEqual({ saved: true })
    await db.catchUp()
    expect(await emails('even')).toEqual(['u010', 'u014', 'u016', 'u018'].map((u) => `${u}@example.com`))
    expect(await emails('odd')).toContain('u012@example.com')
  }, 60_000)
})
