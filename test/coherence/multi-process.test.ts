import { describe, expect, it } from 'vitest'
import type { ChangeEvent } from '../../src/changes/change-event.js'
import pg from 'pg'
import { LockKeys } from '../../src/engine/postgres/postgres-writes.js'
import { postgresUrl, sql } from '../helpers/postgres.js'
import { startPostgres } from '../helpers/postgres-server.js'
import { sharedStoreTests } from './harness.js'
import { Account, Post } from './models.js'
import type { Worker } from './workers.js'

/**
 * Several processes on one PostgreSQL store: real child processes (worker.ts) against the tests'
 * server, each with its own database, identity map and write queue.
 */
const t = sharedStoreTests()

/** Two processes on a store of these accounts (all named `name`), each holding all of them. */
async function twoHolding(schema: string, emails: string[], name: string): Promise<Worker[]> {
  await t.seedAccounts(schema, emails.map((email) => ({ email, name })))
  const both = await t.start(2, schema)
  await Promise.all(both.map((w) => w.run('holdAll', { emails })))
  return both
}

/** Resolves once `done()` holds, checking every `ms`. */
async function until(done: () => boolean, ms = 20): Promise<void> {
  while (!done()) await new Promise((r) => setTimeout(r, ms))
}

/** Every post of the store, and every account with the titles of its posts. */
async function contents(): Promise<{ posts: Post[]; accounts: Map<string, string[]> }> {
  const posts: Post[] = []
  for await (const p of Post.all()) posts.push(p)
  const accounts = new Map<string, string[]>()
  for await (const a of Account.all()) {
    const titles: string[] = []
    for await (const p of a.posts) titles.push(p.title)
    accounts.set(a.email, titles.sort())
  }
  return { posts, accounts }
}

describe('several processes on one PostgreSQL store', () => {
  it('racing for unique keys: exactly one process wins each key, the others get ConstraintError, indexes exact', async () => {
    const schema = t.fresh()
    const procs = await t.start(3, schema)
    const emails = Array.from({ length: 12 }, (_, i) => `user${i}@example.com`)
    const outcomes = await Promise.all(procs.map((w, p) => w.run<{ ok: boolean; code?: string }[]>('create', { accounts: emails.map((email) => ({ email, name: `p${p}` })) })))
    for (let i = 0; i < emails.length; i++) {
      const results = outcomes.map((o) => o[i]!)
      expect(results.filter((r) => r.ok)).toHaveLength(1)
      for (const r of results.filter((r) => !r.ok)) expect(r.code).toBe('CONSTRAINT')
    }
    const db = await t.open(schema)
    expect(await Account.count()).toBe(emails.length)
    for (const email of emails) expect(await Account.index('email').count(email)).toBe(1)
    const report = await db.verify()
    expect(report.problems).toEqual([])
  }, 60_000)

  it('two processes saving one object at once: neither change is lost (a ConflictError merges and the save again stores both)', async () => {
    const schema = t.fresh()
    const db = await t.open(schema)
    const mine = await Account.create({ email: 'shared@example.com', name: 'Original', visits: 0 } as never)
    const [a, b] = await t.start(2, schema)
    await Promise.all([a!.run('hold', { email: 'shared@example.com' }), b!.run('hold', { email: 'shared@example.com' })])
    const events: ChangeEvent[] = []
    const sub = db.changes().subscribe((e) => events.push(e))
    const [ra, rb] = await Promise.all([
      a!.run('change', { email: 'shared@example.com', set: { name: 'Renamed' }, retry: true }),
      b!.run('change', { email: 'shared@example.com', set: { visits: 5 }, retry: true }),
    ])
    expect(ra.saved && rb.saved).toBe(true)
    expect(await a!.run('get', { email: 'shared@example.com' })).toMatchObject({ name: 'Renamed', visits: 5 })
    expect(await b!.run('get', { email: 'shared@example.com' })).toMatchObject({ name: 'Renamed', visits: 5 })
    // This process heard both commits: its live instance shows them, and its change events fired.
    await db.catchUp()
    expect(mine.name).toBe('Renamed')
    expect(mine.visits).toBe(5)
    expect(await Account.get(mine.oid)).toBe(mine)
    const changed = events.flatMap((e) => e.changes).filter((c) => c.oid === mine.oid)
    expect(changed.length).toBeGreaterThanOrEqual(1)
    expect(new Set(changed.flatMap((c) => c.properties))).toEqual(new Set(['name', 'visits']))
    sub.unsubscribe()
  }, 60_000)

  it('a held instance with unsaved changes keeps them over another process\'s commit; without a retry the stale save is a ConflictError, never a silent overwrite', async () => {
    const schema = t.fresh()
    const db = await t.open(schema)
    const mine = await Account.create({ email: 'c@example.com', name: 'Before', visits: 1 } as never)
    mine.visits = 2 // unsaved here
    const [w] = await t.start(1, schema)
    await w!.run('hold', { email: 'c@example.com' })
    await w!.run('change', { email: 'c@example.com', set: { name: 'Theirs' } })
    await db.catchUp()
    expect(mine.name).toBe('Theirs') // taken from the other process
    expect(mine.visits).toBe(2) // kept: unsaved here
    await mine.save()
    expect(await w!.run('get', { email: 'c@example.com' })).toMatchObject({ name: 'Theirs', visits: 2 })
    // The other process's instance had heard of this save too; had it not, its save would conflict, not overwrite.
    const stale = await w!.run('change', { email: 'c@example.com', set: { visits: 9 } })
    expect(stale.saved === true || stale.code === 'CONFLICT').toBe(true)
    await db.catchUp()
    expect((await Account.get(mine.oid))!.name).toBe('Theirs')
  }, 60_000)

  it('concurrent link changes from several processes: every link and reverse link exact', async () => {
    const schema = t.fresh()
    await t.seedAccounts(schema, [{ email: 'owner@example.com', name: 'Owner' }])
    const procs = await t.start(3, schema)
    await Promise.all(procs.map((w, p) => w.run('addPosts', { email: 'owner@example.com', titles: Array.from({ length: 8 }, (_, i) => `p${p}-${i}`) })))
    const db = await t.open(schema)
    const { posts, accounts } = await contents()
    expect(posts).toHaveLength(24)
    expect(accounts.get('owner@example.com')).toHaveLength(24)
    for (const post of posts) expect((await post.author.one())?.email).toBe('owner@example.com')
    expect((await db.verify()).problems).toEqual([])
  }, 60_000)

  it('a create with a generated oid waits for no other writer; an update waits for the writer holding its record, then stores', async () => {
    const schema = t.fresh()
    await t.seedAccounts(schema, [{ email: 'held@example.com', name: 'Held' }])
    const [w] = await t.start(1, schema)
    await w!.run('holdAll', { emails: ['held@example.com'] })
    // Another writer holds the whole store, as a write removing objects does, until this client commits.
    const other = new pg.Client({ connectionString: postgresUrl() })
    await other.connect()
    const store = new LockKeys(schema).store
    await other.query(`BEGIN; SELECT pg_advisory_xact_lock(${store})`)
    let update: Promise<{ ok: boolean }[]> | undefined
    try {
      const created = await w!.run<{ ok: boolean }[]>('create', { accounts: [{ email: 'new@example.com', name: 'New' }] })
      expect(created[0]!.ok).toBe(true)
      update = w!.run('changeAll', { changes: [{ email: 'held@example.com', set: { name: 'Renamed' } }] })
      const waiting = `SELECT count(*) AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND classid = ${(store >> 32n) & 0xffffffffn} AND objid = ${store & 0xffffffffn}`
      while (Number((await sql(waiting))[0]!.n) === 0) await new Promise((r) => setTimeout(r, 20))
      expect((await sql(`SELECT count(*) AS n FROM "${schema}".records WHERE collection = 'accounts'::bytea`))[0]!.n).toBe('2')
    } finally {
      await other.query('COMMIT')
      await other.end()
    }
    expect(await update).toEqual([{ ok: true }])
    const db = await t.open(schema)
    expect((await Account.index('email').one('held@example.com'))!.name).toBe('Renamed')
    expect(await Account.index('email').count('new@example.com')).toBe(1)
    expect((await db.verify()).problems).toEqual([])
  }, 60_000)

  it('updates racing removals of the same objects: each object ends removed, never saved again, its index entries gone', async () => {
    const schema = t.fresh()
    const emails = Array.from({ length: 8 }, (_, i) => `gone${i}@example.com`)
    const [remover, updater] = await twoHolding(schema, emails, 'Before')
    const [removed, updated] = await Promise.all([
      remover!.run<{ ok: boolean; code?: string }[]>('removeAll', { emails }),
      updater!.run<{ ok: boolean; code?: string }[]>('changeAll', { changes: emails.map((email) => ({ email, set: { name: 'After' } })) }),
    ])
    // A removal that finds the object changed since it was read is refused too (ConflictError), then runs again.
    expect(removed.every((r) => r.ok)).toBe(true)
    // An update either committed before the removal, or found the object removed: never a resurrection.
    for (const r of updated) expect(r.ok || r.code === 'CONFLICT').toBe(true)
    const db = await t.open(schema)
    expect(await Account.count()).toBe(0)
    for (const email of emails) expect(await Account.index('email').count(email)).toBe(0)
    expect(await Account.index('name').count('After')).toBe(0)
    expect((await db.verify()).problems).toEqual([])
  }, 60_000)

  it('links racing removals of their targets: a link is stored only while its target is, never left pointing at a removed object', async () => {
    const schema = t.fresh()
    const emails = Array.from({ length: 8 }, (_, i) => `target${i}@example.com`)
    const [remover, linker] = await twoHolding(schema, emails, 'Target')
    const [removed, linked] = await Promise.all([
      remover!.run<{ ok: boolean; code?: string }[]>('removeAll', { emails }),
      linker!.run<{ ok: boolean; code?: string }[]>('linkPosts', { emails, each: 4 }),
    ])
    expect(removed.every((r) => r.ok)).toBe(true)
    // A link either committed before its target's removal (which then unlinked it) or found the target gone.
    for (const r of linked) expect(r.ok || r.code === 'RELATION').toBe(true)
    const db = await t.open(schema)
    expect(await Account.count()).toBe(0)
    let posts = 0
    for await (const post of Post.all()) {
      posts++
      expect(post.author.oid).toBeUndefined()
    }
    expect(posts).toBe(linked.filter((r) => r.ok).length)
    expect((await db.verify()).problems).toEqual([])
  }, 60_000)

  it('an update and a create racing for one unique key: exactly one of them takes it, the other gets ConstraintError', async () => {
    const schema = t.fresh()
    const keys = Array.from({ length: 8 }, (_, i) => `wanted${i}@example.com`)
    const olds = keys.map((_, i) => `old${i}@example.com`)
    await t.seedAccounts(schema, olds.map((email) => ({ email, name: 'Old' })))
    const [mover, creator] = await t.start(2, schema)
    await mover!.run('holdAll', { emails: olds })
    const [moved, created] = await Promise.all([
      mover!.run<{ ok: boolean; code?: string }[]>('changeAll', { changes: olds.map((email, i) => ({ email, set: { email: keys[i] } })) }),
      creator!.run<{ ok: boolean; code?: string }[]>('create', { accounts: keys.map((email) => ({ email, name: 'New' })) }),
    ])
    keys.forEach((_, i) => {
      expect([moved[i]!.ok, created[i]!.ok].filter(Boolean)).toHaveLength(1)
      for (const r of [moved[i]!, created[i]!]) if (!r.ok) expect(r.code).toBe('CONSTRAINT')
    })
    const db = await t.open(schema)
    for (const key of keys) expect(await Account.index('email').count(key)).toBe(1)
    expect(await Account.count()).toBe(olds.length + created.filter((r) => r.ok).length)
    expect((await db.verify()).problems).toEqual([])
  }, 60_000)

  it('a transaction changing thousands of objects locks and checks them all', async () => {
    const schema = t.fresh()
    let db = await t.open(schema)
    const accounts: Account[] = []
    await db.transaction(async () => {
      for (let i = 0; i < 2000; i++) accounts.push(new Account({ email: `many${i}@example.com`, name: 'Before', visits: 0 } as never))
    })
    await db.transaction(async () => {
      for (const a of accounts) a.visits = 1
    })
    await t.close()
    db = await t.open(schema)
    expect(await Account.count()).toBe(2000)
    for await (const a of Account.all()) expect(a.visits).toBe(1)
  }, 60_000)

  it('a writer SIGKILLed mid-transaction: the others go on, nothing of its write half-stored', async () => {
    const schema = t.fresh()
    await t.seedAccounts(schema, [{ email: 'k@example.com', name: 'K' }])
    const [victim, survivor] = await t.start(2, schema)
    victim!.start('churn', { email: 'k@example.com', prefix: 'v' })
    survivor!.start('churn', { email: 'k@example.com', prefix: 's' })
    const acked = (w: Worker) => w.lines.filter((l) => l.startsWith('A ')).length
    await until(() => acked(victim!) >= 5 && acked(survivor!) >= 5)
    await victim!.kill()
    const before = acked(survivor!)
    await until(() => acked(survivor!) >= before + 5)
    await survivor!.kill()
    const db = await t.open(schema)
    const { posts } = await contents()
    const titles = new Set(posts.map((p) => p.title))
    for (const [w, prefix] of [[victim!, 'v'], [survivor!, 's']] as const) {
      for (const line of w.lines.filter((l) => l.startsWith('A '))) expect(titles.has(`${prefix}${line.slice(2)}`)).toBe(true)
    }
    // Each transaction adds one post and counts it: the counts agree, so none was half-written.
    const account = (await Account.index('email').one('k@example.com'))!
    expect(account.visits).toBe(posts.length)
    expect(account.posts.size).toBe(posts.length)
    expect((await db.verify()).problems).toEqual([])
  }, 60_000)
})

describe('a PostgreSQL server restarted while processes write', () => {
  it('writes in flight fail with a retryable UnavailableError, are never half-applied, and the processes go on once it is back', async () => {
    const server = await startPostgres()
    try {
      const schema = 'restart'
      await t.seedAccounts(schema, [{ email: 'r@example.com', name: 'R' }], server.url)
      const [w] = await t.start(1, schema, server.url)
      w!.start('churn', { email: 'r@example.com', prefix: 'r' })
      const acked = () => w!.lines.filter((l) => l.startsWith('A ')).length
      await until(() => acked() >= 5)
      await server.restart()
      const after = acked()
      await until(() => acked() >= after + 5, 50)
      await w!.kill()
      const errors = w!.lines.filter((l) => l.startsWith('E '))
      for (const line of errors) expect(line).toMatch(/^E \d+ (UNAVAILABLE true|CONFLICT false)$/)
      expect(errors.some((l) => l.includes('UNAVAILABLE'))).toBe(true)
      const db = await t.open(schema, server.url)
      const { posts } = await contents()
      const account = (await Account.index('email').one('r@example.com'))!
      expect(account.visits).toBe(posts.length)
      for (const line of w!.lines.filter((l) => l.startsWith('A '))) expect(posts.some((p) => p.title === `r${line.slice(2)}`)).toBe(true)
      expect((await db.verify()).problems).toEqual([])
    } finally {
      await t.close()
      await server.stop()
    }
  }, 90_000)
})
