/**
 * The quickstart (`npm start`), compiled and run as Node runs it, twice on one LevelDB store: the
 * second run finds the first one's data and adds to it.
 */
import { execFile } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { buildForChildren } from '../helpers/child-build.js'

let build: { dist: string; cleanup(): Promise<void> }
let data: string

beforeAll(async () => {
  build = await buildForChildren('quickstart')
  data = await mkdtemp(join(tmpdir(), 'stowage-quickstart-'))
}, 120_000)
afterAll(async () => {
  await rm(data, { recursive: true, force: true })
  await build?.cleanup()
})

const run = async () => {
  const { stdout } = await promisify(execFile)(process.execPath, [join(build.dist, 'examples', 'quickstart.js')], { env: { ...process.env, STOWAGE_DATA: data } })
  return stdout
}

it('runs on a new store and again on the same one, querying across indexes', async () => {
  const first = await run()
  expect(first).toContain('0 accounts, 0 articles already there')
  expect(first).toContain('Published and about Stowage: 1 article(s) (counted on the indexes), the first "Hello, Stowage"')
  expect(first.match(/one of the 3 latest articles of the last minute/g)).toHaveLength(2)
  // The AND of two indexed conditions reads only the article it gives.
  expect(first).toMatch(/explain\(\): .+ \(read \d+ index entries, \d+ keys records, 1 objects for 1 results\)/)

  const second = await run()
  expect(second).toContain('1 accounts, 2 articles already there')
  expect(second).toContain('Published and about Stowage: 2 article(s)')
  expect(second.match(/one of the 3 latest articles of the last minute/g)).toHaveLength(3)
  expect(second).toMatch(/2 objects for 2 results\)/)
  expect(second).toContain('The store now holds 1 accounts, 4 articles')
}, 120_000)
