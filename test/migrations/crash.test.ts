import { spawn } from 'node:child_process'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Engine } from '../../src/engine/engine.js'
import { encodeKey } from '../../src/indexes/key-codec.js'
import { entryPrefix, keysRecordPrefix, signatureKey } from '../../src/indexes/layout.js'
import { readKeysRecord } from '../../src/indexes/index-writes.js'
import * as lib from '../../src/index.js'
import { buildForChildren } from '../helpers/child-build.js'
import { CRASH_ENGINES, crashEngine, type CrashKind } from '../helpers/crash-engines.mjs'
import { tempDir } from '../helpers/stores.js'
import { defineItemV1, migrateToV2, titleWords } from './crash/model.mjs'

/**
 * A child process opens a store of version 1 objects with version 2 of the model, which migrates
 * it in batches; we SIGKILL it at random moments, check that every object is whole at one version
 * or the other and that the rebuilt index agrees with the migrated objects, and start it again
 * until a run finishes. Then every object is exactly its migration, and nothing else is stored.
 */
let DIST = ''
const CHILD = join(import.meta.dirname, 'crash', 'child.mjs')
const OBJECTS = 4000
const ItemV1 = defineItemV1(lib)

interface Original {
  label: string
  n: number
}

/** Runs the child until it finishes or is killed after a random while; says how far it got. */
async function runChild(kind: string, location: string): Promise<{ finished: boolean; batches: number }> {
  const child = spawn(process.execPath, [CHILD, DIST, kind, location], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let stderr = ''
  const exited = new Promise<number | null>((done) => child.on('close', (code) => done(code)))
  // Killed after a random number of committed batches (0 to 3) and a random few milliseconds more,
  // so that most kills land while a batch is being written.
  const batchesBeforeKill = Math.floor(Math.random() * 4)
  let seen = 0
  let timer: NodeJS.Timeout | undefined
  let killed = false
  const killSoon = () =>
    (timer ??= setTimeout(() => {
      killed = true
      child.kill('SIGKILL')
    }, Math.random() * 15))
  child.stdout.on('data', (d) => {
    out += d
    seen = out.split('\n').filter((l) => l.startsWith('P ')).length
    if (out.includes('S\n') && seen >= batchesBeforeKill) killSoon()
  })
  child.stderr.on('data', (d) => (stderr += d))
  const code = await exited
  clearTimeout(timer)
  const lines = out.split('\n')
  const finished = lines.includes('D')
  if (finished && !killed) expect(code, stderr).toBe(0)
  else expect(stderr.replace(/\(node:\d+\) .*\n?/g, ''), 'the child failed on its own').toBe('')
  return { finished, batches: lines.filter((l) => l.startsWith('P ')).length }
}

function words(title: string): string[] {
  return [...new Set(titleWords({ title }) ?? [])].map((w) => encodeKey(w))
}

/** Every object is whole at version 1 (as written) or version 2 (its migration); the words index agrees with the migrated ones. */
async function verify(engine: Engine, originals: Map<string, Original>, finished: boolean): Promise<{ migrated: number }> {
  await engine.open()
  try {
    const stored = new Map<string, any>()
    for await (const [oid, record] of engine.records('items')) stored.set(oid, record)
    let migrated = 0
    for (const [oid, original] of originals) {
      const record = stored.get(oid)
      const target = migrateToV2(original)
      if (record === undefined) {
        expect(target, `${oid} lost`).toBeUndefined()
        continue
      }
      if (record.version === 2) {
        migrated++
        expect(record.properties, oid).toEqual(target)
      } else {
        expect(record.version, oid).toBeUndefined()
        expect(record.properties, oid).toEqual(original)
      }
    }
    expect([...stored.keys()].filter((oid) => !originals.has(oid))).toEqual([])
    // Once the words index was built (its signature is written last), it holds exactly the migrated objects' words.
    const built = (await engine.getMany([signatureKey('items', 'words')]))[0] !== undefined
    if (built || finished) {
      const want: string[] = []
      for (const [oid, record] of stored) if (record.version === 2) for (const k of words(record.properties.title)) want.push(k + '\x00' + oid)
      const prefix = entryPrefix('items', 'words')
      const have: string[] = []
      for await (const key of engine.keys({ prefix })) have.push(key.slice(prefix.length))
      expect(have.sort()).toEqual(want.sort())
    }
    if (finished) {
      expect(migrated).toBe(stored.size)
      // The label index is gone, and every keys record holds exactly the words of its object.
      const labels: string[] = []
      for await (const key of engine.keys({ prefix: entryPrefix('items', 'label') })) labels.push(key)
      expect(labels).toEqual([])
      const prefix = keysRecordPrefix('items')
      for await (const [key, value] of engine.entries({ prefix })) {
        const oid = key.slice(prefix.length)
        expect(readKeysRecord(value), oid).toEqual({ words: words(stored.get(oid).properties.title) })
      }
    }
    return { migrated }
  } finally {
    await engine.close()
  }
}

let build: Awaited<ReturnType<typeof buildForChildren>>
beforeAll(async () => {
  build = await buildForChildren('migration-crash-test')
  DIST = build.dist
}, 120_000)

afterAll(() => build?.cleanup())

for (const kind of Object.keys(CRASH_ENGINES) as CrashKind[]) {
  describe(`a migration survives SIGKILL at any moment on ${kind}`, () => {
    it('is finished by the next open, losing nothing and never writing half an object', async () => {
      const dir = await tempDir()
      const location = join(dir, 'store')
      const originals = new Map<string, Original>()
      try {
        const db = await lib.Database.open({ engine: crashEngine(lib, kind, location), models: [ItemV1] })
        await db.transaction(async () => {
          for (let i = 0; i < OBJECTS; i++) {
            const item = new ItemV1({ label: `item ${i % 50} of ${i}`, n: i })
            item.save()
            originals.set(item.oid, { label: item.label, n: i })
          }
        })
        await db.close()
        let killedMidway = 0
        let runs = 0
        for (;;) {
          const run = await runChild(kind, location)
          runs++
          const { migrated } = await verify(crashEngine(lib, kind, location), originals, run.finished)
          if (run.finished) break
          if (migrated > 0 && run.batches > 0) killedMidway++
          expect(runs, 'the migration never finishes').toBeLessThan(60)
        }
        // Enough kills landed while objects were being migrated for the test to mean something.
        expect(killedMidway).toBeGreaterThanOrEqual(2)
      } finally {
        await rm(dir, { recursive: true, force: true })
      }
    }, 180_000)
  })
}
