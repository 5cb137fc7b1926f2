import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ClassicLevel } from 'classic-level'
import { MemoryLevel } from 'memory-level'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { ArgumentError, ClosedError, CorruptionError, InvalidPathError, LockedError } from '../../src/errors.js'
import type { Engine } from '../../src/engine/engine.js'
import { LevelEngine } from '../../src/engine/level/level-engine.js'
import { chunkKey, pointerKey, recordKey, stagingKey } from '../../src/engine/level/level-keys.js'
import { decodeValue, encodeValue } from '../../src/engine/level/msgpack-codec.js'
import { engineConformance } from '../../src/testing/index.js'
import { bytes, collect, readAll } from '../../src/testing/helpers.js'

const root = mkdtempSync(join(tmpdir(), 'stowage-level-'))
afterAll(() => rmSync(root, { recursive: true, force: true }))
let n = 0
const freshPath = () => join(root, `db${n++}`)
const locations = new WeakMap<Engine, string>()

async function openAt(path: string): Promise<LevelEngine> {
  const engine = new LevelEngine(path)
  await engine.open()
  locations.set(engine, path)
  return engine
}

engineConformance({
  name: 'LevelEngine(path)',
  create: () => openAt(freshPath()),
  async reopen(engine) {
    await engine.close()
    return openAt(locations.get(engine)!)
  },
}, { describe, it, afterEach })

async function overClassic(path: string): Promise<LevelEngine> {
  const engine = new LevelEngine(new ClassicLevel(path))
  await engine.open()
  locations.set(engine, path)
  return engine
}

engineConformance({
  name: 'LevelEngine(user ClassicLevel)',
  create: () => overClassic(freshPath()),
  async reopen(engine) {
    await engine.close()
    return overClassic(locations.get(engine)!)
  },
}, { describe, it, afterEach })

engineConformance({
  name: 'LevelEngine(user MemoryLevel, view store)',
  async create() {
    // Other store and default encodings than the engine's own: it must still store binary values in code point order.
    const engine = new LevelEngine(new MemoryLevel({ storeEncoding: 'view', keyEncoding: 'json', valueEncoding: 'json' }) as any)
    await engine.open()
    return engine
  },
}, { describe, it, afterEach })

async function allKeys(path: string): Promise<string[]> {
  const db = new ClassicLevel(path)
  const keys = await db.keys().all()
  await db.close()
  return keys
}

describe('LevelEngine', () => {
  it('says which path is locked by another process', async () => {
    const path = freshPath()
    const child = spawn(
      process.execPath,
      ['--input-type=module', '-e', `import { ClassicLevel } from 'classic-level'; const db = new ClassicLevel(${JSON.stringify(path)}); await db.open(); console.log('ready'); process.stdin.on('data', () => {}); process.stdin.on('end', () => db.close())`],
      { cwd: process.cwd(), stdio: ['pipe', 'pipe', 'inherit'] },
    )
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout!.on('data', (d) => String(d).includes('ready') && resolve())
        child.on('exit', (code) => reject(new Error(`child exited with ${code}`)))
      })
      const engine = new LevelEngine(path)
      const err = (await engine.open().catch((e) => e)) as LockedError
      expect(err).toBeInstanceOf(LockedError)
      expect(err.code).toBe('LOCKED')
      expect(err.message).toContain(path)
      expect(err.message).toMatch(/another process/)
      expect(engine.status).toBe('closed')
    } finally {
      child.kill()
    }
  })

  it('says the path is locked when another engine in this process holds it', async () => {
    const path = freshPath()
    const first = await openAt(path)
    await expect(new LevelEngine(path).open()).rejects.toThrow(LockedError)
    await first.close()
    const second = await openAt(path)
    await second.close()
  })

  it('refuses a path that is a file with InvalidPathError', async () => {
    const file = join(root, 'a-file')
    writeFileSync(file, 'x')
    await expect(new LevelEngine(file).open()).rejects.toThrow(InvalidPathError)
    await expect(new LevelEngine(join(file, 'sub')).open()).rejects.toThrow(/a-file/)
  })

  it('creates missing parent directories', async () => {
    const engine = await openAt(join(freshPath(), 'deep', 'er'))
    await engine.put('k', 1)
    await engine.close()
  })

  it('throws CorruptionError naming the key for a garbled stored value', async () => {
    const path = freshPath()
    const engine = await openAt(path)
    await engine.putRecord('Account', 'a1', { name: 'Ann' })
    await engine.put('idx/name/ann', 'a1')
    await engine.close()
    const db = new ClassicLevel<string, Uint8Array>(path, { valueEncoding: 'view' })
    await db.put(recordKey('Account', 'a1'), Uint8Array.from([0x92, 0x01]))
    await db.put('eidx/name/ann', Uint8Array.from([0x01, 0x02, 0x03]))
    await db.close()
    const again = await openAt(path)
    await expect(again.getRecord('Account', 'a1')).rejects.toThrow(CorruptionError)
    await expect(again.getRecord('Account', 'a1')).rejects.toThrow(/Account\/a1/)
    // Streams skip a damaged record and report it (damaged()), so that it never stops the others.
    expect(await collect(again.records('Account'))).toEqual([])
    expect(again.damaged().map((d) => `${d.collection}/${d.id}`)).toEqual(['Account/a1'])
    await expect(again.get('idx/name/ann')).rejects.toThrow(/idx\/name\/ann/)
    await expect(again.getMany(['idx/name/ann'])).rejects.toThrow(CorruptionError)
    // Ids and keys still list without decoding.
    expect(await collect(again.recordIds('Account'))).toEqual(['a1'])
    expect(await again.countRecords('Account')).toBe(1)
    await again.close()
  })

  it('deletes the chunks of raw data a crashed process staged but never committed', async () => {
    const path = freshPath()
    const engine = await openAt(path)
    const kept = bytes(600_000, 4)
    await engine.batch([{ type: 'putRaw', collection: 'F', id: 'kept', staged: await engine.stageRaw('F', 'kept', [kept]) }])
    await engine.close()
    const committedKeys = await allKeys(path)
    // What a process killed mid-stageRaw leaves: a staging marker and some chunks.
    const db = new ClassicLevel<string, Uint8Array>(path, { valueEncoding: 'view' })
    const token = 'deadbeefdeadbeefdeadbeef'
    await db.put(stagingKey(token), encodeValue({ token, size: -1, sha256: '', chunkSize: 262144 }, 'marker'))
    for (let i = 0; i < 3; i++) await db.put(chunkKey(token, i), bytes(262144, i + 10))
    await db.close()
    expect((await allKeys(path)).length).toBe(committedKeys.length + 4)
    const again = await openAt(path)
    await again.close()
    expect(await allKeys(path)).toEqual(committedKeys)
    const third = await openAt(path)
    expect(Buffer.compare(await readAll(third.readRaw('F', 'kept')), kept)).toBe(0)
    await third.close()
  })

  it('leaves staged uploads alone on a database it does not hold alone (another process may be uploading)', async () => {
    const shared = new MemoryLevel<string, Uint8Array>({ valueEncoding: 'view' })
    await shared.open()
    const token = 'feedfacefeedfacefeedface'
    await shared.put(stagingKey(token), encodeValue({ token, size: -1, sha256: '', chunkSize: 262144 }, 'marker'))
    await shared.put(chunkKey(token, 0), bytes(1000, 5))
    const engine = new LevelEngine(shared)
    await engine.open()
    expect(await shared.get(stagingKey(token))).toBeDefined()
    expect(await shared.get(chunkKey(token, 0))).toBeDefined()
    await engine.close()
  })

  it('checks raw data against its SHA-256 while streaming it: every chunk comes, then CorruptionError', async () => {
    const path = freshPath()
    const engine = await openAt(path)
    const data = bytes(600_000, 3)
    for (const id of ['flipped', 'short', 'intact']) {
      await engine.batch([{ type: 'putRaw', collection: 'F', id, staged: await engine.stageRaw('F', id, [data]) }])
    }
    await engine.close()
    const db = new ClassicLevel<string, Uint8Array>(path, { valueEncoding: 'view' })
    const tokens = new Map<string, string>()
    for (const id of ['flipped', 'short']) {
      const pointer = await db.get(pointerKey('F', id))
      tokens.set(id, (decodeValue(pointer!, id) as { token: string }).token)
    }
    const last = chunkKey(tokens.get('flipped')!, 2)
    const flipped = Buffer.from((await db.get(last))!)
    flipped[100] ^= 1
    await db.put(last, flipped)
    await db.put(chunkKey(tokens.get('short')!, 2), Uint8Array.from([1, 2, 3]))
    await db.close()

    const again = await openAt(path)
    const chunks: Uint8Array[] = []
    const digest = await (async () => {
      for await (const c of again.readRaw('F', 'flipped', { chunkSize: 262_144 })) chunks.push(c)
    })().catch((x) => x)
    expect(chunks.length).toBe(3)
    expect(digest).toBeInstanceOf(CorruptionError)
    expect(digest.message).toMatch(/F\/flipped.*SHA-256 digest mismatch/)
    await expect(readAll(again.readRaw('F', 'short'))).rejects.toThrow(/F\/short is corrupt: expected 600000 bytes/)
    expect(Buffer.compare(await readAll(again.readRaw('F', 'intact')), data)).toBe(0)
    await again.close()
  })

  it('leaves no key behind when a source throws, and deletes replaced and discarded chunks', async () => {
    const path = freshPath()
    const engine = await openAt(path)
    await engine.close()
    const empty = await allKeys(path)
    const again = await openAt(path)
    async function* failing() {
      yield bytes(700_000)
      throw new Error('boom')
    }
    await expect(again.stageRaw('F', 'x', failing())).rejects.toThrow('boom')
    await again.discardRaw(await again.stageRaw('F', 'y', [bytes(300_000)]))
    await again.batch([{ type: 'putRaw', collection: 'F', id: 'z', staged: await again.stageRaw('F', 'z', [bytes(600_000)]) }])
    await again.batch([{ type: 'putRaw', collection: 'F', id: 'z', staged: await again.stageRaw('F', 'z', [bytes(10)]) }])
    await again.close()
    // One pointer and one chunk left besides the bookkeeping.
    expect((await allKeys(path)).length).toBe(empty.length + 2)
    const third = await openAt(path)
    await third.batch([{ type: 'delRaw', collection: 'F', id: 'z' }])
    await third.close()
    expect(await allKeys(path)).toEqual(empty)
  })

  it('stores raw data in chunks of the configured size', async () => {
    const path = freshPath()
    const engine = new LevelEngine(path, { rawChunkSize: 64 * 1024 })
    await engine.open()
    const data = bytes(64 * 1024 * 3 + 5)
    await engine.batch([{ type: 'putRaw', collection: 'F', id: 'x', staged: await engine.stageRaw('F', 'x', [data]) }])
    expect(Buffer.compare(await readAll(engine.readRaw('F', 'x', { chunkSize: 1 << 20 })), data)).toBe(0)
    expect((await collect(engine.readRaw('F', 'x', { chunkSize: 1 << 20 }))).map((c) => c.length)).toEqual([65536, 65536, 65536, 5])
    await engine.close()
  })

  it('fails an iteration with ClosedError when the engine closes under it', async () => {
    const engine = await openAt(freshPath())
    await engine.batch(Array.from({ length: 100 }, (_, i) => ({ type: 'put' as const, key: `k${i}`, value: i })))
    const notStarted = engine.keys()
    const started = engine.entries()[Symbol.asyncIterator]()
    await started.next()
    await engine.close()
    await expect(collect(notStarted)).rejects.toThrow(ClosedError)
    await expect((async () => { for (;;) if ((await started.next()).done) break })()).rejects.toThrow(ClosedError)
  })

  it('reads synchronously where the database can (classic-level, memory-level, their sublevels): ClosedError once the database is closed under it', async () => {
    const classic = await openAt(freshPath())
    expect(classic.supports.syncReads).toBe(true)
    expect(classic.supports.syncRanges).toBeFalsy()
    expect(classic.supports.backgroundReads).toBe(true) // getMany on the thread pool
    await classic.close()
    const root = new MemoryLevel({ storeEncoding: 'buffer' })
    const engine = new LevelEngine(root.sublevel('stowage', { valueEncoding: 'buffer' }))
    await engine.open()
    expect(engine.supports.syncReads).toBe(true)
    expect(engine.supports.backgroundReads).toBe(false) // memory-level reads on the main thread
    await engine.batch([
      { type: 'put', key: 'k', value: [1] },
      { type: 'putRecord', collection: 'C', id: 'x', value: { n: 1 } },
    ])
    expect(engine.getSync('k')).toEqual([1])
    expect(engine.getRecordSync('C', 'x')).toEqual({ n: 1 })
    await root.close() // behind the engine's back: the engine still counts itself open
    expect(() => engine.getSync('k')).toThrow(ClosedError)
    expect(() => engine.getRecordSync('C', 'x')).toThrow(ClosedError)
    await engine.close()
  })

  it('takes a block cache size where it opens LevelDB itself, and refuses a bad one with ArgumentError', async () => {
    const engine = new LevelEngine(freshPath(), { cacheSize: 1 << 20 })
    await engine.open()
    await engine.putRecord('C', 'x', { n: 1 })
    expect(engine.getRecordSync('C', 'x')).toEqual({ n: 1 })
    await engine.close()
    for (const cacheSize of [-1, 1.5, 2 ** 32, NaN]) expect(() => new LevelEngine(freshPath(), { cacheSize })).toThrow(ArgumentError)
    expect(() => new LevelEngine(new MemoryLevel(), { cacheSize: 1 << 20 })).toThrow(ArgumentError)
  })

  it('holds nothing until opened: an engine never opened leaves the path to another, and creates no directory', async () => {
    const path = freshPath()
    const idle = new LevelEngine(path)
    await new Promise((r) => setImmediate(r))
    expect(existsSync(path)).toBe(false)
    const other = await openAt(path)
    await other.putRecord('C', 'x', { n: 1 })
    await other.close()
    await idle.open()
    expect(idle.getRecordSync('C', 'x')).toEqual({ n: 1 })
    await idle.close()
  })

  it('refuses a database that cannot store binary values', () => {
    expect(() => new LevelEngine(new MemoryLevel({ storeEncoding: 'utf8' }))).toThrow(/binary/)
  })

  it('reports persistence from the database it wraps', () => {
    expect(new LevelEngine(freshPath()).supports.persistent).toBe(true)
    expect(new LevelEngine(new MemoryLevel()).supports.persistent).toBe(false)
    expect(new LevelEngine('/some/where').describe()).toBe('LevelEngine(/some/where)')
  })
})
