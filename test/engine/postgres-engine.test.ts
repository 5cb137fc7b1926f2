import pg from 'pg'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { ArgumentError, ConstraintError, CorruptionError, InvalidKeyError, InvalidPathError, RelationError, UnavailableError } from '../../src/errors.js'
import type { Engine } from '../../src/engine/engine.js'
import { PostgresEngine } from '../../src/engine/postgres/postgres-engine.js'
import { engineConformance } from '../../src/testing/index.js'
import { dropSchema, freshSchema, postgresEngine, postgresUrl, sql } from '../helpers/postgres.js'

const schemas: string[] = []
afterAll(async () => {
  for (const schema of schemas) await dropSchema(schema)
})
const locations = new WeakMap<Engine, string>()

async function openAt(schema: string): Promise<PostgresEngine> {
  const engine = postgresEngine(schema)
  await engine.open()
  locations.set(engine, schema)
  return engine
}

engineConformance(
  {
    name: 'PostgresEngine',
    create() {
      const schema = freshSchema()
      schemas.push(schema)
      return openAt(schema)
    },
    async reopen(engine) {
      await engine.close()
      return openAt(locations.get(engine)!)
    },
  },
  { describe, it, afterEach },
)

describe('PostgresEngine', () => {
  const fresh = () => {
    const schema = freshSchema()
    schemas.push(schema)
    return schema
  }

  it('a refused connection at open is UnavailableError naming the server, never the password', async () => {
    const { createServer } = await import('node:net')
    // A port that was free a moment ago: nothing listens there.
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const { port } = s.address() as { port: number }
        s.close(() => resolve(port))
      })
    })
    const engine = new PostgresEngine({ connectionString: `postgres://app:s3cret@127.0.0.1:${port}/shop`, schema: 's' })
    const err = await engine.open().catch((e) => e)
    expect(err).toBeInstanceOf(UnavailableError)
    expect(err.code).toBe('UNAVAILABLE')
    expect(err.retryable).toBe(true)
    expect(err.message).toContain(`127.0.0.1:${port}/shop`)
    expect(err.message).not.toContain('s3cret')
    expect(engine.status).toBe('closed')
  })

  it('refuses a store written in another format by another version of Stowage with CorruptionError, changing nothing', async () => {
    const schema = fresh()
    const first = await openAt(schema)
    await first.put('k', 1)
    await first.close()
    await sql(`UPDATE "${schema}".meta SET value = '2' WHERE name = 'format'`)
    const err = await postgresEngine(schema).open().catch((e) => e)
    expect(err).toBeInstanceOf(CorruptionError)
    expect(err.message).toMatch(/format 2.*another version of Stowage.*reads format 1/)
    expect(await sql(`SELECT value FROM "${schema}".meta WHERE name = 'format'`)).toEqual([{ value: '2' }])
  })

  it('refuses a schema holding tables Stowage did not create with InvalidPathError, creating nothing there', async () => {
    const schema = fresh()
    await sql(`CREATE SCHEMA "${schema}"; CREATE TABLE "${schema}".customers (id int)`)
    const err = await postgresEngine(schema).open().catch((e) => e)
    expect(err).toBeInstanceOf(InvalidPathError)
    expect(err.message).toContain(schema)
    expect(await sql(`SELECT table_name FROM information_schema.tables WHERE table_schema = '${schema}'`)).toEqual([{ table_name: 'customers' }])
  })

  it('refuses keys over its limit with InvalidKeyError, nothing of the batch written; reads of them find nothing', async () => {
    const engine = await openAt(fresh())
    const long = 'x'.repeat(3000)
    const err = await engine.batch([{ type: 'put', key: 'a', value: 1 }, { type: 'put', key: long, value: 2 }]).catch((e) => e)
    expect(err).toBeInstanceOf(InvalidKeyError)
    expect(await engine.get('a')).toBeUndefined()
    expect(await engine.get(long)).toBeUndefined()
    await engine.put('y'.repeat(2600), 3)
    expect(await engine.get('y'.repeat(2600))).toBe(3)
    await engine.close()
  })

  it('refuses a batch making a link to an object no longer stored with RelationError, writing nothing of it', async () => {
    const engine = await openAt(fresh())
    await engine.batch([{ type: 'putRecord', collection: 'accounts', id: 'a1', value: { properties: {}, updates: {}, changed: 1 } }])
    // A reverse link entry says who points at an object: rel\0r\0<target collection>\0<target oid>\0<owner ...>.
    const reverse = (target: string, owner: string) => `rel\x00r\x00accounts\x00${target}\x00posts\x00${owner}\x00author`
    const post = (id: string) => ({ type: 'putRecord' as const, collection: 'posts', id, value: { properties: {}, updates: {}, changed: 1 } })
    await engine.batch([post('p1'), { type: 'put', key: reverse('a1', 'p1'), value: null, target: ['accounts', 'a1'] }])
    const err = await engine.batch([post('p2'), { type: 'put', key: reverse('gone', 'p2'), value: null, target: ['accounts', 'gone'] }]).catch((e) => e)
    expect(err).toBeInstanceOf(RelationError)
    expect(await engine.getRecord('posts', 'p2')).toBeUndefined()
    expect(await engine.get(reverse('gone', 'p2'))).toBeUndefined()
    // A target the batch itself stores is fine.
    await engine.batch([
      { type: 'putRecord', collection: 'accounts', id: 'a2', value: { properties: {}, updates: {}, changed: 1 } },
      post('p3'),
      { type: 'put', key: reverse('a2', 'p3'), value: null, target: ['accounts', 'a2'] },
    ])
    expect(await engine.get(reverse('a2', 'p3'))).toBeNull()
    // Unmarked (a tool mending links, a collection being moved): written as it is.
    await engine.batch([{ type: 'put', key: reverse('gone', 'p4'), value: null }])
    expect(await engine.get(reverse('gone', 'p4'))).toBeNull()
    await engine.close()
  })

  it('refuses bad options with ArgumentError', () => {
    expect(() => new PostgresEngine({} as never)).toThrow(ArgumentError)
    expect(() => new PostgresEngine({ connectionString: 'postgres://x', pool: {} as never })).toThrow(ArgumentError)
    expect(() => new PostgresEngine({ connectionString: 'postgres://x', schema: 'Robert"; DROP' })).toThrow(ArgumentError)
    expect(() => new PostgresEngine({ connectionString: 'postgres://x', rawChunkSize: 0 })).toThrow(ArgumentError)
  })

  it('works over a pool of the application, which it leaves open when it closes', async () => {
    const pool = new pg.Pool({ connectionString: postgresUrl(), max: 2 })
    try {
      const engine = new PostgresEngine({ pool, schema: fresh() })
      await engine.open()
      expect(engine.describe()).toContain('127.0.0.1')
      await engine.putRecord('A', 'a1', { n: 1 })
      await engine.close()
      expect((await pool.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }])
    } finally {
      await pool.end()
    }
  })

  it('a batch announcing many records of long non-ASCII ids commits, and other engines on the store hear of it', async () => {
    const schema = fresh()
    const [writer, other] = await Promise.all([openAt(schema), openAt(schema)])
    const heard: unknown[] = []
    other.onRemoteCommit((commit) => heard.push(commit.records))
    // 200 ids of 18 characters, 48 bytes each in UTF-8: the list is short in characters but not in bytes.
    const ids = Array.from({ length: 200 }, (_, i) => `日本語の長いメモの識別子です${String(i).padStart(4, '0')}`)
    await writer.batch(ids.map((id) => ({ type: 'putRecord' as const, collection: 'notes', id, value: { properties: {}, updates: {}, changed: 1 } })))
    expect(await other.countRecords('notes')).toBe(200)
    await other.catchUp()
    expect(heard).toEqual(['all'])
    await Promise.all([writer.close(), other.close()])
  })

  it('announces each batch once it committed, alone or under write locks, and never one refused or rolled back', async () => {
    const schema = fresh()
    const [writer, other] = await Promise.all([openAt(schema), openAt(schema)])
    // What the other engine reads of the announced record the moment it hears the notice.
    const heard: Array<Promise<[unknown, unknown]>> = []
    other.onRemoteCommit((commit) => {
      const [collection, id] = commit.records === 'all' ? ['?', '?'] : commit.records[0]!
      heard.push(other.getRecord(collection, id).then((record) => [commit.records, record]))
    })
    const claim = `idx\x00accounts\x00email\x00ann@x.org\x00`
    // Alone: one call that commits, then announces.
    await writer.batch([
      { type: 'putRecord', collection: 'accounts', id: 'a1', value: { n: 1 } },
      { type: 'put', key: `${claim}a1`, value: null, unique: true },
    ])
    // Refused (the key is held): nothing written, nothing announced.
    const refused = await writer.batch([
      { type: 'putRecord', collection: 'accounts', id: 'a2', value: { n: 2 } },
      { type: 'put', key: `${claim}a2`, value: null, unique: true },
    ]).catch((e) => e)
    expect(refused).toBeInstanceOf(ConstraintError)
    // Under write locks: the batch commits the locks' transaction, then announces.
    await writer.lockWrites({ records: [['accounts', 'a1']], exclusive: false })
    await writer.batch([{ type: 'putRecord', collection: 'accounts', id: 'a1', value: { n: 3 } }])
    await writer.unlockWrites()
    // Locks let go without a batch: their transaction rolls back, nothing announced.
    await writer.lockWrites({ records: [['accounts', 'a1']], exclusive: false })
    await writer.unlockWrites()
    await other.catchUp()
    expect(await Promise.all(heard)).toEqual([
      [[['accounts', 'a1']], { n: 1 }],
      [[['accounts', 'a1']], { n: 3 }],
    ])
    await Promise.all([writer.close(), other.close()])
  })

  it('hears every commit of a flow of another engine, read together, while its own batches go on', async () => {
    const schema = fresh()
    const [writer, other] = await Promise.all([openAt(schema), openAt(schema)])
    const heard = new Set<string>()
    other.onRemoteCommit((commit) => {
      if (commit.records !== 'all') for (const [, id] of commit.records) heard.add(id)
    })
    const record = { properties: {}, updates: {}, changed: 1 }
    const theirs = Array.from({ length: 300 }, (_, i) => `w${i}`)
    const ours = Array.from({ length: 100 }, (_, i) => `o${i}`)
    // The other engine's own batches use the connection it listens on, between the notices it reads.
    await Promise.all([
      (async () => {
        for (const id of theirs) await writer.batch([{ type: 'putRecord', collection: 'notes', id, value: record }])
      })(),
      (async () => {
        for (const id of ours) await other.batch([{ type: 'putRecord', collection: 'mine', id, value: record }])
      })(),
    ])
    await other.catchUp()
    expect([...heard].sort()).toEqual([...theirs].sort())
    expect(await other.countRecords('mine')).toBe(100)
    // A last commit after a quiet spell is heard too.
    await new Promise((resolve) => setTimeout(resolve, 50))
    await writer.batch([{ type: 'putRecord', collection: 'notes', id: 'last', value: record }])
    await other.catchUp()
    expect(heard.has('last')).toBe(true)
    await Promise.all([writer.close(), other.close()])
  })

  it('engines writing at once each hear every commit of the others exactly once, whatever order they committed in', async () => {
    const schema = fresh()
    const engines = await Promise.all(Array.from({ length: 4 }, () => openAt(schema)))
    const heard = engines.map((e) => {
      const ids: string[] = []
      e.onRemoteCommit((commit) => {
        if (commit.records === 'all') ids.push('all')
        else for (const [, id] of commit.records) ids.push(id)
      })
      return ids
    })
    const record = { properties: {}, updates: {}, changed: 1 }
    // Three engines write 150 batches each, three in flight per engine at a time; the fourth only listens.
    await Promise.all(
      engines.slice(0, 3).flatMap((e, w) =>
        Array.from({ length: 3 }, async (_, lane) => {
          for (let i = lane; i < 150; i += 3) await e.batch([{ type: 'putRecord', collection: 'notes', id: `w${w}-${i}`, value: record }])
        }),
      ),
    )
    for (const e of engines) await e.catchUp()
    const idsOf = (w: number) => Array.from({ length: 150 }, (_, i) => `w${w}-${i}`)
    engines.forEach((_, n) => {
      expect([...heard[n]!].sort()).toEqual([0, 1, 2].filter((w) => w !== n).flatMap(idsOf).sort())
    })
    await Promise.all(engines.map((e) => e.close()))
  })

  it('several engines opening one new store at once all open it, and share what they write', async () => {
    const schema = fresh()
    const engines = await Promise.all(Array.from({ length: 4 }, () => openAt(schema)))
    await Promise.all(engines.map((e, i) => e.putRecord('A', `a${i}`, { i })))
    for (const e of engines) expect(await e.countRecords('A')).toBe(4)
    await Promise.all(engines.map((e) => e.close()))
  })
})
