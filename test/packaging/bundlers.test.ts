import { copyFile, mkdir, readdir, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { build as esbuild } from 'esbuild'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ESM_CONSUMER, EXPECTED, INSTALL, installedVersion, installProject, node, npm, packStowage, SLOW, type Packed, type Ran } from './helpers.js'

/**
 * What a bundle must leave to node_modules: packages that load native addons from paths computed at
 * run time (node-gyp-build's prebuilds next to the package), which a bundle cannot hold. Bundled,
 * classic-level fails to load and msgpackr silently loses its native accelerator.
 */
const EXTERNALS = ['classic-level', 'msgpackr-extract']

/**
 * An ESM bundle of CommonJS code that requires Node built-ins (fast-glob requires 'os') needs a real
 * `require`: esbuild's stand-in throws "Dynamic require of "os" is not supported".
 */
const ESM_BANNER = "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);"

// The app: the ESM consumer's scenario, plus whether msgpackr found its native accelerator.
const APP = ESM_CONSUMER.replace("import { Database, ", "import { isNativeAccelerationEnabled } from 'msgpackr'\nimport { Database, ").replace(
  'async function scenario() {',
  'console.log(JSON.stringify({ native: isNativeAccelerationEnabled }))\nasync function scenario() {',
)

let packed: Packed
/** The project the app is written and bundled in: Stowage installed from the tarball. */
let project: string
/** Where bundles run: a folder whose node_modules holds only the externals. */
let runDir: string

beforeAll(async () => {
  packed = await packStowage()
  project = join(packed.dir, 'app')
  const install = await installProject(project, 'module', packed.tarball)
  await writeFile(join(project, 'app.js'), APP)
  runDir = join(packed.dir, 'run')
  await mkdir(runDir)
  await writeFile(join(runDir, 'package.json'), JSON.stringify({ name: 'bundle-run', private: true }))
  const versions = await Promise.all(EXTERNALS.map((name) => installedVersion(project, name)))
  const externals = await npm([...INSTALL, ...EXTERNALS.map((name, i) => `${name}@${versions[i]}`)], runDir)
  console.log(`app install: ${Math.round(install.ms)} ms, externals install: ${Math.round(externals.ms)} ms`)
  const installed = (await readdir(join(runDir, 'node_modules'))).filter((name) => !name.startsWith('.'))
  expect(installed).toEqual(expect.arrayContaining(EXTERNALS))
  for (const bundled of ['stowage', 'validator', 'class-validator', 'msgpackr', 'fast-glob', 'memory-level']) expect(installed).not.toContain(bundled)
}, SLOW)

afterAll(() => packed?.cleanup())

/** Runs a bundle in the folder of externals; returns what the app printed. */
async function runBundle(file: string): Promise<{ native: unknown; result: unknown; ran: Ran }> {
  const name = file.split('/').pop()!
  await copyFile(file, join(runDir, name))
  const ran = await node([name], runDir)
  const lines = ran.stdout.trim().split('\n')
  return { native: JSON.parse(lines[0]!).native, result: JSON.parse(lines[lines.length - 1]!), ran }
}

describe('esbuild (platform node)', () => {
  it.each([
    ['esm', 'app.mjs'],
    ['cjs', 'app.cjs'],
  ] as const)('format %s: the bundle validates URLs and emails and round-trips an object on LevelDB', async (format, name) => {
    const outfile = join(packed.dir, `esbuild-${format}`, name)
    await esbuild({
      entryPoints: [join(project, 'app.js')],
      bundle: true,
      platform: 'node',
      target: 'node20',
      format,
      external: EXTERNALS,
      banner: format === 'esm' ? { js: ESM_BANNER } : undefined,
      outfile,
      logLevel: 'silent',
    })
    console.log(`esbuild ${format} bundle: ${(await stat(outfile)).size} bytes`)
    const { native, result, ran } = await runBundle(outfile)
    expect(result).toEqual(EXPECTED)
    expect(native).toBe(true)
    expect(ran.stderr).toBe('')
  }, SLOW)
})

describe('Vite (SSR build, dependencies bundled)', () => {
  it.each([
    ['es', 'app.mjs'],
    ['cjs', 'app.cjs'],
  ] as const)('format %s: the bundle validates URLs and emails and round-trips an object on LevelDB', async (format, name) => {
    const { build } = await import('vite')
    const outDir = join(packed.dir, `vite-${format}`)
    await build({
      root: project,
      configFile: false,
      logLevel: 'silent',
      ssr: { noExternal: true, external: EXTERNALS },
      build: {
        ssr: join(project, 'app.js'),
        outDir,
        emptyOutDir: true,
        rolldownOptions: { output: { format, entryFileNames: name } },
      },
    })
    console.log(`Vite ${format} bundle: ${(await stat(join(outDir, name))).size} bytes`)
    const { native, result, ran } = await runBundle(join(outDir, name))
    expect(result).toEqual(EXPECTED)
    expect(native).toBe(true)
    expect(ran.stderr).toBe('')
  }, SLOW)
})
