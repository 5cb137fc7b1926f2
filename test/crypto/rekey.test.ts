import { spawn } from 'node:child_process'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Database, LevelEngine, Model, Property, StoredObject, Types } from '../../src/index.js'
import { buildForChildren } from '../helpers/child-build.js'
import { tempDir } from '../helpers/stores.js'

@Model({ collection: 'secrets' })
class Secret extends StoredObject {
  @Property(Types.STRING) text = ''
}

const KEYS = { 'key A': new Uint8Array(32).fill(1), 'key B': new Uint8Array(32).fill(2) }

let build: Awaited<ReturnType<typeof buildForChildren>>
beforeAll(async () => {
  build = await buildForChildren('rekey-crash')
}, 120_000)
afterAll(() => build?.cleanup())

/** Runs the child until killed a random while after it started; the last rekey it saw resolve. */
async function rekeyThenKill(location: string): Promise<number> {
  const child = spawn(process.execPath, [join(import.meta.dirname, 'rekey', 'child.mjs'), build.dist, location], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  child.stderr.on('data', (d) => (err += d))
  const closed = new Promise<void>((done) => child.on('close', () => done()))
  await new Promise<void>((started, failed) => {
    child.stdout.on('data', (d) => {
      out += d
      if (out.startsWith('S\n')) started()
    })
    child.on('exit', () => failed(new Error(`child exited before starting: ${err}`)))
  })
  await new Promise((r) => setTimeout(r, Math.random() * 60))
  child.kill('SIGKILL')
  await closed
  const acked = [...out.matchAll(/^K (\d+)$/gm)].map((m) => Number(m[1]))
  return acked.at(-1) ?? 0
}

describe('rekey() survives SIGKILL at any moment', () => {
  it('leaves the store opening with exactly one of the two keys, its data intact', async () => {
    const dir = await tempDir()
    const location = join(dir, 'db')
    try {
      let db = await Database.open({ engine: new LevelEngine(location), models: [Secret], encryption: { key: KEYS['key A'] } })
      const secret = await Secret.create({ text: 'still here' })
      await db.close()
      let rekeyed = 0
      for (let run = 0; run < 12; run++) {
        const acked = await rekeyThenKill(location)
        rekeyed += acked
        const opened: string[] = []
        for (const key of ['key A', 'key B'] as const) {
          try {
            db = await Database.open({ engine: new LevelEngine(location), models: [Secret], encryption: { key: KEYS[key] } })
          } catch (err) {
            expect((err as { code?: string }).code).toBe('WRONG_KEY')
            continue
          }
          opened.push(key)
          expect((await Secret.get(secret.oid))!.text).toBe('still here')
          await db.close()
        }
        expect(opened).toHaveLength(1)
        // The key the last acknowledged rekey set, or the next one (a rekey in flight may have landed).
        const expected = acked % 2 === 0 ? ['key A', 'key B'] : ['key B', 'key A']
        expect(expected).toContain(opened[0])
        // The next run starts from key A, as the child expects.
        if (opened[0] === 'key B') {
          db = await Database.open({ engine: new LevelEngine(location), models: [Secret], encryption: { key: KEYS['key B'] } })
          await db.rekey(KEYS['key A'])
          await db.close()
        }
      }
      expect(rekeyed).toBeGreaterThan(12) // the kills came while rekeys were going on
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  }, 120_000)
})
