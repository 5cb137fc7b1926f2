import { existsSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { Database } from '../../src/model/database.js'
import { MemoryEngine } from '../../src/engine/memory/memory-engine.js'
import { DumpError, NotEmptyError } from '../../src/tools/errors.js'
import { dumpToFile } from '../../src/tools/dump.js'
import { restore, restoreToPath } from '../../src/tools/restore-store.js'
import { engineAt, ENGINE_KINDS, type EngineKind } from '../../src/tools/store-path.js'
import { databaseEach, storeKinds, tempDir } from '../helpers/stores.js'
import { parseLine, readLines, reseal, writeLines } from './dump-helpers.js'
import { contentsOf, models, Person, Photo, populate } from './fixture.js'

const storePath = (dir: string, kind: EngineKind) => join(dir, kind === 'lmdb' ? 'copy.lmdb' : 'copy')

for (const kind of storeKinds) {
  describe(`dump and restore from ${kind.name}`, () => {
    const ctx = databaseEach(kind, models)

    it('restores a dump into every engine: records, update times, links, raw data, and indexes rebuilt at first use', async () => {
      await populate()
      const dir = await tempDir()
      try {
        const file = join(dir, 'dump.jsonl')
        const summary = await dumpToFile(ctx.db.engine, file)
        expect(summary).toMatchObject({ records: 23, raw: 3, rawBytes: 270_001 })
        expect(summary.entries).toBeGreaterThan(40)
        const expected = await contentsOf(ctx.db.engine)
        const friendsOf19 = (await (await Person.index('email').one('p19@x.org'))!.friends.get()).map((f) => f.email)
        await ctx.db.close()
        for (const target of ENGINE_KINDS) {
          const path = storePath(dir, target)
          expect(await restoreToPath(file, path, { engine: target })).toEqual({ records: 23, entries: summary.entries, raw: 3, rawBytes: 270_001 })
          const engine = engineAt(path, target)
          await engine.open()
          expect(await contentsOf(engine)).toEqual(expected)
          const db = await Database.open({ engine, models })
          try {
            expect(await Person.index('name').count('P1')).toBe(3)
            const p19 = (await Person.index('email').one('p19@x.org'))!
            expect(p19.born).toEqual(new Date(Date.UTC(1980, 0, 20)))
            expect((await p19.friends.get()).map((f) => f.email)).toEqual(friendsOf19)
            expect((await p19.boss.one())!.email).toBe('p0@x.org')
            const photo = await Photo.index('width').one(640)
            expect(photo!.size).toBe(200_000)
            expect((await photo!.loadData()).length).toBe(200_000)
          } finally {
            await db.close()
          }
          await rm(path, { recursive: true, force: true })
        }
      } finally {
        await rm(dir, { recursive: true, force: true })
      }
    })

    it('refuses a truncated or tampered dump with the line of the fault, and leaves no new store behind', async () => {
      await populate(5)
      const dir = await tempDir()
      try {
        const file = join(dir, 'dump.jsonl')
        await dumpToFile(ctx.db.engine, file)
        const lines = await readLines(file)
        const target = join(dir, 'restored')
        const refused = async (changed: string[], line: number, message: RegExp) => {
          await writeLines(join(dir, 'bad.jsonl'), changed)
          const err = await restoreToPath(join(dir, 'bad.jsonl'), target).catch((e) => e)
          expect(err).toBeInstanceOf(DumpError)
          expect(err.code).toBe('DUMP_INVALID')
          expect(err.line).toBe(line)
          expect(err.message).toMatch(message)
          expect(existsSync(target)).toBe(false)
        }
        // Cut at a line end (no trailer), and inside a line.
        await refused(lines.slice(0, 8), 9, /truncated/)
        await refused([...lines.slice(0, 7), lines[7]!.slice(0, 30)], 8, /checksum/)
        // One character of a record changed.
        const i = lines.findIndex((l) => l.includes('"t":"record"'))
        await refused(lines.map((l, n) => (n === i ? l.replace('p0@x.org', 'p9@x.org') : l)), i + 1, /does not match its checksum/)
        // A line dropped, with every checksum made right again: the trailer finds it.
        await refused(reseal(lines.filter((_, n) => n !== i)), lines.length - 1, /trailer counts/)
        // A chunk of raw data changed by someone who resealed the lines: the data's own SHA-256 finds it.
        const chunk = lines.findIndex((l) => l.includes('"t":"chunk"'))
        const edited = lines.map((l, n) => (n === chunk ? JSON.stringify({ ...parseLine(l), d: Buffer.from('garbage!').toString('base64') }) : l))
        const end = lines.findIndex((l, n) => n > chunk && l.includes('"t":"rawEnd"'))
        await refused(reseal(edited), end + 1, /does not match its recorded size and SHA-256/)
        // Not a dump at all, and a newer version.
        await refused(['{"hello":1}'], 1, /checksum/)
        await refused(reseal([JSON.stringify({ ...parseLine(lines[0]!), version: 2 }), ...lines.slice(1)]), 1, /version 2 is not supported/)
      } finally {
        await rm(dir, { recursive: true, force: true })
      }
    })

    it('refuses to restore into a store holding data unless merge is given, and writes nothing from a bad dump even then', async () => {
      await populate(5)
      const dir = await tempDir()
      const target = new MemoryEngine()
      await target.open()
      try {
        const file = join(dir, 'dump.jsonl')
        await dumpToFile(ctx.db.engine, file)
        await target.putRecord('other', 'x1', { kept: true })
        await expect(restore(file, target)).rejects.toThrow(NotEmptyError)
        const lines = await readLines(file)
        await writeLines(join(dir, 'bad.jsonl'), lines.slice(0, -1))
        await expect(restore(join(dir, 'bad.jsonl'), target, { merge: true })).rejects.toThrow(DumpError)
        expect((await contentsOf(target)).length).toBe(1)
        await restore(file, target, { merge: true })
        expect(await target.getRecord('other', 'x1')).toEqual({ kept: true })
        expect(await target.countRecords('people')).toBe(5)
      } finally {
        await target.close()
        await rm(dir, { recursive: true, force: true })
      }
    })
  })
}
