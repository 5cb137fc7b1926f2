import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CJS_CONSUMER, ESM_CONSUMER, EXPECTED, installProject, node, packStowage, result, run, SLOW, type Packed } from './helpers.js'

// The package as users get it: packed from a clean copy of the tree, installed from the tarball.
let packed: Packed

beforeAll(async () => {
  packed = await packStowage()
  console.log(`npm pack (build included): ${Math.round(packed.ms)} ms`)
}, SLOW)

afterAll(() => packed?.cleanup())

describe('the tarball', () => {
  it('holds the bundled build, its declarations, README, LICENSE and package.json, and no sources, modules or source maps', () => {
    const files = packed.files
    expect(files).toEqual(expect.arrayContaining(['package.json', 'README.md', 'LICENSE', 'dist/lib/index.js', 'dist/lib/testing.js', 'dist/lib/cli.js', 'dist/src/index.d.ts', 'dist/src/types/scalar-types.d.ts', 'dist/src/testing/index.d.ts']))
    // The JavaScript is the bundle: a few files in dist/lib, not one module per source file.
    const js = files.filter((f) => f.endsWith('.js'))
    expect(js.every((f) => f.startsWith('dist/lib/'))).toBe(true)
    expect(js.length).toBeLessThan(10)
    expect(files.filter((f) => !f.startsWith('dist/lib/') && !f.startsWith('dist/src/') && !['package.json', 'README.md', 'LICENSE'].includes(f))).toEqual([])
    expect(files.filter((f) => f.startsWith('dist/src/') && !f.endsWith('.d.ts'))).toEqual([])
    expect(files.filter((f) => f.endsWith('.map') || (f.endsWith('.ts') && !f.endsWith('.d.ts')))).toEqual([])
  })

  it('has JavaScript that refers to no source map', async () => {
    const extracted = join(packed.dir, 'extracted')
    await mkdir(extracted)
    await run('tar', ['-xzf', packed.tarball, '-C', extracted], packed.dir)
    for (const file of packed.files.filter((f) => f.endsWith('.js'))) {
      const js = await readFile(join(extracted, 'package', file), 'utf8')
      expect(js).not.toMatch(/sourceMappingURL/)
    }
    expect(await readFile(join(extracted, 'package', 'dist', 'lib', 'index.js'), 'utf8')).toContain('export')
  })
})

describe('installed from the tarball', () => {
  it('works in a CommonJS project through require(), without warnings', async () => {
    const dir = join(packed.dir, 'cjs')
    const install = await installProject(dir, 'commonjs', packed.tarball)
    console.log(`CommonJS project install: ${Math.round(install.ms)} ms`)
    await writeFile(join(dir, 'main.js'), CJS_CONSUMER)
    const ran = await node(['main.js'], dir)
    expect(result(ran)).toEqual(EXPECTED)
    expect(ran.stderr).toBe('')
  }, SLOW)

  it('works in an ES module project through import', async () => {
    const dir = join(packed.dir, 'esm')
    const install = await installProject(dir, 'module', packed.tarball)
    console.log(`ESM project install: ${Math.round(install.ms)} ms`)
    await writeFile(join(dir, 'main.js'), ESM_CONSUMER)
    const ran = await node(['main.js'], dir)
    expect(result(ran)).toEqual(EXPECTED)
    expect(ran.stderr).toBe('')
    // One copy of the package for both ways in: require() from this ESM project gives the same module.
    await writeFile(join(dir, 'same.js'), `import { createRequire } from 'node:module'
import * as imported from 'stowage'
const required = createRequire(import.meta.url)('stowage')
console.log(JSON.stringify({ same: required.StoredObject === imported.StoredObject && required.Database === imported.Database }))
`)
    expect(result(await node(['same.js'], dir))).toEqual({ same: true })
    // The bundle keeps the names of what it exports (messages and stack traces show them, and LevelEngine's describe() uses its own).
    await writeFile(join(dir, 'names.js'), `import * as stowage from 'stowage'
import * as testing from 'stowage/testing'
const renamed = Object.entries({ ...stowage, ...testing }).filter(([name, v]) => typeof v === 'function' && v.name !== name).map(([name, v]) => name + ' is named ' + v.name)
console.log(JSON.stringify({ classes: ['Database', 'LevelEngine', 'StoredObject', 'ValidationError'].map((n) => stowage[n].name), renamed, error: new stowage.ConstraintError('x').name }))
`)
    expect(result(await node(['names.js'], dir))).toEqual({ classes: ['Database', 'LevelEngine', 'StoredObject', 'ValidationError'], renamed: [], error: 'ConstraintError' })
    const manifest = await node(['-e', `console.log(JSON.stringify({ version: require('stowage/package.json').version }))`], dir)
    expect(result(manifest)).toEqual({ version: JSON.parse(await readFile(join(packed.dir, 'source', 'package.json'), 'utf8')).version })
  }, SLOW)

  it('offers the engine conformance suite as stowage/testing, which runs under node:test; no vitest is loaded or needed', async () => {
    const dir = join(packed.dir, 'engine-author')
    await installProject(dir, 'module', packed.tarball)
    await writeFile(join(dir, 'loads.js'), `import * as root from 'stowage'
import * as testing from 'stowage/testing'
let vitest = 'installed'
try { import.meta.resolve('vitest') } catch { vitest = 'absent' }
console.log(JSON.stringify({ root: typeof root.Engine, testing: Object.keys(testing), vitest }))
`)
    expect(result(await node(['loads.js'], dir))).toEqual({ root: 'function', testing: ['engineConformance'], vitest: 'absent' })
    await writeFile(join(dir, 'memory.test.js'), `import { afterEach, describe, it } from 'node:test'
import { MemoryEngine } from 'stowage'
import { engineConformance } from 'stowage/testing'
engineConformance({ name: 'MemoryEngine', async create() { const e = new MemoryEngine(); await e.open(); return e } }, { describe, it, afterEach })
`)
    const ran = await node(['--test', '--test-reporter=tap', 'memory.test.js'], dir)
    expect(ran.stdout).toMatch(/^# fail 0$/m)
    expect(Number(/^# pass (\d+)$/m.exec(ran.stdout)?.[1])).toBeGreaterThan(40)
  }, SLOW)
})
