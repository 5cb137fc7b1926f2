import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { installProject, packStowage, run, SLOW, type Packed } from '../packaging/helpers.js'

let packed: Packed

beforeAll(async () => {
  packed = await packStowage()
}, SLOW)

afterAll(() => packed?.cleanup())

describe('the stowage command from a packed install', () => {
  it('runs as npx stowage, with its help, and dumps and restores a store', async () => {
    const dir = join(packed.dir, 'app')
    // run() fails the test with the command's output if it exits non-zero.
    await installProject(dir, 'module', packed.tarball)
    const help = await run('npx', ['--no-install', 'stowage', '--help'], dir)
    expect(help.stdout).toContain('Usage: stowage [options] [command]')
    await run(process.execPath, ['--input-type=module', '-e', `import { LevelEngine } from 'stowage'; const e = new LevelEngine('./data'); await e.open(); await e.putRecord('notes', 'n1', { text: 'hi' }); await e.close()`], dir)
    const info = await run('npx', ['--no-install', 'stowage', 'info', 'data', '--json'], dir)
    expect(JSON.parse(info.stdout)).toMatchObject({ engine: 'level', collections: [{ collection: 'notes', objects: 1 }] })
    await run('npx', ['--no-install', 'stowage', 'dump', 'data', 'notes.jsonl'], dir)
    await run('npx', ['--no-install', 'stowage', 'restore', 'notes.jsonl', 'copy', '--engine', 'directory'], dir)
    expect(JSON.parse((await run('npx', ['--no-install', 'stowage', 'get', 'copy', 'notes', 'n1', '--json'], dir)).stdout)).toEqual({ collection: 'notes', oid: 'n1', record: { text: 'hi' } })
  }, SLOW)
})
