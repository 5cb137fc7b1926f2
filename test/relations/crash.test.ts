import { spawn } from 'node:child_process'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Engine } from '../../src/engine/engine.js'
import * as lib from '../../src/index.js'
import { linkPrefix } from '../../src/relations/layout.js'
import { isRef, oneRef } from '../../src/relations/stored-links.js'
import { buildForChildren } from '../helpers/child-build.js'
import { CRASH_ENGINES, crashEngine, type CrashKind } from '../helpers/crash-engines.mjs'
import { tempDir } from '../helpers/stores.js'
import { defineModels } from './crash/model.mjs'
import { checkLinks } from './helpers.js'

/**
 * A child process links, unlinks and removes objects (alone and in transactions) and reports the
 * links every write leaves; we SIGKILL it at random moments, reopen the store and check that the
 * links are those of the last acknowledged write or, for the write in flight, all of it, and that
 * the stored relation data agree with each other (no link to a missing object, reverse entries
 * matching links, sizes matching).
 */
let DIST = ''
const CHILD = join(import.meta.dirname, 'crash', 'child.mjs')
const KILLS = 8

type Links = Record<string, { author: string | null; replies: string[] }>

const { Account, Comment } = defineModels(lib)

async function runChild(kind: string, location: string): Promise<{ acked?: Links; pending?: Links; writes: number }> {
  const child = spawn(process.execPath, [CHILD, DIST, kind, location], { stdio: ['ignore', 'pipe', 'pipe'] })
  let buffer = ''
  let stderr = ''
  let acked: Links | undefined
  let pending: Links | undefined
  let started = false
  let writes = 0
  const problems: string[] = []
  // 'close', not 'exit': output the child wrote just before the kill may still be unread at 'exit'.
  const exited = new Promise<void>((done) => child.on('close', () => done()))
  child.stderr.on('data', (d) => (stderr += d))
  await new Promise<void>((startedOrExited) => {
    child.stdout.on('data', (data) => {
      buffer += data
      let nl: number
      while ((nl = buffer.indexOf('\n')) !== -1) {
        const line = buffer.slice(0, nl)
        buffer = buffer.slice(nl + 1)
        if (line === 'S') {
          started = true
          startedOrExited()
        } else if (line.startsWith('B ')) {
          pending = JSON.parse(line.slice(2)).after
        } else if (line.startsWith('A ')) {
          acked = JSON.parse(line.slice(line.indexOf(' ', 2) + 1))
          pending = undefined
          writes++
        } else if (line.startsWith('X ')) problems.push(line)
      }
    })
    void exited.then(() => startedOrExited())
  })
  await new Promise((r) => setTimeout(r, 50 + Math.random() * 300))
  child.kill('SIGKILL')
  await exited
  expect(problems, stderr).toEqual([])
  expect(started, `child did not start: ${stderr}`).toBe(true)
  return { acked, pending, writes }
}

const canonical = (links: Links): string => JSON.stringify(Object.entries(links).sort(([a], [b]) => (a < b ? -1 : 1)))

/** Every stored comment's links, read from the engine. */
async function storedLinks(engine: Engine): Promise<Links> {
  const out: Links = {}
  for await (const [oid, record] of engine.records('comments')) {
    const replies: string[] = []
    for await (const [, value] of engine.entries({ prefix: linkPrefix('comments', oid, 'replies') })) if (isRef(value)) replies.push(value[1])
    out[oid] = { author: oneRef(record as never, 'author')?.[1] ?? null, replies }
  }
  return out
}

let build: Awaited<ReturnType<typeof buildForChildren>>
beforeAll(async () => {
  build = await buildForChildren('relations-crash-test')
  DIST = build.dist
}, 120_000)

afterAll(() => build?.cleanup())

for (const kind of Object.keys(CRASH_ENGINES) as CrashKind[]) {
  describe(`relations survive SIGKILL at any moment on ${kind}`, () => {
    it(`keep whole writes and agreeing entries across ${KILLS} kills`, async () => {
      const dir = await tempDir()
      const location = join(dir, 'store')
      const makeEngine = () => crashEngine(lib, kind, location)
      let expected: Links = {}
      let writes = 0
      let inFlight = 0
      try {
        // Kills land between writes more often on some engines (LMDB commits synchronously): up to three
        // times as many runs are made until a third of the planned kills hit a write in flight.
        for (let i = 0; i < KILLS || (inFlight <= KILLS / 3 && i < 3 * KILLS); i++) {
          const run = await runChild(kind, location)
          writes += run.writes
          if (run.acked !== undefined) expected = run.acked
          const db = await lib.Database.open({ engine: makeEngine(), models: [Account, Comment] })
          try {
            const stored = await storedLinks(db.engine)
            if (run.pending !== undefined) {
              inFlight++
              const whole = canonical(stored) === canonical(run.pending)
              if (whole) expected = run.pending
            }
            expect(stored).toEqual(expected)
            await checkLinks(db)
            // Through the API: every link resolves to a stored object.
            for await (const c of Comment.all()) {
              if (c.author.oid !== undefined) expect(await c.author.one()).toBeDefined()
              expect((await c.replies.get()).length).toBe(c.replies.size)
            }
          } finally {
            await db.close()
          }
        }
        expect(writes).toBeGreaterThan(30)
        expect(inFlight).toBeGreaterThan(KILLS / 3)
        expect(Object.keys(expected).length).toBeGreaterThan(0)
      } finally {
        await rm(dir, { recursive: true, force: true })
      }
    }, 90_000)
  })
}
