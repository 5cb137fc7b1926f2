import { existsSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { MemoryEngine } from '../../src/engine/memory/memory-engine.js'
import { Database } from '../../src/model/database.js'
import { NotEmptyError } from '../../src/tools/errors.js'
import { copy, copyToPath } from '../../src/tools/restore-store.js'
import { engineAt, ENGINE_KINDS, type EngineKind } from '../../src/tools/store-path.js'
import { databaseEach, storeKinds, tempDir } from '../helpers/stores.js'
import { contentsOf, models, Person, populate } from './fixture.js'

const storePath = (dir: string, kind: EngineKind) => join(dir, kind === 'lmdb' ? 'copy.lmdb' : `copy-${kind}`)

for (const kind of storeKinds) {
  describe(`copy from ${kind.name}`, () => {
    const ctx = databaseEach(kind, models)

    it('copies objects, links, update times and raw data into every other engine, whose indexes rebuild at first use', async () => {
      await populate()
      const expected = await contentsOf(ctx.db.engine)
      const dir = await tempDir()
      try {
        const memory = new MemoryEngine()
        await memory.open()
        expect(await copy(ctx.db.engine, memory)).toMatchObject({ records: 23, raw: 3, rawBytes: 270_001 })
        expect(await contentsOf(memory)).toEqual(expected)
        await memory.close()
        for (const target of ENGINE_KINDS.filter((k) => k !== kind.name)) {
          const path = storePath(dir, target)
          await copyToPath(ctx.db.engine, path, { engine: target })
          const engine = engineAt(path, target)
          await engine.open()
          expect(await contentsOf(engine)).toEqual(expected)
          await engine.close()
        }
        const target = ENGINE_KINDS.find((k) => k !== kind.name)!
        await ctx.db.close()
        const db = await Database.open({ engine: engineAt(storePath(dir, target), target), models })
        try {
          expect((await Person.index('email').one('p3@x.org'))!.name).toBe('P3')
          expect(await Person.index('name').count('P0')).toBe(3)
        } finally {
          await db.close()
        }
      } finally {
        await rm(dir, { recursive: true, force: true })
      }
    })

    it('refuses to copy into a store holding data unless merge is given', async () => {
      await populate(3)
      const dir = await tempDir()
      try {
        const path = join(dir, 'target')
        const target = engineAt(path, 'directory')
        await target.open()
        await target.put('some-entry', 1)
        await expect(copy(ctx.db.engine, target)).rejects.toThrow(NotEmptyError)
        expect(await target.countRecords('people')).toBe(0)
        await target.close()
        await expect(copyToPath(ctx.db.engine, path)).rejects.toMatchObject({ code: 'NOT_EMPTY' })
        expect(existsSync(path)).toBe(true)
        await copyToPath(ctx.db.engine, path, { merge: true })
        await target.open()
        expect(await target.countRecords('people')).toBe(3)
        expect(await target.get('some-entry')).toBe(1)
        await target.close()
      } finally {
        await rm(dir, { recursive: true, force: true })
      }
    })
  })
}
