import { execFileSync, spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DirectoryEngine } from '../../src/engine/directory/directory-engine.js'
import { LockedError } from '../../src/errors.js'

/*
 * These tests run the engine in a child process (killed with SIGKILL mid-write, or holding the
 * lock). Node 20 cannot run TypeScript, so the engine is compiled with tsc into node_modules/.cache
 * (inside the repo, so the child resolves classic-level and fast-glob like the tests do).
 */
const repo = resolve(import.meta.dirname, '../..')
const out = join(repo, 'node_modules', '.cache', `stowage-directory-test-${process.pid}`)
const base = mkdtempSync(join(tmpdir(), 'stowage-dircrash-'))

const WRITER = `
import { DirectoryEngine } from './src/engine/directory/directory-engine.js'
const e = new DirectoryEngine(process.argv[2])
await e.open()
let gen = (await e.get('gen')) ?? 0
process.stdout.write('ready\\n')
for (;;) {
  gen++
  const bytes = new Uint8Array(20000 + (gen % 7) * 1000).fill(gen & 0xff)
  const staged = await e.stageRaw('Raw', 'r', [bytes], { extension: gen % 2 ? 'png' : 'jpeg' })
  await e.batch([
    { type: 'put', key: 'gen', value: gen },
    { type: 'del', key: 'idx/' + (gen - 1) },
    { type: 'put', key: 'idx/' + gen, value: null },
    ...['a', 'b', 'c'].map((id) => ({ type: 'putRecord', collection: 'Rec', id, value: { gen, pad: 'x'.repeat(3000 * (gen % 3)) } })),
    gen % 3 === 0 ? { type: 'delRecord', collection: 'Rec', id: 'd' } : { type: 'putRecord', collection: 'Rec', id: 'd', value: { gen } },
    { type: 'putRaw', collection: 'Raw', id: 'r', staged },
  ])
}
`

const HOLDER = `
import { DirectoryEngine } from './src/engine/directory/directory-engine.js'
const e = new DirectoryEngine(process.argv[2])
await e.open()
process.stdout.write('ready\\n')
setInterval(() => {}, 1000)
`

beforeAll(() => {
  execFileSync(
    join(repo, 'node_modules', '.bin', 'tsc'),
    ['--ignoreConfig', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', '--skipLibCheck', '--types', 'node', '--outDir', out, '--rootDir', repo, join(repo, 'src/engine/directory/directory-engine.ts')],
    { stdio: 'pipe' },
  )
  writeFileSync(join(out, 'writer.mjs'), WRITER)
  writeFileSync(join(out, 'holder.mjs'), HOLDER)
}, 60_000)

afterAll(() => {
  rmSync(out, { recursive: true, force: true })
  rmSync(base, { recursive: true, force: true })
})

/** Starts a child script on `root`; resolves once it printed 'ready'. */
function start(script: string, root: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, [join(out, script), root], { stdio: ['ignore', 'pipe', 'pipe'] })
  let err = ''
  child.stderr!.on('data', (d) => (err += d))
  return new Promise((ok, fail) => {
    child.stdout!.on('data', (d) => String(d).includes('ready') && ok(child))
    child.on('exit', (code) => fail(new Error(`${script} exited with ${code} before it was ready: ${err}`)))
  })
}

function kill(child: ChildProcess): Promise<void> {
  return new Promise((ok) => {
    if (child.exitCode !== null || child.signalCode !== null) return ok()
    child.once('exit', () => ok())
    child.kill('SIGKILL')
  })
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = []
  for await (const x of it) all.push(x)
  return all
}

describe('DirectoryEngine crash safety (child processes)', () => {
  it('leaves whole batches only, with entries agreeing with the files, after SIGKILL at random moments', async () => {
    const root = join(base, 'crash')
    let lastGen = 0
    let progressed = 0
    for (let round = 0; round < 6; round++) {
      const child = await start('writer.mjs', root)
      await new Promise((r) => setTimeout(r, 40 + Math.floor(Math.random() * 300)))
      await kill(child)

      const e = new DirectoryEngine(root)
      await e.open()
      try {
        const gen = ((await e.get('gen')) as number | undefined) ?? 0
        expect(gen).toBeGreaterThanOrEqual(lastGen)
        if (gen > lastGen) progressed++
        lastGen = gen
        // Engine-written files are never reported as changed by hand, even after a crash.
        expect(e.externalChanges()).toEqual([])
        expect(await collect(e.keys({ prefix: 'idx/' }))).toEqual(gen ? [`idx/${gen}`] : [])
        if (gen === 0) continue
        const ids = gen % 3 === 0 ? ['a', 'b', 'c'] : ['a', 'b', 'c', 'd']
        expect(await collect(e.recordIds('Rec'))).toEqual(ids)
        expect(await e.countRecords('Rec')).toBe(ids.length)
        for (const [, v] of await collect(e.records('Rec'))) expect((v as { gen: number }).gen).toBe(gen)
        // The files agree with the store: same records, each whole, no temp file left.
        expect(readdirSync(join(root, 'Rec')).sort()).toEqual(ids.map((id) => `${id}.json`))
        for (const id of ids) expect(JSON.parse(readFileSync(join(root, 'Rec', `${id}.json`), 'utf8')).gen).toBe(gen)
        // Raw data of that same batch, in its one file (the other extension's file is gone).
        const ext = gen % 2 ? 'png' : 'jpeg'
        expect(readdirSync(join(root, 'Raw'))).toEqual([`r.${ext}`])
        expect(e.rawPath('Raw', 'r')).toBe(join(root, 'Raw', `r.${ext}`))
        const data = Buffer.concat(await collect(e.readRaw('Raw', 'r')))
        expect(data.length).toBe(20000 + (gen % 7) * 1000)
        expect(data.every((b) => b === (gen & 0xff))).toBe(true)
      } finally {
        await e.close()
      }
    }
    expect(progressed).toBeGreaterThanOrEqual(3) // the child did write between kills
  }, 30_000)

  it('refuses a root whose store another process holds with LockedError naming the root', async () => {
    const root = join(base, 'locked')
    mkdirSync(root)
    const child = await start('holder.mjs', root)
    try {
      const e = new DirectoryEngine(root)
      const err = await e.open().catch((x) => x)
      expect(err).toBeInstanceOf(LockedError)
      expect(err.code).toBe('LOCKED')
      expect(err.message).toContain(root)
      expect(err.message).toMatch(/another process/)
      expect(e.status).toBe('closed')
    } finally {
      await kill(child)
    }
    // Once the holder is gone (even killed), the store opens.
    const e = new DirectoryEngine(root)
    await e.open()
    await e.close()
  }, 20_000)
})
