import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { entryPrefix } from '../../src/indexes/layout.js'
import { Database } from '../../src/model/database.js'
import { engineAt, type EngineKind } from '../../src/tools/store-path.js'
import { buildForChildren } from '../helpers/child-build.js'
import { tempDir } from '../helpers/stores.js'
import { models, Person, populate } from '../tools/fixture.js'

let dist = ''
let cleanup = async () => {}
let dir = ''

interface Run {
  code: number
  stdout: string
  stderr: string
}

/** Runs the built `stowage` command with these arguments (and stdin), as a user's shell would. */
function stowage(args: string[], stdin?: string, env?: Record<string, string>): Promise<Run> {
  return new Promise((done) => {
    const options = { maxBuffer: 64 * 1024 * 1024, ...(env === undefined ? {} : { env: { ...process.env, ...env } }) }
    const child = execFile(process.execPath, [join(dist, 'src', 'cli', 'main.js'), ...args], options, (err, stdout, stderr) =>
      done({ code: err ? ((err as { code?: number }).code ?? -1) : 0, stdout, stderr }),
    )
    if (stdin !== undefined) child.stdin!.end(stdin)
    else child.stdin!.end()
  })
}

beforeAll(async () => {
  ;({ dist, cleanup } = await buildForChildren('cli'))
  dir = await tempDir()
  // The models, for --models: the fixture's, declared with defineModel in plain JavaScript.
  await writeFile(
    join(dir, 'models.mjs'),
    `import { defineModel, Indexing, StoredObject, StoredRaw, Types } from ${JSON.stringify(join(dist, 'src', 'index.js'))}
class P extends StoredObject {}
class F extends StoredRaw {}
export const Person = defineModel(P, {
  collection: 'people',
  properties: { name: Types.STRING, email: Types.LINE, born: Types.DATE, extra: Types.ANY },
  relations: { boss: () => Person, friends: () => [Person], photos: () => [Photo] },
  indexes: { name: { property: 'name', fn: Indexing.value }, email: { property: 'email', fn: Indexing.value, unique: true } },
})
export const Photo = defineModel(F, { collection: 'photos', properties: { width: Types.INTEGER }, indexes: { width: { property: 'width', fn: Indexing.value } } })
`,
  )
}, 120_000)
afterAll(async () => {
  await cleanup()
  await rm(dir, { recursive: true, force: true })
})

describe('stowage --help', () => {
  it('lists every command and the exit codes; each command has its own help; bad usage exits 2', async () => {
    const help = await stowage(['--help'])
    expect(help.code).toBe(0)
    for (const command of ['info', 'stats', 'ls', 'get', 'query', 'verify', 'reindex', 'backup', 'dump', 'restore', 'copy', 'compact']) {
      expect(help.stdout).toContain(`  ${command} `)
      const own = await stowage([command, '--help'])
      expect(own.code, command).toBe(0)
      expect(own.stdout).toContain(`Usage: stowage ${command}`)
    }
    expect(help.stdout).toContain('Exit codes:')
    expect((await stowage(['frobnicate'])).code).toBe(2)
    expect((await stowage(['get', join(dir, 'x')])).code).toBe(2)
    expect((await stowage(['copy', join(dir, 'x'), join(dir, 'y'), '--engine', 'paper'])).code).toBe(2)
    const missing = await stowage(['info', join(dir, 'nothing-here')])
    expect(missing.code).toBe(3)
    expect(missing.stderr).toMatch(/does not exist/)
  })
})

const kinds: EngineKind[] = ['level', 'directory', 'lmdb']

for (const kind of kinds) {
  describe(`stowage on a ${kind} store`, () => {
    let store = ''
    const oids: Record<string, string> = {}
    beforeAll(async () => {
      store = join(dir, kind === 'lmdb' ? `${kind}.lmdb` : kind)
      const db = await Database.open({ engine: engineAt(store, kind), models })
      await populate()
      for (const i of [0, 3, 5]) oids[`p${i}`] = (await Person.index('email').one(`p${i}@x.org`))!.oid
      await db.close()
    })

    it('info, stats, ls, get and query read the store without models', async () => {
      const info = JSON.parse((await stowage(['info', store, '--json'])).stdout)
      expect(info).toMatchObject({ engine: kind, collections: [{ collection: 'people', objects: 20 }, { collection: 'photos', objects: 3 }] })
      expect((await stowage(['info', store])).stdout).toMatch(new RegExp(`${kind} store`))

      const stats = JSON.parse((await stowage(['stats', store, '--json'])).stdout)
      expect(stats.collections[0]).toMatchObject({ collection: 'people', objects: 20, indexes: [{ name: 'email', entries: 20, keys: 20 }, { name: 'name', entries: 20, keys: 7 }] })
      expect((await stowage(['stats', store])).stdout).toMatch(/people\s+20/)

      const ls = await stowage(['ls', store, 'people'])
      expect(ls.stdout.trim().split('\n')).toHaveLength(20)
      expect(JSON.parse((await stowage(['ls', store, 'people', '--limit', '5', '--json'])).stdout)).toHaveLength(5)
      expect((await stowage(['ls', store, 'people', '--limit', 'many'])).code).toBe(2)

      const got = await stowage(['get', store, 'people', oids.p3!])
      expect(got.code).toBe(0)
      expect(JSON.parse(got.stdout).properties).toMatchObject({ email: 'p3@x.org', born: { $date: '1980-01-04T00:00:00.000Z' } })
      const none = await stowage(['get', store, 'people', 'x0000000000000'])
      expect(none.code).toBe(1)
      expect(none.stderr).toMatch(/no object people\/x0000000000000/)

      expect((await stowage(['query', store, 'people', 'email', 'p3@x.org'])).stdout).toBe(`${oids.p3}\tp3@x.org\n`)
      const range = JSON.parse((await stowage(['query', store, 'people', 'name', 'P1..P2', '--json'])).stdout)
      expect(range.map((r: { key: string }) => r.key)).toEqual(['P1', 'P1', 'P1', 'P2', 'P2', 'P2'])
      expect(JSON.parse((await stowage(['query', store, 'photos', 'width', '100..', '--json'])).stdout).map((r: { key: number }) => r.key)).toEqual([100, 640])
    })

    it('query with --models runs Model.find(): --where, --or, an index and range, --order, --offset, --limit, --explain; bad conditions exit 2', async () => {
      const models = ['--models', join(dir, 'models.mjs')]
      const find = async (...args: string[]) => {
        const run = await stowage(['query', store, 'people', ...args, ...models, '--json'])
        expect(run.code, run.stderr).toBe(0)
        return (JSON.parse(run.stdout) as Array<{ email: string }>).map((p) => p.email)
      }
      expect(await find('--where', '{"name":"P1"}')).toEqual(['p1@x.org', 'p8@x.org', 'p15@x.org'])
      expect(await find('name', 'P1..P2', '--order', 'email:desc', '--offset', '1', '--limit', '2')).toEqual(['p8@x.org', 'p2@x.org'])
      // A condition on a property without an index, with a date in the dump's tags.
      expect(await find('--where', '{"born":{"gte":{"$date":"1980-01-18T00:00:00.000Z"}}}')).toEqual(['p17@x.org', 'p18@x.org', 'p19@x.org'])
      expect((await find('--or', '[{"name":"P6"},{"email":"p0@x.org"}]', '--order', 'email')).sort()).toEqual(['p0@x.org', 'p13@x.org', 'p6@x.org'])
      const text = await stowage(['query', store, 'people', 'email', 'p3@x.org', ...models])
      expect(text.stdout.split('\t')[0]).toBe(oids.p3)
      expect(JSON.parse(text.stdout.split('\t')[1]!)).toMatchObject({ name: 'P3', email: 'p3@x.org', born: { $date: '1980-01-04T00:00:00.000Z' } })
      const explained = await stowage(['query', store, 'people', '--where', '{"name":"P1"}', '--explain', ...models])
      expect(explained.stdout).toMatch(/name/)
      for (const bad of [
        ['--where', '{"nope":1}', ...models],
        ['--where', 'status=published', ...models],
        ['--order', 'email:sideways', ...models],
        ['--where', '{"name":"P1"}'],
        ['email', 'p3@x.org', '--where', '{"email":"p4@x.org"}', ...models],
      ]) {
        const run = await stowage(['query', store, 'people', ...bad])
        expect(run.code, bad.join(' ')).toBe(2)
        expect(run.stderr).not.toBe('')
      }
      expect((await stowage(['query', store, 'nobody', '--where', '{}', ...models])).stderr).toMatch(/no model for collection nobody/)
    })

    it('verify finds an index entry deleted and a reverse link removed, exits 1, and --repair fixes them', async () => {
      expect((await stowage(['verify', store, '--models', join(dir, 'models.mjs')])).code).toBe(0)
      const engine = engineAt(store, kind)
      await engine.open()
      let entry = ''
      for await (const key of engine.keys({ prefix: entryPrefix('people', 'email'), limit: 1 })) entry = key
      await engine.del(entry)
      let reverse = ''
      for await (const key of engine.keys({ prefix: `rel\x00r\x00people\x00${oids.p0}\x00`, limit: 1 })) reverse = key
      await engine.del(reverse)
      await engine.close()

      const found = await stowage(['verify', store, '--models', join(dir, 'models.mjs')])
      expect(found.code).toBe(1)
      expect(found.stdout).toMatch(/index-entry-missing\tpeople\/\S+ index email/)
      expect(found.stdout).toMatch(/reverse-missing\tpeople\//)
      expect(found.stdout).toMatch(/2 problems in 23 objects, 2 left \(2 repairable with --repair\)/)
      const json = JSON.parse((await stowage(['verify', store, '--models', join(dir, 'models.mjs'), '--json'])).stdout)
      expect(json.problems.map((p: { kind: string }) => p.kind).sort()).toEqual(['index-entry-missing', 'reverse-missing'])
      const repaired = await stowage(['verify', store, '--repair', '--models', join(dir, 'models.mjs')])
      expect(repaired.code, repaired.stdout + repaired.stderr).toBe(0)
      expect(repaired.stdout).toMatch(/2 repaired/)
      expect((await stowage(['verify', store, '--models', join(dir, 'models.mjs')])).code).toBe(0)
      expect((await stowage(['verify', store])).code).toBe(0)
    })

    it('dump to stdout, restore into a new store of another engine; a truncated dump is refused (4) with its line and leaves no store', async () => {
      const dumped = await stowage(['dump', store])
      expect(dumped.code).toBe(0)
      expect(dumped.stderr).toMatch(/dumped 23 objects/)
      const file = join(dir, `${kind}.jsonl`)
      await writeFile(file, dumped.stdout)
      const target = join(dir, `${kind}-restored`)
      const restored = await stowage(['restore', file, target, '--engine', 'directory', '--json'])
      expect(restored.code, restored.stderr).toBe(0)
      expect(JSON.parse(restored.stdout)).toMatchObject({ engine: 'directory', records: 23, raw: 3, rawBytes: 270_001 })
      expect(JSON.parse((await stowage(['info', target, '--json'])).stdout).collections).toEqual([
        { collection: 'people', objects: 20 },
        { collection: 'photos', objects: 3 },
      ])
      const again = await stowage(['restore', file, target])
      expect(again.code).toBe(4)
      expect(again.stderr).toMatch(/already holds data/)
      // From stdin, cut short.
      const lines = dumped.stdout.split('\n')
      const cut = await stowage(['restore', '-', join(dir, `${kind}-cut`)], lines.slice(0, 10).join('\n') + '\n')
      expect(cut.code).toBe(4)
      expect(cut.stderr).toMatch(/line 11: the dump is truncated/)
      expect(existsSync(join(dir, `${kind}-cut`))).toBe(false)
      // From stdin, whole, merged into the restored store.
      expect((await stowage(['restore', '-', target, '--merge'], dumped.stdout)).code).toBe(0)
    })

    it('copy into another engine, refused (4) into a store holding data; backup to a file; reindex needs models; compact', async () => {
      const target = join(dir, `${kind}-copy.lmdb`)
      const copied = await stowage(['copy', store, target, '--engine', 'lmdb'])
      expect(copied.code, copied.stderr).toBe(0)
      expect(copied.stdout).toMatch(/copied 23 objects/)
      expect((await stowage(['verify', target, '--models', join(dir, 'models.mjs')])).code).toBe(0)
      const refused = await stowage(['copy', store, target])
      expect(refused.code).toBe(4)
      expect((await stowage(['copy', store, target, '--merge'])).code).toBe(0)

      const file = join(dir, `${kind}-backup.jsonl`)
      const backup = await stowage(['backup', store, file, '--json'])
      expect(backup.code, backup.stderr).toBe(0)
      expect(JSON.parse(backup.stdout)).toMatchObject({ file, records: 23, consistency: 'snapshot' })
      expect((await readFile(file, 'utf8')).split('\n')[0]).toMatch(/^\{"format":"stowage-dump","version":1/)

      expect((await stowage(['reindex', store])).code).toBe(2)
      expect((await stowage(['reindex', store, '--models', join(dir, 'models.mjs')])).stdout).toMatch(/reindexed Person, Photo|reindexed P, F/)
      const compact = await stowage(['compact', store])
      expect(compact.code).toBe(kind === 'lmdb' ? 2 : 0)
    })
  })
}

describe('stowage on an encrypted store', () => {
  it('needs the passphrase in STOWAGE_KEY, then reads it as any other store', async () => {
    const store = join(dir, 'sealed')
    const db = await Database.open({ engine: engineAt(store, 'level'), models, encryption: { key: 'cli passphrase' } })
    await Person.create({ name: 'Secret Agent', email: 'agent@example.com' })
    await db.close()
    const refused = await stowage(['info', store])
    expect(refused.code).toBe(3)
    expect(refused.stderr).toMatch(/encrypted: give its passphrase in the environment variable STOWAGE_KEY/)
    const wrong = await stowage(['info', store], undefined, { STOWAGE_KEY: 'wrong' })
    expect(wrong.code).toBe(3)
    const info = await stowage(['info', store, '--json'], undefined, { STOWAGE_KEY: 'cli passphrase' })
    expect(info.code, info.stderr).toBe(0)
    expect(info.stdout).toContain('people')
    const dump = await stowage(['dump', store], undefined, { STOWAGE_KEY: 'cli passphrase' })
    expect(dump.code, dump.stderr).toBe(0)
    expect(dump.stdout).toContain('Secret Agent') // a dump holds the data decrypted
    const compacted = await stowage(['compact', store], undefined, { STOWAGE_KEY: 'cli passphrase' })
    expect(compacted.code, compacted.stderr).toBe(0)
    // Compressed too: the command finds out from the store.
    const packed = join(dir, 'packed')
    const db2 = await Database.open({ engine: engineAt(packed, 'level'), models, compression: 'brotli', encryption: { key: 'cli passphrase' } })
    await Person.create({ name: 'Packed Person '.repeat(30), email: 'packed@example.com' })
    await db2.close()
    const packedDump = await stowage(['dump', packed], undefined, { STOWAGE_KEY: 'cli passphrase' })
    expect(packedDump.code, packedDump.stderr).toBe(0)
    expect(packedDump.stdout).toContain('Packed Person')
    const stats = await stowage(['stats', packed, '--json'], undefined, { STOWAGE_KEY: 'cli passphrase' })
    expect(stats.code, stats.stderr).toBe(0)
  }, 60_000)

  it('copy --encrypt makes an encrypted copy of a plain store (passphrase in STOWAGE_NEW_KEY), copy --decrypt a plain copy back', async () => {
    const plain = join(dir, 'to-seal')
    const db = await Database.open({ engine: engineAt(plain, 'level'), models })
    await Person.create({ name: 'Plain Person', email: 'plain.person@example.com' })
    await db.close()
    const sealed = join(dir, 'sealed-copy')
    expect((await stowage(['copy', plain, sealed, '--encrypt'])).code).toBe(2) // no STOWAGE_NEW_KEY
    expect((await stowage(['copy', plain, sealed, '--ordered', 'people.name'], undefined, { STOWAGE_NEW_KEY: 'new pass' })).code).toBe(2) // --ordered without --encrypt
    const copied = await stowage(['copy', plain, sealed, '--encrypt', '--ordered', 'people.name', '--json'], undefined, { STOWAGE_NEW_KEY: 'new pass' })
    expect(copied.code, copied.stderr).toBe(0)
    expect(JSON.parse(copied.stdout)).toMatchObject({ encrypted: true, records: 1 })
    expect((await stowage(['info', sealed])).code).toBe(3)
    const dumped = await stowage(['dump', sealed], undefined, { STOWAGE_KEY: 'new pass' })
    expect(dumped.code, dumped.stderr).toBe(0)
    expect(dumped.stdout).toContain('plain.person@example.com')
    const back = join(dir, 'unsealed-copy')
    const ambiguous = await stowage(['copy', sealed, back], undefined, { STOWAGE_KEY: 'new pass' })
    expect(ambiguous.code).toBe(2)
    expect(ambiguous.stderr).toMatch(/--decrypt/)
    expect((await stowage(['copy', sealed, back, '--decrypt'], undefined, { STOWAGE_KEY: 'new pass' })).code).toBe(0)
    const plainDump = await stowage(['dump', back])
    expect(plainDump.code, plainDump.stderr).toBe(0)
    expect(plainDump.stdout).toContain('plain.person@example.com')
  }, 60_000)
})
