import { createHash } from 'node:crypto'
import { closeSync, existsSync, fstatSync, openSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ClassicLevel } from 'classic-level'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { DirectoryEngine } from '../../src/engine/directory/directory-engine.js'
import { CorruptionError, InvalidKeyError, InvalidPathError, StowageError } from '../../src/errors.js'

const base = mkdtempSync(join(tmpdir(), 'stowage-dirfiles-'))
afterAll(() => rmSync(base, { recursive: true, force: true }))
let n = 0
const opened: DirectoryEngine[] = []
afterEach(async () => {
  await Promise.all(opened.splice(0).map((e) => e.close()))
})

async function open(root = join(base, `r${n++}`)): Promise<DirectoryEngine> {
  const e = new DirectoryEngine(root)
  await e.open()
  opened.push(e)
  return e
}

async function reopen(e: DirectoryEngine): Promise<DirectoryEngine> {
  await e.close()
  return open(e.root)
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = []
  for await (const x of it) out.push(x)
  return out
}

async function readAll(it: AsyncIterable<Uint8Array>): Promise<Buffer> {
  return Buffer.concat(await collect(it))
}

/** Non-dot file names of a directory, sorted. */
function files(dir: string): string[] {
  return readdirSync(dir).sort()
}

describe('DirectoryEngine files on disk', () => {
  it('writes one pretty, readable JSON file per record, with tags for what JSON lacks', async () => {
    const e = await open()
    await e.putRecord('Account', 'acc1', {
      name: 'Ann',
      born: new Date('2001-02-03T04:05:06.789Z'),
      avatar: new Uint8Array([1, 2, 3]),
      big: 2n ** 70n,
      nz: -0,
      $price: 3,
      fake: { $date: 'not a date' },
    })
    const path = join(e.root, 'Account', 'acc1.json')
    const text = readFileSync(path, 'utf8')
    expect(text).toBe(
      [
        '{',
        '  "name": "Ann",',
        '  "born": {',
        '    "$date": "2001-02-03T04:05:06.789Z"',
        '  },',
        '  "avatar": {',
        '    "$bytes": "AQID"',
        '  },',
        '  "big": {',
        '    "$bigint": "1180591620717411303424"',
        '  },',
        '  "nz": {',
        '    "$number": "-0"',
        '  },',
        '  "$$price": 3,',
        '  "fake": {',
        '    "$$date": "not a date"',
        '  }',
        '}',
        '',
      ].join('\n'),
    )
    const back = (await e.getRecord('Account', 'acc1')) as any
    expect(back.$price).toBe(3)
    // A user object shaped like a tag stays a user object.
    expect(back.fake).toEqual({ $date: 'not a date' })
    expect(back.born).toBeInstanceOf(Date)
    // Nothing but the record file (and the index directory) is in the root.
    expect(files(e.root)).toEqual(['.stowage', 'Account'])
    expect(files(join(e.root, 'Account'))).toEqual(['acc1.json'])
  })

  it('decodes hand-written files without prototype pollution, and refuses unknown tags', async () => {
    let e = await open()
    await e.putRecord('C', 'x', 1)
    e = await reopen(e)
    await e.close()
    writeFileSync(join(e.root, 'C', 'p.json'), '{"__proto__": {"polluted": true}, "constructor": {"prototype": {"bad": 1}}}')
    writeFileSync(join(e.root, 'C', 't.json'), '{"$weird": 1}')
    e = await open(e.root)
    const p = (await e.getRecord('C', 'p')) as any
    expect(Object.getPrototypeOf(p)).toBe(Object.prototype)
    expect(Object.getOwnPropertyDescriptor(p, '__proto__')?.value).toEqual({ polluted: true })
    expect(({} as any).polluted).toBeUndefined()
    expect(({} as any).bad).toBeUndefined()
    const err = (await e.getRecord('C', 't').catch((x) => x)) as CorruptionError
    expect(err).toBeInstanceOf(CorruptionError)
    expect(err.message).toContain(join(e.root, 'C', 't.json'))
    expect(err.message).toContain('$weird')
  })

  it('replaces a record file atomically: readers never see a partial file, no temp file stays', async () => {
    const e = await open()
    const path = join(e.root, 'Big', 'one.json')
    await e.putRecord('Big', 'one', { v: 0, pad: 'x'.repeat(200_000) })
    const oldFd = openSync(path, 'r') // holds the first version's inode
    let stop = false
    let reads = 0
    const reader = (async () => {
      while (!stop) {
        const v = JSON.parse(readFileSync(path, 'utf8')) // throws on a half-written file
        expect(v.pad.length).toBe(200_000)
        reads++
        await new Promise((r) => setImmediate(r))
      }
    })()
    for (let i = 1; i <= 30; i++) await e.putRecord('Big', 'one', { v: i, pad: 'x'.repeat(200_000) })
    stop = true
    await reader
    expect(reads).toBeGreaterThan(0)
    // Replaced by rename, never rewritten in place: the first version is intact behind the old fd.
    expect(JSON.parse(readFileSync(oldFd, 'utf8')).v).toBe(0)
    expect(fstatSync(oldFd).ino).not.toBe(statSync(path).ino)
    closeSync(oldFd)
    expect(((await e.getRecord('Big', 'one')) as any).v).toBe(30)
    expect(readdirSync(join(e.root, 'Big'))).toEqual(['one.json'])
  })

  it('serves a batch being applied consistently to readers in the same process', async () => {
    const e = await open()
    const N = 200
    await e.batch(Array.from({ length: N }, (_, i) => ({ type: 'putRecord' as const, collection: 'G', id: `r${i}`, value: { gen: 0 } })))
    let duringApply = 0
    for (let gen = 1; gen <= 3; gen++) {
      let done = false
      const write = e
        .batch([
          { type: 'put', key: 'gen', value: gen },
          ...Array.from({ length: N }, (_, i) => ({ type: 'putRecord' as const, collection: 'G', id: `r${i}`, value: { gen } })),
        ])
        .then(() => (done = true))
      // Read while the batch is in flight: once `gen` says the batch committed, every record agrees.
      for (let k = 0; !done; k++) {
        const seen = ((await e.get('gen')) as number | undefined) ?? 0
        const r = (await e.getRecord('G', `r${(k * 37) % N}`)) as { gen: number }
        expect(r.gen).toBeGreaterThanOrEqual(seen)
        if (seen === gen && !done) duringApply++
      }
      await write
      const all = await collect(e.records('G'))
      expect(all.every(([, v]) => (v as any).gen === gen)).toBe(true)
    }
    expect(duringApply).toBeGreaterThan(0) // some reads did land between the commit and the file moves
  })

  it('replays a journal record left by a crash between the level commit and the file moves', async () => {
    let e = await open()
    await e.batch([
      { type: 'putRecord', collection: 'C', id: 'keep', value: { v: 1 } },
      { type: 'putRecord', collection: 'C', id: 'gone', value: { v: 1 } },
    ])
    const root = e.root
    await e.close()
    // Do by hand what a batch does up to its level commit, then "crash".
    const temp = join(root, 'C', '.stowage-tmp-crashed')
    writeFileSync(temp, JSON.stringify({ v: 2 }, null, 2) + '\n')
    const st = statSync(temp)
    const db = new ClassicLevel<string, string>(join(root, '.stowage', 'index'))
    await db.open()
    await db.batch([
      { type: 'put', key: 'eidx/2', value: 'null' },
      { type: 'put', key: 'mC\0keep', value: JSON.stringify({ s: st.size, t: st.mtimeMs }) },
      { type: 'del', key: 'mC\0gone' },
      { type: 'put', key: 'j0000000000000000', value: JSON.stringify({ renames: [['C/.stowage-tmp-crashed', 'C/keep.json']], unlinks: ['C/gone.json'], dirs: ['C'] }) },
    ])
    await db.close()
    e = await open(root)
    expect(await e.getRecord('C', 'keep')).toEqual({ v: 2 })
    expect(await e.getRecord('C', 'gone')).toBeUndefined()
    expect(await e.get('idx/2')).toBeNull()
    expect(files(join(root, 'C'))).toEqual(['keep.json'])
    expect(await e.countRecords('C')).toBe(1)
    expect(e.externalChanges()).toEqual([]) // the replayed files are the engine's own
    await e.close()
    // The journal record is gone: a second open changes nothing.
    const db2 = new ClassicLevel<string, string>(join(root, '.stowage', 'index'))
    await db2.open()
    expect(await db2.keys({ gte: 'j', lt: 'k' }).all()).toEqual([])
    await db2.close()
  })

  it('removes temp and staged files left by a crash at open, and keeps other dot files', async () => {
    let e = await open()
    await e.putRecord('C', 'x', 1)
    const staged = await e.stageRaw('C', 'y', [new Uint8Array(10)])
    expect(readdirSync(join(e.root, 'C')).some((f) => f.startsWith('.stowage-stage-'))).toBe(true)
    await e.close()
    // close() drops uncommitted staged data
    expect(readdirSync(join(e.root, 'C')).some((f) => f.startsWith('.stowage-stage-'))).toBe(false)
    writeFileSync(join(e.root, 'C', '.stowage-stage-0123'), 'half')
    writeFileSync(join(e.root, 'C', '.stowage-tmp-4567'), '{"half": ')
    writeFileSync(join(e.root, 'C', '.gitkeep'), '')
    e = await open(e.root)
    expect(readdirSync(join(e.root, 'C')).sort()).toEqual(['.gitkeep', 'x.json'])
    expect(e.externalChanges()).toEqual([])
    await expect(e.batch([{ type: 'putRaw', collection: 'C', id: 'y', staged }])).rejects.toThrow(StowageError)
  })

  it('detects files added, changed and removed by hand while closed, and reports nothing of its own writes', async () => {
    let e = await open()
    await e.batch([
      ...['a', 'b', 'c', 'd'].map((id) => ({ type: 'putRecord' as const, collection: 'Note', id, value: { id } })),
      { type: 'putRecord', collection: 'Gone', id: 'z', value: 1 },
      { type: 'putRecord', collection: 'Gone', id: 'y', value: 1 },
    ])
    for (let i = 0; i < 5; i++) await e.putRecord('Note', 'a', { id: 'a', i })
    await e.delRecord('Note', 'd')
    e = await reopen(e)
    expect(e.externalChanges()).toEqual([])
    await e.close()
    const dir = join(e.root, 'Note')
    writeFileSync(join(dir, 'b.json'), '{"id": "b", "edited": true}\n')
    unlinkSync(join(dir, 'c.json'))
    writeFileSync(join(dir, 'new.json'), '{"id": "new"}\n')
    writeFileSync(join(dir, 'readme.txt'), 'not a record')
    mkdirSync(join(e.root, 'Fresh'))
    writeFileSync(join(e.root, 'Fresh', 'f1.json'), '1')
    rmSync(join(e.root, 'Gone'), { recursive: true })
    e = await open(e.root)
    expect(e.externalChanges()).toEqual([
      { collection: 'Fresh', id: 'f1', kind: 'added' },
      { collection: 'Gone', id: 'y', kind: 'removed' },
      { collection: 'Gone', id: 'z', kind: 'removed' },
      { collection: 'Note', id: 'b', kind: 'changed' },
      { collection: 'Note', id: 'c', kind: 'removed' },
      { collection: 'Note', id: 'new', kind: 'added' },
    ])
    expect(await collect(e.recordIds('Note'))).toEqual(['a', 'b', 'new'])
    expect(await e.countRecords('Note')).toBe(3)
    expect(await e.countRecords('Gone')).toBe(0)
    expect(await e.countRecords('Fresh')).toBe(1)
    expect(await e.getRecord('Note', 'b')).toEqual({ id: 'b', edited: true })
    expect(await e.hasRecord('Note', 'c')).toBe(false)
    expect(await e.getRecord('Fresh', 'f1')).toBe(1)
    // Until acknowledged, the changes are reported again at every open (a crash loses none)...
    const reported = e.externalChanges()
    e = await reopen(e)
    expect(e.externalChanges()).toEqual(reported)
    // ...and once acknowledged, never again: the manifest is up to date.
    await e.acknowledgeExternalChanges()
    expect(e.externalChanges()).toEqual([])
    e = await reopen(e)
    expect(e.externalChanges()).toEqual([])
  })

  it('detects an edit that keeps the size (mtime differs)', async () => {
    let e = await open()
    await e.putRecord('C', 'x', { v: 1 })
    await e.close()
    const path = join(e.root, 'C', 'x.json')
    const before = statSync(path).mtimeMs
    const text = readFileSync(path, 'utf8').replace('1', '2')
    await new Promise((r) => setTimeout(r, 20))
    writeFileSync(path, text)
    expect(statSync(path).mtimeMs).not.toBe(before)
    e = await open(e.root)
    expect(e.externalChanges()).toEqual([{ collection: 'C', id: 'x', kind: 'changed' }])
    expect(await e.getRecord('C', 'x')).toEqual({ v: 2 })
  })

  it('detects an edit that restores size and mtime (cp -p, rsync -t): the ctime moves', async () => {
    let e = await open()
    await e.putRecord('C', 'x', { v: 1 })
    await e.putRecord('C', 'y', { v: 1 })
    await e.close()
    e = await open(e.root)
    expect(e.externalChanges()).toEqual([]) // its own writes are not changes
    await e.close()
    // A whole-second mtime, which utimes can restore exactly (the store's own files have ns ones).
    const path = join(e.root, 'C', 'x.json')
    utimesSync(path, 1_700_000_000, 1_700_000_000)
    e = await open(e.root)
    await e.acknowledgeExternalChanges()
    await e.close()
    const { size, mtimeMs } = statSync(path)
    await new Promise((r) => setTimeout(r, 20))
    writeFileSync(path, readFileSync(path, 'utf8').replace('1', '3'))
    utimesSync(path, 1_700_000_000, 1_700_000_000)
    expect([statSync(path).size, statSync(path).mtimeMs]).toEqual([size, mtimeMs])
    e = await open(e.root)
    expect(e.externalChanges()).toEqual([{ collection: 'C', id: 'x', kind: 'changed' }])
    expect(await e.getRecord('C', 'x')).toEqual({ v: 3 })
  })

  it('throws CorruptionError naming a truncated or garbled file from its own read; every other record stays readable', async () => {
    let e = await open()
    await e.batch(['a', 'b', 'c', 'd'].map((id) => ({ type: 'putRecord' as const, collection: 'C', id, value: { id, pad: 'x'.repeat(100) } })))
    await e.close()
    const bad = join(e.root, 'C', 'b.json')
    truncateSync(bad, 20)
    writeFileSync(join(e.root, 'C', 'd.json'), '{"$bytes": 12}')
    e = await open(e.root)
    const err = (await e.getRecord('C', 'b').catch((x) => x)) as CorruptionError
    expect(err).toBeInstanceOf(CorruptionError)
    expect(err.code).toBe('CORRUPTION')
    expect(err.message).toContain(bad)
    await expect(e.getRecord('C', 'd')).rejects.toThrow(/d\.json.*malformed \$bytes/)
    expect(await e.getRecord('C', 'a')).toEqual({ id: 'a', pad: 'x'.repeat(100) })
    expect(await e.getRecord('C', 'c')).toEqual({ id: 'c', pad: 'x'.repeat(100) })
    expect(await e.countRecords('C')).toBe(4)
    // records() skips the bad ones, which are reported (never skipped silently: see directory-damage.test.ts).
    expect((await collect(e.records('C'))).map(([id]) => id)).toEqual(['a', 'c'])
    expect(e.damaged().map((d) => d.id)).toEqual(['b', 'd'])
    expect(e.damaged()[0]!.reason).toContain(bad)
    expect(await collect(e.records('C', { gt: 'b', lt: 'd' }))).toEqual([['c', { id: 'c', pad: 'x'.repeat(100) }]])
    // Overwriting the bad record repairs it.
    await e.putRecord('C', 'b', { id: 'b' })
    expect(await e.getRecord('C', 'b')).toEqual({ id: 'b' })
    expect(e.damaged().map((d) => d.id)).toEqual(['d'])
  })

  it('throws CorruptionError for a record file deleted while the store is open', async () => {
    const e = await open()
    await e.putRecord('C', 'x', 1)
    unlinkSync(join(e.root, 'C', 'x.json'))
    await expect(e.getRecord('C', 'x')).rejects.toThrow(CorruptionError)
    await expect(e.getRecord('C', 'x')).rejects.toThrow(/x\.json.*missing/)
  })
})

describe('DirectoryEngine raw files', () => {
  const data = Buffer.alloc(300_000, 7)
  data.write('header', 0)
  const sha = createHash('sha256').update(data).digest('hex')

  it('stores raw data as a plain file named after the id and the extension hint', async () => {
    const e = await open()
    const staged = await e.stageRaw('Image', 'i1', [data], { extension: 'PNG' })
    expect(staged.sha256).toBe(sha)
    expect(e.rawPath('Image', 'i1')).toBeUndefined()
    await e.batch([{ type: 'putRaw', collection: 'Image', id: 'i1', staged }])
    const path = e.rawPath('Image', 'i1')!
    expect(path).toBe(join(e.root, 'Image', 'i1.png'))
    expect(readFileSync(path).equals(data)).toBe(true)
    expect(files(join(e.root, 'Image'))).toEqual(['i1.png'])
    // Replacing with another extension removes the old file; default extension is bin.
    await e.batch([{ type: 'putRaw', collection: 'Image', id: 'i1', staged: await e.stageRaw('Image', 'i1', [data]) }])
    expect(files(join(e.root, 'Image'))).toEqual(['i1.bin'])
    // A json hint never collides with the record file of the same id.
    await e.batch([
      { type: 'putRaw', collection: 'Image', id: 'i1', staged: await e.stageRaw('Image', 'i1', [data], { extension: '.json' }) },
      { type: 'putRecord', collection: 'Image', id: 'i1', value: { format: 'json' } },
    ])
    expect(files(join(e.root, 'Image'))).toEqual(['i1.json', 'i1.json-data'])
    const again = await reopen(e)
    expect(again.rawPath('Image', 'i1')).toBe(join(e.root, 'Image', 'i1.json-data'))
    expect((await readAll(again.readRaw('Image', 'i1'))).equals(data)).toBe(true)
    expect(again.externalChanges()).toEqual([])
    await again.batch([{ type: 'delRaw', collection: 'Image', id: 'i1' }])
    expect(files(join(e.root, 'Image'))).toEqual(['i1.json'])
    expect(again.rawPath('Image', 'i1')).toBeUndefined()
  })

  it('streams staged data to disk without holding it, and checks size and digest on read', async () => {
    let e = await open()
    await e.batch([
      { type: 'putRaw', collection: 'F', id: 'short', staged: await e.stageRaw('F', 'short', [data]) },
      { type: 'putRaw', collection: 'F', id: 'flipped', staged: await e.stageRaw('F', 'flipped', [data]) },
      { type: 'putRaw', collection: 'F', id: 'deleted', staged: await e.stageRaw('F', 'deleted', [data]) },
    ])
    await e.close()
    truncateSync(join(e.root, 'F', 'short.bin'), 1000)
    const flipped = Buffer.from(data)
    flipped[299_999] ^= 1
    writeFileSync(join(e.root, 'F', 'flipped.bin'), flipped)
    unlinkSync(join(e.root, 'F', 'deleted.bin'))
    e = await open(e.root)
    const size = await readAll(e.readRaw('F', 'short')).catch((x) => x)
    expect(size).toBeInstanceOf(CorruptionError)
    expect(size.message).toContain(join(e.root, 'F', 'short.bin'))
    expect(size.message).toMatch(/size mismatch/)
    // The digest is checked while streaming: every chunk comes, then the error.
    const chunks: Uint8Array[] = []
    const digest = await (async () => {
      for await (const c of e.readRaw('F', 'flipped', { chunkSize: 100_000 })) chunks.push(c)
    })().catch((x) => x)
    expect(chunks.length).toBe(3)
    expect(digest).toBeInstanceOf(CorruptionError)
    expect(digest.message).toContain(join(e.root, 'F', 'flipped.bin'))
    expect(digest.message).toMatch(/digest mismatch/)
    await expect(readAll(e.readRaw('F', 'deleted'))).rejects.toThrow(/deleted\.bin is missing/)
  })

  it('keeps an old raw file readable by a reader that opened it before a replacement', async () => {
    const e = await open()
    await e.batch([{ type: 'putRaw', collection: 'F', id: 'x', staged: await e.stageRaw('F', 'x', [data]) }])
    const it = e.readRaw('F', 'x', { chunkSize: 1000 })[Symbol.asyncIterator]()
    const first = await it.next()
    const next = Buffer.alloc(5000, 1)
    await e.batch([{ type: 'putRaw', collection: 'F', id: 'x', staged: await e.stageRaw('F', 'x', [next]) }])
    const rest: Uint8Array[] = [first.value]
    for (let r = await it.next(); !r.done; r = await it.next()) rest.push(r.value)
    expect(Buffer.concat(rest).equals(data)).toBe(true)
    expect((await readAll(e.readRaw('F', 'x'))).equals(next)).toBe(true)
  })
})

describe('DirectoryEngine ids on case-insensitive file systems', () => {
  it('refuses a new id whose file a case-insensitive file system would confuse with a stored one', async () => {
    const e = await open()
    await e.putRecord('P', 'ann', { v: 1 })
    await e.putRecord('P', 'Bob', { v: 2 })
    const refused = [
      ['P', 'Ann'], // upper-case variant of a lower-case id
      ['P', 'bob'], // lower-case variant of a mixed-case id
      ['P', 'BOB'],
    ] as const
    for (const [collection, id] of refused) {
      const err = (await e.putRecord(collection, id, { v: 9 }).catch((x) => x)) as InvalidKeyError
      expect(err).toBeInstanceOf(InvalidKeyError)
      expect(err.message).toMatch(/only in letter case/)
    }
    // Nothing of a refused batch is written, and two such ids in one batch are refused too.
    await expect(
      e.batch([
        { type: 'putRecord', collection: 'P', id: 'carl', value: 1 },
        { type: 'putRecord', collection: 'P', id: 'Carl', value: 2 },
      ]),
    ).rejects.toThrow(InvalidKeyError)
    expect(await e.getRecord('P', 'carl')).toBeUndefined()
    // NFC and NFD spellings of one name are one file on macOS.
    await e.putRecord('P', 'caf\u00e9', { v: 3 })
    await expect(e.putRecord('P', 'cafe\u0301', { v: 4 })).rejects.toThrow(/Unicode normalization/)
    // Stored ids keep working; other collections are separate; a removed id frees its name.
    await e.putRecord('P', 'Bob', { v: 5 })
    await e.putRecord('Q', 'Ann', { v: 6 })
    expect(files(join(e.root, 'P'))).toEqual(['Bob.json', 'ann.json', 'caf\u00e9.json'].sort())

    const again = await reopen(e) // the stored ids are known again after reopening
    await expect(again.putRecord('P', 'bOB', { v: 7 })).rejects.toThrow(InvalidKeyError)
    await again.delRecord('P', 'Bob')
    await again.putRecord('P', 'bob', { v: 8 })
    expect(await again.getRecord('P', 'bob')).toEqual({ v: 8 })
    expect(await again.getRecord('P', 'ann')).toEqual({ v: 1 })
    // Collections are directories: the same rule.
    await expect(again.putRecord('p', 'x', { v: 9 })).rejects.toThrow(/Collection "p" differs from the stored "P"/)
    await expect(
      again.batch([
        { type: 'putRecord', collection: 'Notes', id: 'a', value: 1 },
        { type: 'putRecord', collection: 'NOTES', id: 'b', value: 2 },
      ]),
    ).rejects.toThrow(InvalidKeyError)
  })

  it('checks raw data file names the same way', async () => {
    const e = await open()
    await e.batch([{ type: 'putRaw', collection: 'F', id: 'Pic', staged: await e.stageRaw('F', 'Pic', [new Uint8Array([1])]) }])
    const staged = await e.stageRaw('F', 'pic', [new Uint8Array([2])])
    await expect(e.batch([{ type: 'putRaw', collection: 'F', id: 'pic', staged }])).rejects.toThrow(InvalidKeyError)
    const again = await reopen(e)
    const staged2 = await again.stageRaw('F', 'PIC', [new Uint8Array([3])])
    await expect(again.batch([{ type: 'putRaw', collection: 'F', id: 'PIC', staged: staged2 }])).rejects.toThrow(InvalidKeyError)
    expect([...(await readAll(again.readRaw('F', 'Pic')))]).toEqual([1])
  })
})

describe('DirectoryEngine paths', () => {
  it('refuses a root that is a file with InvalidPathError naming it', async () => {
    const file = join(base, `file-${n++}`)
    writeFileSync(file, 'not a directory')
    const e = new DirectoryEngine(file)
    const err = await e.open().catch((x) => x)
    expect(err).toBeInstanceOf(InvalidPathError)
    expect(err.code).toBe('INVALID_PATH')
    expect(err.message).toContain(file)
    expect(e.status).toBe('closed')
    expect(readFileSync(file, 'utf8')).toBe('not a directory')
  })

  it('creates a missing root, and writes nothing outside it for hostile names', async () => {
    const sandbox = join(base, `sandbox-${n++}`)
    const e = await open(join(sandbox, 'deep', 'root'))
    const hostile = ['..', '../x', '../../escape', '/tmp/abs', 'a/../../b', '..\\x', 'C:\\x', '.stowage', 'x\0y']
    for (const name of hostile) {
      await expect(e.putRecord(name, 'id', 1)).rejects.toThrow(InvalidKeyError)
      await expect(e.putRecord('C', name, 1)).rejects.toThrow(InvalidKeyError)
      await expect(e.stageRaw(name, 'id', [new Uint8Array(1)])).rejects.toThrow(InvalidKeyError)
      await expect(e.stageRaw('C', name, [new Uint8Array(1)])).rejects.toThrow(InvalidKeyError)
    }
    // A name that fits checkName but not a file name (over 255 bytes in UTF-8) is refused too.
    await expect(e.putRecord('C', 'é'.repeat(150), 1)).rejects.toThrow(InvalidKeyError)
    // Deleting what does not exist creates no directory either.
    await e.batch([
      { type: 'delRecord', collection: 'Nope', id: 'x' },
      { type: 'delRaw', collection: 'Nope2', id: 'x' },
    ])
    expect(readdirSync(sandbox)).toEqual(['deep'])
    expect(readdirSync(join(sandbox, 'deep'))).toEqual(['root'])
    expect(readdirSync(e.root)).toEqual(['.stowage'])
    expect(existsSync(join(base, 'x'))).toBe(false)
  })
})
