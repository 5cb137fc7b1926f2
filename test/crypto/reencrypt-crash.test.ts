import { spawn } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Database, DirectoryEngine, EncryptedEngine, LevelEngine, LmdbEngine, type Engine } from '../../src/index.js'
import { buildForChildren } from '../helpers/child-build.js'
import { tempDir } from '../helpers/stores.js'
import { Letter, Photo } from './letters.js'


// 32-byte keys: a passphrase's key derivation (scrypt, ~0.3 s) would take most of each run.
const KEYS = { A: new Uint8Array(32).fill(7), B: new Uint8Array(32).fill(9) }
const LETTERS = 300
const RUNS = 7

const kinds: Array<{ name: string; make: (location: string) => Engine }> = [
  { name: 'directory', make: (location) => new DirectoryEngine(location) },
  { name: 'level', make: (location) => new LevelEngine(location) },
  { name: 'lmdb', make: (location) => new LmdbEngine(location) },
]

let build: Awaited<ReturnType<typeof buildForChildren>>
beforeAll(async () => {
  build = await buildForChildren('reencrypt-crash')
}, 120_000)
afterAll(() => build?.cleanup())

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex')

/**
 * Runs the child until killed `delay` ms after it opened (or, without a delay, once its first
 * re-encryption resolved); the key the last re-encryption it saw resolve left, and how long after
 * opening that was.
 */
async function reencryptThenKill(kind: string, location: string, delay?: number): Promise<{ acked: 'A' | 'B' | undefined; took: number }> {
  const child = spawn(process.execPath, [join(import.meta.dirname, 'reencrypt', 'child.mjs'), build.dist, kind, location], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  child.stderr.on('data', (d) => (err += d))
  const closed = new Promise<void>((done) => child.on('close', () => done()))
  let opened = 0
  let took = 0
  await new Promise<void>((ready, failed) => {
    child.stdout.on('data', (d) => {
      out += d
      if (opened === 0 && out.startsWith('S\n')) {
        opened = performance.now()
        if (delay !== undefined) ready()
      }
      if (delay === undefined && /^R /m.test(out)) {
        took = performance.now() - opened
        ready()
      }
    })
    child.on('exit', () => failed(new Error(`child exited early: ${err}`)))
  })
  if (delay !== undefined) await new Promise((r) => setTimeout(r, delay))
  child.kill('SIGKILL')
  await closed
  return { acked: [...out.matchAll(/^R ([AB])$/gm)].map((m) => m[1] as 'A' | 'B').at(-1), took }
}

for (const kind of kinds) {
  describe(`reencrypt() survives SIGKILL at any moment (${kind.name})`, () => {
    it('leaves the store opening with exactly one of the two keys, nothing lost, and the next reencrypt() finishes it', async () => {
      const dir = await tempDir()
      const location = join(dir, kind.name === 'lmdb' ? 'db.lmdb' : 'db')
      try {
        let db = await Database.open({ engine: kind.make(location), models: [Letter, Photo], encryption: { key: KEYS.A } })
        await db.transaction(async () => {
          for (let i = 0; i < LETTERS; i++) new Letter({ to: `p${i % 10}@example.com`, n: i, text: `letter ${i}` }).save()
        })
        const data = randomBytes(1_000_000)
        const photo = await Photo.create([data], { format: 'bin' })
        await db.close()
        let current: 'A' | 'B' = 'A'
        let pendingSeen = 0
        let oneTakes = 0
        for (let run = 0; run < RUNS; run++) {
          // The first run times one whole re-encryption; the others are killed at random within about that long.
          const { acked, took } = await reencryptThenKill(kind.name, location, run === 0 ? undefined : Math.random() * 1.2 * oneTakes)
          if (run === 0) oneTakes = took
          const opened: Array<'A' | 'B'> = []
          for (const key of ['A', 'B'] as const) {
            try {
              db = await Database.open({ engine: kind.make(location), models: [Letter, Photo], encryption: { key: KEYS[key] } })
            } catch (err) {
              expect((err as { code?: string }).code).toBe('WRONG_KEY')
              continue
            }
            opened.push(key)
            if (await (db.engine as EncryptedEngine).reencryptionPending()) pendingSeen++
            expect(await Letter.index('to').count('p3@example.com')).toBe(LETTERS / 10)
            let all = 0
            for await (const letter of Letter.all()) {
              expect(letter.text).toBe(`letter ${letter.n}`)
              all++
            }
            expect(all).toBe(LETTERS)
            const parts: Uint8Array[] = []
            for await (const chunk of (await Photo.get(photo.oid))!.data()) parts.push(chunk)
            expect(sha(Buffer.concat(parts))).toBe(sha(data))
            await db.close()
          }
          expect(opened).toHaveLength(1)
          // The key the last acknowledged re-encryption left, or the other (one in flight may have landed).
          const last = acked ?? current
          expect([last, last === 'A' ? 'B' : 'A']).toContain(opened[0])
          current = opened[0]!
        }
        expect(pendingSeen).toBeGreaterThan(0) // kills came in the middle of re-encryptions
      } finally {
        await rm(dir, { recursive: true, force: true })
      }
    }, 120_000)
  })
}
