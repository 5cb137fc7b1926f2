import { spawn } from 'node:child_process'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Engine } from '../../src/engine/engine.js'
import { Indexing } from '../../src/indexes/indexing.js'
import { encodeKey } from '../../src/indexes/key-codec.js'
import { entryPrefix, keysRecordPrefix } from '../../src/indexes/layout.js'
import { readKeysRecord } from '../../src/indexes/index-writes.js'
import * as lib from '../../src/index.js'
import { buildForChildren } from '../helpers/child-build.js'
import { CRASH_ENGINES, crashEngine, ENCRYPTED_CRASH_KINDS, type CrashKind, type EncryptedCrashKind } from '../helpers/crash-engines.mjs'
import { tempDir } from '../helpers/stores.js'
import { defineItem, stateOf, titleWords, type ItemState } from './crash/model.mjs'
import { claimsCalledFor, collect, storedClaims, view } from './helpers.js'

/**
 * A child process saves, updates and removes indexed objects (alone and in transactions) and
 * reports every acknowledged write; we SIGKILL it at random moments, reopen the store and check
 * that every acknowledged write is there, the write in flight is all there or not at all, and
 * every index entry and keys record agrees exactly with the stored objects.
 */
let DIST = ''
const CHILD = join(import.meta.dirname, 'crash', 'child.mjs')
const KILLS = 15
const INDEXES = ['name', 'tags', 'code', 'n', 'words'] as const

const Item = defineItem(lib)

interface Pending {
  id: number
  changes: { oid: string; state: ItemState | null }[]
}

/** The keys each index gives for a stored state (computed here, not by the maintainer). */
function expectedKeys(state: ItemState): Record<string, string[]> {
  const keys = (v: unknown): string[] => {
    const list = v === undefined || v === null ? [] : Array.isArray(v) ? v : [v]
    return [...new Set(list.map((k) => encodeKey(k)))].sort()
  }
  return {
    name: keys(Indexing.normalize(state.name)),
    tags: keys(state.tags),
    code: keys(state.code),
    n: keys(state.n),
    words: keys(titleWords(state)),
  }
}

async function runChild(kind: string, location: string, expected: Map<string, ItemState>): Promise<{ pending?: Pending; acked: number }> {
  const child = spawn(process.execPath, [CHILD, DIST, kind, location], { stdio: ['ignore', 'pipe', 'pipe'] })
  let buffer = ''
  let stderr = ''
  let pending: Pending | undefined
  let started = false
  let acked = 0
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
          pending = JSON.parse(line.slice(2))
        } else if (line.startsWith('A ') || line.startsWith('R ')) {
          if (pending === undefined || pending.id !== Number(line.slice(2))) problems.push(`out of order: ${line}`)
          else if (line.startsWith('A ')) {
            for (const c of pending.changes) c.state === null ? expected.delete(c.oid) : expected.set(c.oid, c.state)
            acked++
          }
          pending = undefined
        } else if (line.startsWith('X ')) {
          problems.push(line)
        }
      }
    })
    void exited.then(() => startedOrExited())
  })
  // Let it write for a random while (it often has a write in flight), then kill it.
  await new Promise((r) => setTimeout(r, 30 + Math.random() * 250))
  child.kill('SIGKILL')
  await exited
  expect(problems, stderr).toEqual([])
  expect(started, `child did not start: ${stderr}`).toBe(true)
  return { pending, acked }
}

/** Checks the store against what was acknowledged; returns the states found for the write in flight. */
async function verify(engine: Engine, expected: Map<string, ItemState>, pending: Pending | undefined): Promise<void> {
  await engine.open()
  try {
    const stored = new Map<string, ItemState>()
    for await (const [oid, record] of engine.records('items')) stored.set(oid, stateOf((record as any).properties))

    // The write in flight: all of it or none of it.
    if (pending !== undefined && pending.changes.length > 0) {
      const asAfter = pending.changes.every((c) => (c.state === null ? !stored.has(c.oid) : sameState(stored.get(c.oid), c.state)))
      const asBefore = pending.changes.every((c) => sameState(stored.get(c.oid), expected.get(c.oid)))
      expect(asAfter || asBefore, `write ${pending.id} half applied`).toBe(true)
      if (asAfter && !asBefore) for (const c of pending.changes) c.state === null ? expected.delete(c.oid) : expected.set(c.oid, c.state)
    }
    expect([...stored.keys()].sort()).toEqual([...expected.keys()].sort())
    for (const [oid, state] of expected) expect(sameState(stored.get(oid), state), oid).toBe(true)

    // Every index holds exactly the entries of the stored objects.
    for (const index of INDEXES) {
      const want: string[] = []
      for (const [oid, state] of stored) for (const k of expectedKeys(state)[index]!) want.push(k + '\x00' + oid)
      const prefix = entryPrefix('items', index)
      const have = (await collect(engine.keys({ prefix }))).map((k) => k.slice(prefix.length))
      expect(have.sort(), `index ${index}`).toEqual(want.sort())
      // A unique index's claims list exactly the holders of each key it has entries for.
      if (index === 'code') expect(await storedClaims(engine, 'items', index), 'claims of code').toEqual(claimsCalledFor(have))
    }
    // And every keys record says what the object is indexed under (it drives the next diff).
    const prefix = keysRecordPrefix('items')
    const records = new Map<string, Record<string, string[]>>()
    for await (const [key, value] of engine.entries({ prefix })) records.set(key.slice(prefix.length), readKeysRecord(value))
    for (const [oid, state] of stored) {
      const want = Object.fromEntries(Object.entries(expectedKeys(state)).filter(([, keys]) => keys.length > 0))
      const have = Object.fromEntries(Object.entries(records.get(oid) ?? {}).map(([name, keys]) => [name, [...keys].sort()]))
      expect(have, `keys record of ${oid}`).toEqual(want)
    }
    expect([...records.keys()].filter((oid) => !stored.has(oid))).toEqual([])
  } finally {
    await engine.close()
  }
}

function sameState(a: ItemState | undefined, b: ItemState | undefined): boolean {
  if (a === undefined || b === undefined) return a === b
  const norm = (s: ItemState) => JSON.stringify([s.name, s.tags ?? null, s.code, s.n ?? null, s.title ?? null])
  return norm(a) === norm(b)
}

let build: Awaited<ReturnType<typeof buildForChildren>>
beforeAll(async () => {
  build = await buildForChildren('crash-test')
  DIST = build.dist
}, 120_000)

afterAll(() => build?.cleanup())

// Encrypted too: every value sealed, the writes as atomic.
for (const kind of [...(Object.keys(CRASH_ENGINES) as CrashKind[]), ...ENCRYPTED_CRASH_KINDS] as Array<CrashKind | EncryptedCrashKind>) {
  describe(`indexes survive SIGKILL at any moment on ${kind}`, () => {
    it(`stays exact across ${KILLS} kills`, async () => {
      const dir = await tempDir()
      const location = join(dir, 'store')
      const makeEngine = () => crashEngine(lib, kind, location)
      const expected = new Map<string, ItemState>()
      try {
        let acked = 0
        let inFlight = 0
        // Kills land between writes more often on some engines (LMDB commits synchronously): up to three
        // times as many runs are made until a third of the planned kills hit a write in flight.
        for (let i = 0; i < KILLS || (inFlight <= KILLS / 3 && i < 3 * KILLS); i++) {
          const run = await runChild(kind, location, expected)
          acked += run.acked
          if (run.pending !== undefined) inFlight++
          await verify(makeEngine(), expected, run.pending)
        }
        // Enough happened for the test to mean something: writes, and kills in the middle of one.
        expect(acked).toBeGreaterThan(30)
        expect(inFlight).toBeGreaterThan(KILLS / 3)
        expect(expected.size).toBeGreaterThan(0)
        // Queries through a database agree too, with no rebuild needed.
        const progress: unknown[] = []
        const db = await lib.Database.open({ engine: makeEngine(), models: [Item], onIndexProgress: (p) => progress.push(p) })
        try {
          let total = 0
          for await (const k of view(Item, 'code').keys()) total += await view(Item, 'code').count(k)
          expect(total).toBe(expected.size)
          expect(progress).toEqual([])
        } finally {
          await db.close()
        }
      } finally {
        await rm(dir, { recursive: true, force: true })
      }
    }, 90_000)
  })
}
