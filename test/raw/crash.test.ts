import { spawn } from 'node:child_process'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { ClassicLevel } from 'classic-level'
import { open } from 'lmdb'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { utf8Keys } from '../../src/engine/lmdb/lmdb-keys.js'
import * as lib from '../../src/index.js'
import { Database, Model, StoredRaw } from '../../src/index.js'
import { buildForChildren } from '../helpers/child-build.js'
import { CRASH_ENGINES, crashEngine, type CrashKind } from '../helpers/crash-engines.mjs'
import { tempDir } from '../helpers/stores.js'
import { rawStorage } from './stores.js'

/**
 * A child process streams an endless source into a raw object and is killed with SIGKILL mid-way.
 * After reopening: no object (or the old data, when it was replacing it), and no staged chunks or
 * staging files left behind.
 */
let DIST = ''
const CHILD = join(import.meta.dirname, 'crash', 'child.mjs')

@Model({ collection: 'blobs' })
class Blob extends StoredRaw {}

let build: Awaited<ReturnType<typeof buildForChildren>>
beforeAll(async () => {
  build = await buildForChildren('raw-crash-test')
  DIST = build.dist
}, 120_000)

afterAll(() => build?.cleanup())

/** Runs the child until it streamed `mib` MiB or more, then kills it; returns the oid it printed. */
async function streamThenKill(kind: string, location: string, mode: 'create' | 'replace', mib: number): Promise<string> {
  const child = spawn(process.execPath, [CHILD, DIST, kind, location, mode], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  child.stderr.on('data', (d) => (err += d))
  // 'close', not 'exit': output the child wrote just before the kill may still be unread at 'exit'.
  const exited = new Promise<void>((done) => child.on('close', () => done()))
  await new Promise<void>((ready, fail) => {
    child.stdout.on('data', (d) => {
      out += d
      if ((out.match(/^M$/gm)?.length ?? 0) * 4 >= mib) ready()
    })
    child.on('exit', (code) => fail(new Error(`child exited with ${code} before streaming ${mib} MiB: ${err}`)))
  })
  child.kill('SIGKILL')
  await exited
  const oid = /^S (\S+)$/m.exec(out)?.[1]
  if (!oid) throw new Error(`child printed no oid: ${out}`)
  return oid
}

/** The keys of the LevelDB or LMDB store at `location`, read without an engine. */
async function storedKeys(kind: CrashKind, location: string): Promise<string[]> {
  if (kind === 'lmdb') {
    const raw = open<Buffer, string>(location, { noSubdir: true, encoding: 'binary', keyEncoder: utf8Keys } as object)
    const keys = [...raw.getKeys()] as string[]
    await raw.close()
    return keys
  }
  const raw = new ClassicLevel(location)
  const keys = (await raw.keys().all()) as string[]
  await raw.close()
  return keys
}

for (const kind of Object.keys(CRASH_ENGINES) as CrashKind[]) {
  const makeEngine = (location: string) => crashEngine(lib, kind, location)
  describe(`raw data after SIGKILL mid-stream on ${kind}`, () => {
    it('leaves no half object and no orphan chunks or files', async () => {
      const dir = await tempDir()
      try {
        const location = join(dir, 'store')
        const oid = await streamThenKill(kind, location, 'create', 24)
        // Before reopening, the staged bytes are on disk (so the cleanup below is real).
        if (kind === 'directory') {
          const files = await import('node:fs/promises').then((fs) => fs.readdir(join(location, 'blobs')))
          expect(files.some((f) => f.startsWith('.stowage-stage-'))).toBe(true)
        } else {
          const keys = await storedKeys(kind, location)
          expect(keys.filter((k) => k.startsWith('c')).length).toBeGreaterThan(20)
        }
        const db = await Database.open({ engine: makeEngine(location), models: [Blob] })
        try {
          expect(await Blob.has(oid)).toBe(false)
          expect(await Blob.count()).toBe(0)
          expect(await rawStorage(db.engine, 'blobs')).toEqual({ chunks: 0, staging: 0, files: [] })
        } finally {
          await db.close()
        }
      } finally {
        await rm(dir, { recursive: true, force: true })
      }
    })

    it('keeps the old data and metadata when killed while replacing it', async () => {
      const dir = await tempDir()
      try {
        const location = join(dir, 'store')
        const oid = await streamThenKill(kind, location, 'replace', 24)
        const db = await Database.open({ engine: makeEngine(location), models: [Blob] })
        try {
          const blob = (await Blob.get(oid))!
          expect(blob.meta('v')).toBe(1)
          expect(blob.size).toBe(100_000)
          const data = await blob.loadData()
          expect(data.length).toBe(100_000)
          expect(data.every((b) => b === 7)).toBe(true)
          const left = await rawStorage(db.engine, 'blobs')
          expect(left.staging).toBe(0)
          if (kind === 'directory') expect(left.files).toEqual([`${oid}.bin`])
          else expect(left.chunks).toBe(1)
        } finally {
          await db.close()
        }
      } finally {
        await rm(dir, { recursive: true, force: true })
      }
    })
  })
}
