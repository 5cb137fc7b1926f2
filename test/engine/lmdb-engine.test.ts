import { spawn, type ChildProcess } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { hostname, tmpdir } from 'node:os'
import { join } from 'node:path'
import { open } from 'lmdb'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { ArgumentError, ClosedError, CorruptionError, InvalidKeyError, InvalidPathError, LockedError } from '../../src/errors.js'
import { DirectoryEngine } from '../../src/engine/directory/directory-engine.js'
import type { Engine } from '../../src/engine/engine.js'
import { LevelEngine } from '../../src/engine/level/level-engine.js'
import { chunkKey, pointerKey, recordKey, stagingKey } from '../../src/engine/level/level-keys.js'
import { decodeValue, encodeValue } from '../../src/engine/level/msgpack-codec.js'
import { LmdbEngine } from '../../src/engine/lmdb/lmdb-engine.js'
import { utf8Keys } from '../../src/engine/lmdb/lmdb-keys.js'
import { engineConformance } from '../../src/testing/index.js'
import { bytes, collect, readAll } from '../../src/testing/helpers.js'

const root = mkdtempSync(join(tmpdir(), 'stowage-lmdb-'))
afterAll(() => rmSync(root, { recursive: true, force: true }))
let n = 0
const freshPath = () => join(root, `db${n++}.lmdb`)
const locations = new WeakMap<Engine, string>()

async function openAt(path: string, options = {}): Promise<LmdbEngine> {
  const engine = new LmdbEngine(path, options)
  await engine.open()
  locations.set(engine, path)
  return engine
}

engineConformance({
  name: 'LmdbEngine',
  create: () => openAt(freshPath()),
  async reopen(engine) {
    await engine.close()
    return openAt(locations.get(engine)!)
  },
}, { describe, it, afterEach })

/** Runs test/engine/lmdb/holder.ts on `path`; resolves once it holds the store. */
async function holder(path: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'lmdb', 'holder.ts'), path], { stdio: ['pipe', 'pipe', 'pipe'] })
  let stderr = ''
  child.stderr!.on('data', (d) => (stderr += d))
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d) => String(d).includes('ready') && resolve())
    child.on('exit', (code) => reject(new Error(`holder exited with ${code}: ${stderr}`)))
  })
  return child
}

async function killed(child: ChildProcess): Promise<void> {
  const exited = new Promise((resolve) => child.on('close', resolve))
  child.kill('SIGKILL')
  await exited
}

function listing(dir: string): Record<string, string> {
  const digest = (file: string) => (statSync(file).isDirectory() ? 'a directory' : createHash('sha256').update(readFileSync(file)).digest('hex'))
  return Object.fromEntries(readdirSync(dir).sort().map((name) => [name, digest(join(dir, name))]))
}

describe('LmdbEngine', () => {
  it('says which store is held by another process, and takes it over once that process is killed', async () => {
    const path = freshPath()
    const child = await holder(path)
    try {
      const err = (await new LmdbEngine(path).open().catch((e) => e)) as LockedError
      expect(err).toBeInstanceOf(LockedError)
      expect(err.code).toBe('LOCKED')
      expect(err.message).toContain(path)
      expect(err.message).toContain(`pid ${child.pid}`)
    } finally {
      await killed(child)
    }
    // The killed process's lock is stale: it does not block, and what it wrote is there.
    const engine = await openAt(path)
    expect(await engine.get('held')).toBe(child.pid)
    await engine.close()
    expect(existsSync(`${path}-owner`)).toBe(false)
  }, 30_000)

  it('hands the store over when the other process closes it', async () => {
    const path = freshPath()
    const child = await holder(path)
    const exited = new Promise((resolve) => child.on('close', resolve))
    child.stdin!.end()
    await exited
    const engine = await openAt(path)
    expect(await engine.get('held')).toBe(child.pid)
    await engine.close()
  }, 30_000)

  it('refuses a second engine on the store in this process until the first closes', async () => {
    const path = freshPath()
    const first = await openAt(path)
    const second = new LmdbEngine(path)
    await expect(second.open()).rejects.toThrow(LockedError)
    expect(second.status).toBe('closed')
    await expect(new LmdbEngine(path).open()).rejects.toThrow(/another engine in this process/)
    await first.put('k', 1)
    await first.close()
    const third = await openAt(path)
    expect(await third.get('k')).toBe(1)
    await third.close()
  })

  it('takes over a lock left by a process that is gone', async () => {
    const path = freshPath()
    writeFileSync(`${path}-owner`, JSON.stringify({ pid: 2 ** 22 + 12345, thread: 0, start: '1', host: hostname() }))
    const engine = await openAt(path)
    await engine.close()
  })

  it('refuses a path that is a file of another kind, or under a file, with InvalidPathError, leaving it as it was', async () => {
    const dir = join(root, `files${n++}`)
    mkdirSync(dir)
    const file = join(dir, 'notes.txt')
    writeFileSync(file, 'not a database '.repeat(1000))
    const before = listing(dir)
    for (const path of [file, join(file, 'db.lmdb')]) {
      const err = await new LmdbEngine(path).open().catch((e) => e)
      expect(err).toBeInstanceOf(InvalidPathError)
      expect(err.message).toContain(file)
    }
    expect(listing(dir)).toEqual(before)
  })

  it('refuses a LevelDB store and LevelEngine refuses an LMDB store, neither damaged', async () => {
    const levelPath = join(root, `level${n++}`)
    const level = new LevelEngine(levelPath)
    await level.open()
    await level.putRecord('A', 'a1', { name: 'Ann' })
    await level.close()
    const levelFiles = listing(levelPath)
    const err = await new LmdbEngine(levelPath).open().catch((e) => e)
    expect(err).toBeInstanceOf(InvalidPathError)
    expect(err.message).toMatch(/LevelDB store.*LevelEngine/)
    expect(listing(levelPath)).toEqual(levelFiles)
    expect(existsSync(`${levelPath}-owner`) || existsSync(`${levelPath}-lock`)).toBe(false)
    const again = new LevelEngine(levelPath)
    await again.open()
    expect(await again.getRecord('A', 'a1')).toEqual({ name: 'Ann' })
    await again.close()

    const lmdbPath = freshPath()
    const lmdb = await openAt(lmdbPath)
    await lmdb.putRecord('A', 'a1', { name: 'Bo' })
    await lmdb.close()
    const lmdbFiles = listing(root)
    await expect(new LevelEngine(lmdbPath).open()).rejects.toThrow(InvalidPathError)
    await expect(new DirectoryEngine(lmdbPath).open()).rejects.toThrow(InvalidPathError)
    expect(listing(root)).toEqual(lmdbFiles)
    const reopened = await openAt(lmdbPath)
    expect(await reopened.getRecord('A', 'a1')).toEqual({ name: 'Bo' })
    await reopened.close()
  })

  it('refuses an LMDB database that Stowage did not write, leaving it as it was', async () => {
    const path = freshPath()
    const other = open(path, { noSubdir: true })
    await other.put('user-key', { some: 'data' })
    await other.close()
    const before = readFileSync(path)
    const err = await new LmdbEngine(path).open().catch((e) => e)
    expect(err).toBeInstanceOf(InvalidPathError)
    expect(err.message).toMatch(/did not write/)
    expect(Buffer.compare(readFileSync(path), before)).toBe(0)
    expect(existsSync(`${path}-owner`)).toBe(false)
  })

  it('creates missing parent directories', async () => {
    const engine = await openAt(join(root, `deep${n++}`, 'er', 'db.lmdb'))
    await engine.put('k', 1)
    await engine.close()
  })

  it('grows its map past the initial size, in one batch and across many', async () => {
    const path = freshPath()
    const engine = await openAt(path, { mapSize: 128 * 1024 })
    const value = 'v'.repeat(100_000)
    // A map of 128 KiB at first: one batch of 40 MB, then 400 batches of 100 KB.
    await engine.batch(Array.from({ length: 400 }, (_, i) => ({ type: 'putRecord' as const, collection: 'Big', id: `a${i}`, value: { value, i } })))
    for (let i = 0; i < 400; i++) await engine.putRecord('Big', `b${i}`, { value, i })
    await engine.sync()
    const again = await (async () => {
      await engine.close()
      return openAt(path)
    })()
    expect(await again.countRecords('Big')).toBe(800)
    expect(((await again.getRecord('Big', 'a399')) as { i: number }).i).toBe(399)
    expect(((await again.getRecord('Big', 'b0')) as { value: string }).value).toBe(value)
    await again.close()
    expect(statSync(path).size).toBeGreaterThan(80_000_000)
  }, 60_000)

  it('opens a store written with a smaller map, and one written with a larger map under a smaller one', async () => {
    const path = freshPath()
    const small = await openAt(path, { mapSize: 128 * 1024 })
    await small.batch(Array.from({ length: 2000 }, (_, i) => ({ type: 'putRecord' as const, collection: 'A', id: `a${i}`, value: { i, text: 'x'.repeat(200) } })))
    await small.close()
    const large = await openAt(path)
    const mapSize = (engine: LmdbEngine) => (engine.db as unknown as { getStats(): { mapSize: number } }).getStats().mapSize
    // Mapped once over 16 GiB: no map grown (and kept) while the store grows.
    if (process.platform !== 'win32') expect(mapSize(large)).toBe(16 * 2 ** 30)
    expect(await large.countRecords('A')).toBe(2000)
    await large.putRecord('A', 'b', { i: -1 })
    await large.close()
    // The file holds what was written, not the 16 GiB the map spans.
    expect(statSync(path).size).toBeLessThan(16 * 2 ** 20)
    const again = await openAt(path, { mapSize: 64 * 1024 })
    expect(((await again.getRecord('A', 'a1999')) as { i: number }).i).toBe(1999)
    expect(await again.getRecord('A', 'b')).toEqual({ i: -1 })
    await again.close()
  })

  it('refuses an entry key over LMDB key limit with InvalidKeyError, writing nothing of the batch; long reads and bounds stay exact', async () => {
    const engine = await openAt(freshPath())
    const long = 'x/' + 'é'.repeat(1500) // 3002 bytes
    const err = await engine.batch([{ type: 'putRecord', collection: 'A', id: 'a1', value: 1 }, { type: 'put', key: long, value: 1 }]).catch((e) => e)
    expect(err).toBeInstanceOf(InvalidKeyError)
    expect(err.message).toMatch(/3002 bytes.*at most 1977/)
    expect(await engine.hasRecord('A', 'a1')).toBe(false)
    // The longest key that fits is stored; longer ones read as missing and delete as nothing.
    const longest = 'x/' + 'y'.repeat(1975)
    await engine.batch([{ type: 'put', key: longest, value: 'fits' }, { type: 'put', key: 'x/z', value: 'z' }, { type: 'del', key: long }])
    expect(await engine.get(longest)).toBe('fits')
    expect(await engine.get(long)).toBeUndefined()
    expect(engine.getSync(long)).toBeUndefined()
    // Bounds longer than any key: the keys below and above them, exactly.
    expect(await collect(engine.keys({ gt: longest + 'a' }))).toEqual(['x/z'])
    expect(await collect(engine.keys({ gte: longest + 'a' }))).toEqual(['x/z'])
    expect(await collect(engine.keys({ lt: longest + 'a' }))).toEqual([longest])
    expect(await collect(engine.keys({ lte: longest + 'a', reverse: true }))).toEqual([longest])
    expect(await collect(engine.keys({ prefix: longest + 'a' }))).toEqual([])
    expect(await collect(engine.keys({ prefix: 'x/' + 'y'.repeat(1990) }))).toEqual([])
    expect([...engine.keysSync({ gt: 'x/y', lt: 'x/' + 'y'.repeat(3000), reverse: true })]).toEqual([longest])
    await engine.close()
  })

  it('writes nothing of a batch whose LMDB transaction fails (the file size limit reached), and goes on working', async () => {
    const path = freshPath()
    const script = join(root, 'over-limit.mts')
    // Run under `ulimit -f` (about 1 MB), with SIGXFSZ handled, a write past the limit fails with EFBIG.
    writeFileSync(
      script,
      `import { LmdbEngine } from ${JSON.stringify(join(import.meta.dirname, '../../src/engine/lmdb/lmdb-engine.js'))}
process.on('SIGXFSZ', () => {})
const engine = new LmdbEngine(process.argv[2])
await engine.open()
await engine.batch([{ type: 'putRecord', collection: 'A', id: 'small', value: 1 }])
const big = 'x'.repeat(1000)
// Records of a shape the store has not seen: the failed batch also held the first table with it.
const ops = Array.from({ length: 5000 }, (_, i) => ({ type: 'putRecord', collection: 'A', id: 'b' + i, value: { text: big } }))
const err = await engine.batch([...ops, { type: 'put', key: 'big', value: 1 }]).catch((e) => e)
const after = { error: err?.constructor?.name, message: err?.message, count: await engine.countRecords('A'), b0: await engine.hasRecord('A', 'b0'), entry: await engine.get('big') }
await engine.batch([{ type: 'putRecord', collection: 'A', id: 'later', value: { text: 'later' } }])
await engine.close()
console.log(JSON.stringify(after))
`,
    )
    const child = spawn('sh', ['-c', 'ulimit -f 2048 && exec "$0" --import tsx "$1" "$2"', process.execPath, script, path], { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    child.stdout!.on('data', (d) => (out += d))
    const code = await new Promise((resolve) => child.on('close', resolve))
    expect(code).toBe(0)
    const after = JSON.parse(out.trim().split('\n').pop()!)
    expect(after).toMatchObject({ error: 'CorruptionError', count: 1, b0: false })
    expect(after.message).toMatch(/writing a batch of 5001 operations failed/)
    expect(after.entry).toBeUndefined()
    const again = await openAt(path)
    expect((await collect(again.recordIds('A'))).sort()).toEqual(['later', 'small'])
    expect(await again.getRecord('A', 'later')).toEqual({ text: 'later' })
    expect(await again.get('big')).toBeUndefined()
    await again.close()
  }, 30_000)

  it('throws CorruptionError for a damaged stored value and lists the record as damaged', async () => {
    const path = freshPath()
    const damage: unknown[] = []
    const engine = await openAt(path, { onDamage: (d: unknown) => damage.push(d) })
    await engine.putRecord('Account', 'a1', { name: 'Ann' })
    await engine.putRecord('Account', 'a2', { name: 'Bob' })
    await engine.put('idx/name/ann', 'a1')
    await engine.close()
    // Flip a byte inside each stored value, as a damaged page would.
    const raw = open<Buffer, string | Uint8Array>(path, { noSubdir: true, encoding: 'binary', keyEncoder: utf8Keys } as object)
    for (const key of [recordKey('Account', 'a1'), 'eidx/name/ann']) {
      const bytes = Buffer.from(raw.getBinary(key)!)
      bytes[bytes.length - 1] ^= 0x20
      raw.putSync(key, bytes)
    }
    await raw.close()
    const again = await openAt(path, { onDamage: (d: unknown) => damage.push(d) })
    await expect(again.getRecord('Account', 'a1')).rejects.toThrow(CorruptionError)
    expect(() => again.getRecordSync('Account', 'a1')).toThrow(/Account\/a1.*checksum/)
    expect(await again.getRecords('Account', ['a1', 'a2'])).toEqual([undefined, { name: 'Bob' }])
    expect(await collect(again.records('Account'))).toEqual([['a2', { name: 'Bob' }]])
    expect(again.damaged().map((d) => `${d.collection}/${d.id}`)).toEqual(['Account/a1'])
    expect(damage).toHaveLength(1)
    await expect(again.get('idx/name/ann')).rejects.toThrow(/idx\/name\/ann/)
    expect(await collect(again.recordIds('Account'))).toEqual(['a1', 'a2'])
    // Writing the record mends it.
    await again.putRecord('Account', 'a1', { name: 'Ann' })
    expect(again.damaged()).toEqual([])
    expect(await again.getRecord('Account', 'a1')).toEqual({ name: 'Ann' })
    await again.close()
  })

  it('deletes raw data a crashed process staged but never committed', async () => {
    const path = freshPath()
    const engine = await openAt(path, { rawChunkSize: 1000 })
    const kept = bytes(5000, 4)
    await engine.batch([{ type: 'putRaw', collection: 'F', id: 'kept', staged: await engine.stageRaw('F', 'kept', [kept]) }])
    await engine.close()
    const raw = open<Buffer, string | Uint8Array>(path, { noSubdir: true, encoding: 'binary', keyEncoder: utf8Keys } as object)
    const committed = [...raw.getKeys()]
    const token = 'deadbeefdeadbeefdeadbeef'
    await raw.transactionSync(() => {
      raw.putSync(stagingKey(token), encodeValue({ token, size: -1, sha256: '', chunkSize: 1000 }, 'marker'))
      for (let i = 0; i < 3; i++) raw.putSync(chunkKey(token, i), Buffer.from(bytes(1000, i + 10)))
    })
    await raw.close()
    const again = await openAt(path)
    expect(Buffer.compare(await readAll(again.readRaw('F', 'kept')), kept)).toBe(0)
    await again.close()
    const check = open<Buffer, string | Uint8Array>(path, { noSubdir: true, encoding: 'binary', keyEncoder: utf8Keys } as object)
    expect([...check.getKeys()]).toEqual(committed)
    await check.close()
  })

  it('fails iterations and raw reads with ClosedError when the engine closes under them', async () => {
    const engine = await openAt(freshPath(), { rawChunkSize: 100 })
    await engine.batch(Array.from({ length: 100 }, (_, i) => ({ type: 'put' as const, key: `k${i}`, value: i })))
    await engine.batch([{ type: 'putRaw', collection: 'F', id: 'x', staged: await engine.stageRaw('F', 'x', [bytes(1000)]) }])
    const notStarted = engine.keys()
    const started = engine.entries()[Symbol.asyncIterator]()
    await started.next()
    const sync = engine.recordsSync('C')[Symbol.iterator]()
    const syncKeys = engine.keysSync()[Symbol.iterator]()
    syncKeys.next()
    const raw = engine.readRaw('F', 'x')[Symbol.asyncIterator]()
    await raw.next()
    await engine.close()
    await expect(collect(notStarted)).rejects.toThrow(ClosedError)
    await expect(started.next()).rejects.toThrow(ClosedError)
    expect(() => sync.next()).toThrow(ClosedError)
    expect(() => syncKeys.next()).toThrow(ClosedError)
    await expect(raw.next()).rejects.toThrow(ClosedError)
  })

  it('checks raw data against its SHA-256 while streaming it', async () => {
    const path = freshPath()
    const engine = await openAt(path, { rawChunkSize: 1000 })
    const data = bytes(3000, 3)
    await engine.batch([{ type: 'putRaw', collection: 'F', id: 'f', staged: await engine.stageRaw('F', 'f', [data]) }])
    await engine.close()
    const raw = open<Buffer, string | Uint8Array>(path, { noSubdir: true, encoding: 'binary', keyEncoder: utf8Keys } as object)
    const token = (decodeValue(raw.getBinary(pointerKey('F', 'f'))!, 'pointer') as { token: string }).token
    const chunk = Buffer.from(raw.getBinary(chunkKey(token, 1))!)
    chunk[10] ^= 1
    raw.putSync(chunkKey(token, 1), chunk)
    await raw.close()
    const again = await openAt(path)
    await expect(readAll(again.readRaw('F', 'f'))).rejects.toThrow(/F\/f.*SHA-256 digest mismatch/)
    await again.close()
  })

  it('refuses bad options and reports what it supports', () => {
    expect(() => new LmdbEngine('')).toThrow(InvalidPathError)
    expect(() => new LmdbEngine(42 as unknown as string)).toThrow(InvalidPathError)
    expect(() => new LmdbEngine('x.lmdb', { rawChunkSize: 0 })).toThrow(ArgumentError)
    expect(() => new LmdbEngine('x.lmdb', { mapSize: -1 })).toThrow(ArgumentError)
    expect(() => new LmdbEngine('x.lmdb', { mapSize: 1.5 })).toThrow(ArgumentError)
    expect(() => new LmdbEngine('x.lmdb', { onDamage: 1 as unknown as () => void })).toThrow(ArgumentError)
    const engine = new LmdbEngine('/some/where.lmdb')
    expect(engine.describe()).toBe('LmdbEngine(/some/where.lmdb)')
    expect(engine.supports).toEqual({ persistent: true, rawPaths: false, readableFiles: false, syncReads: true, syncRanges: true, snapshots: true })
  })
})
