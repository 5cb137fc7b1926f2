import { spawn } from 'node:child_process'
import { existsSync, readdirSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MemoryEngine } from '../../src/engine/memory/memory-engine.js'
import { Database } from '../../src/model/database.js'
import { DumpError } from '../../src/tools/errors.js'
import { restore, restoreToPath } from '../../src/tools/restore-store.js'
import { engineAt } from '../../src/tools/store-path.js'
import { buildForChildren } from '../helpers/child-build.js'
import { databaseEach, storeKinds, tempDir } from '../helpers/stores.js'
import { bytes } from '../../src/testing/helpers.js'
import { contentsOf, models, Person, Photo, populate } from './fixture.js'
import { Readable } from 'node:stream'

/** A stream that collects what is written, and runs `onFirst` before taking the first write. */
function collector(onFirst: () => Promise<void> | void): { out: Writable; text: () => string } {
  const parts: Buffer[] = []
  let first = true
  const out = new Writable({
    highWaterMark: 1,
    write(chunk: Buffer, _enc, done) {
      parts.push(chunk)
      if (!first) return done()
      first = false
      Promise.resolve(onFirst()).then(() => done(), done)
    },
  })
  return { out, text: () => Buffer.concat(parts).toString() }
}

for (const kind of storeKinds) {
  describe(`backup on ${kind.name}`, () => {
    const ctx = databaseEach(kind, models)

    it('is the store as it was when backup() was called, while the app writes on (or, without snapshots, writes wait for it)', async () => {
      await populate()
      const p0 = (await Person.index('email').one('p0@x.org'))!
      const p1 = (await Person.index('email').one('p1@x.org'))!
      await ctx.db.transaction(() => {
        p0.extra = 'before'
        p1.extra = 'before'
      })
      const snapshots = ctx.db.engine.supports.snapshots === true
      let write: Promise<void> | undefined
      let written = false
      const { out, text } = collector(async () => {
        // One atomic write of two objects and a link, made while the backup is under way.
        write = ctx.db
          .transaction(() => {
            p0.extra = 'during'
            p1.extra = 'during'
            p0.friends.add(p1)
          })
          .then(() => {
            written = true
          })
        // With a snapshot the backup waits for the write (its stream does), proving writes go on;
        // without one the write waits for the backup.
        if (snapshots) await write
      })
      const summary = await ctx.db.backup(out)
      const wroteDuringBackup = written
      await write
      expect(summary.consistency).toBe(snapshots ? 'snapshot' : 'writes-paused')
      expect(wroteDuringBackup).toBe(snapshots)
      expect(p0.extra).toBe('during')

      const target = new MemoryEngine()
      await target.open()
      await restore(() => Readable.from([text()]), target)
      await ctx.db.close()
      const db = await Database.open({ engine: target, models })
      try {
        const [a, b] = [(await Person.index('email').one('p0@x.org'))!, (await Person.index('email').one('p1@x.org'))!]
        expect([a.extra, b.extra]).toEqual(['before', 'before'])
        expect(a.friends.has(b.oid)).toBe(false)
        expect(await db.verify()).toMatchObject({ ok: true, objects: 23 })
      } finally {
        await db.close()
      }
    })

    it('taken while the app writes without pause, restores to exactly the store as it was at backup(); no write waits for it', async () => {
      expect(ctx.db.engine.supports.snapshots).toBe(true)
      await populate()
      const people = await Promise.all(Array.from({ length: 20 }, async (_, i) => (await Person.index('email').one(`p${i}@x.org`))!))
      // Records large enough that the dump is written in several pieces while people are read.
      await ctx.db.transaction(() => people.forEach((p, i) => (p.extra = `${i}`.repeat(30_000))))
      let writes = 0
      const waiting: Array<{ at: number; go: () => void }> = []
      const wrote = () => {
        writes++
        for (const w of waiting.filter((w) => w.at <= writes)) waiting.splice(waiting.indexOf(w), 1) && w.go()
      }
      // The backup's stream takes each piece only after 5 more writes landed: reads and writes interleave throughout.
      const out = new Writable({
        highWaterMark: 1,
        write(chunk: Buffer, _enc, done) {
          parts.push(chunk)
          waiting.push({ at: writes + 5, go: () => done() })
        },
      })
      const parts: Buffer[] = []
      let expected: unknown[] = []
      let backup: Promise<unknown> | undefined
      let backedUp = false
      const created: Person[] = []
      for (let i = 0; !backedUp; i++) {
        await ctx.db.transaction(() => {
          for (const p of people) p.extra = `write ${i}`
          people[i % people.length]!.friends.add(people[(i + 7) % people.length]!)
        })
        // Objects the backup has yet to read, removed: a record and one with raw data.
        if (i === 4) await people.pop()!.remove()
        if (i === 5) await (await Photo.index('width').one(100))!.remove()
        const fresh = new Person({ name: 'new', email: `new${i}@x.org` })
        await fresh.save()
        created.push(fresh)
        if (i % 3 === 0) await Photo.create(bytes(1000 + i, i), { width: i })
        if (i % 4 === 3) await created.shift()!.remove()
        wrote()
        if (i === 2) {
          expected = await contentsOf(ctx.db.engine)
          backup = ctx.db.backup(out).finally(() => (backedUp = true))
        }
      }
      expect(await backup).toMatchObject({ consistency: 'snapshot' })
      expect(writes).toBeGreaterThan(10)

      const target = new MemoryEngine()
      await target.open()
      await restore(() => Readable.from([Buffer.concat(parts)]), target)
      expect(await contentsOf(target)).toEqual(expected)
      await target.close()
    }, 60_000)

    it('writes to a file under a temporary name, renamed when complete, or into a directory', async () => {
      await populate(3)
      const dir = await tempDir()
      try {
        const summary = await ctx.db.backup(join(dir, 'b.jsonl'))
        expect(summary).toMatchObject({ file: join(dir, 'b.jsonl'), records: 6, raw: 3 })
        const named = await ctx.db.backup(dir)
        expect(named.file).toMatch(/stowage-backup-.*\.jsonl$/)
        expect(readdirSync(dir).sort()).toEqual(['b.jsonl', named.file!.slice(dir.length + 1)].sort())
        expect(await restoreToPath(named.file!, join(dir, 'restored'))).toMatchObject({ records: 6, raw: 3 })
        const made = await ctx.db.backup(join(dir, 'new', 'dir') + '/')
        expect(made.file).toMatch(new RegExp(`^${join(dir, 'new', 'dir')}/stowage-backup-.*\\.jsonl$`))
      } finally {
        await rm(dir, { recursive: true, force: true })
      }
    })
  })
}

describe('a backup killed by SIGKILL', () => {
  let dist = ''
  let cleanup = async () => {}
  beforeAll(async () => {
    ;({ dist, cleanup } = await buildForChildren('tools-backup'))
  }, 120_000)
  afterAll(() => cleanup())

  for (const kind of ['level', 'directory', 'lmdb'] as const) {
    it(`leaves no file that looks complete, and the store opens with the write made meanwhile (${kind})`, async () => {
      const dir = await tempDir()
      try {
        const file = join(dir, 'backup.jsonl')
        const store = join(dir, kind === 'lmdb' ? 'db.lmdb' : 'db')
        const child = spawn(process.execPath, [join(import.meta.dirname, 'crash', 'backup-child.mjs'), dist, kind, store, file], { stdio: ['ignore', 'pipe', 'pipe'] })
        let out = ''
        let stderr = ''
        child.stderr.on('data', (d) => (stderr += d))
        const exited = new Promise<void>((done) => child.on('close', () => done()))
        child.stdout.on('data', (d) => {
          out += d
          if (out.includes('B\n')) child.kill('SIGKILL')
        })
        await exited
        expect(stderr).toBe('')
        expect(out).not.toContain('D\n')
        expect(existsSync(file)).toBe(false)
        const partial = readdirSync(dir).filter((f) => f.startsWith('.backup.jsonl.partial-'))
        expect(partial).toHaveLength(1)
        const err = await restoreToPath(join(dir, partial[0]!), join(dir, 'restored')).catch((e) => e)
        expect(err).toBeInstanceOf(DumpError)
        expect(err.message).toMatch(/truncated|checksum/)
        expect(existsSync(join(dir, 'restored'))).toBe(false)
        // The store keeps the write made during the backup; a Directory store drops the snapshot's links at open.
        const snapshots = join(store, '.stowage', 'snapshots')
        if (kind === 'directory') expect(readdirSync(snapshots)).toHaveLength(1)
        const engine = engineAt(store, kind)
        await engine.open()
        try {
          expect(await engine.getRecord('files', 'f29')).toEqual({ n: 'after' })
          expect(existsSync(snapshots)).toBe(false)
        } finally {
          await engine.close()
        }
      } finally {
        await rm(dir, { recursive: true, force: true })
      }
    }, 60_000)
  }
})
