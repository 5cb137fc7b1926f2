import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { cp, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'

export const ROOT = resolve(import.meta.dirname, '../..')
/** The repository's own TypeScript (7.x). */
export const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc')

/** Packing, installing and compiling take seconds here and may take minutes on a loaded machine. */
export const SLOW = 10 * 60_000

export interface Ran {
  stdout: string
  stderr: string
  ms: number
}

/**
 * The environment without what `npm test` sets for this project (npm_config_local_prefix would
 * make npm in a temporary project work on this repository instead).
 */
function childEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith('npm_') && key !== 'INIT_CWD' && key !== 'NODE_OPTIONS') env[key] = value
  }
  return env
}

/** Runs a command; on failure the error carries its output, since that is what explains it. */
export function run(file: string, args: string[], cwd: string): Promise<Ran> {
  const started = performance.now()
  return new Promise((resolvePromise, reject) => {
    execFile(file, args, { cwd, env: childEnv(), maxBuffer: 64 * 1024 * 1024, timeout: SLOW }, (err, stdout, stderr) => {
      if (err) {
        reject(new Error(`${file} ${args.join(' ')} (in ${cwd}) failed: ${err.message}\n--- stdout\n${stdout}\n--- stderr\n${stderr}`))
      } else {
        resolvePromise({ stdout, stderr, ms: performance.now() - started })
      }
    })
  })
}

export const npm = (args: string[], cwd: string): Promise<Ran> => run('npm', args, cwd)
export const node = (args: string[], cwd: string): Promise<Ran> => run(process.execPath, args, cwd)

/** npm's cache, filled by `npm ci`, serves the installs; the registry only for what it lacks. */
export const INSTALL = ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error']

export interface Packed {
  /** A temporary folder holding the tarball; remove with `cleanup()`. */
  dir: string
  tarball: string
  /** Paths inside the package, as `npm pack` lists them. */
  files: string[]
  ms: number
  cleanup(): Promise<void>
}

/**
 * Packs the package as a clean clone of the working tree would: the tracked and untracked (not
 * ignored) files are copied without dist/, so `npm pack` itself must build what it ships. The
 * repository's node_modules is linked in, as `npm ci` would have installed it.
 */
export async function packStowage(): Promise<Packed> {
  const dir = await mkdtemp(join(tmpdir(), 'stowage-pack-'))
  const cleanup = () => rm(dir, { recursive: true, force: true })
  try {
    const source = join(dir, 'source')
    const listed = await run('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z'], ROOT)
    for (const path of listed.stdout.split('\0')) {
      const top = path.split('/')[0]
      // node_modules may be a symlink, which a .gitignore entry "node_modules/" does not cover.
      if (!path || top === 'node_modules' || top === 'dist' || !existsSync(join(ROOT, path))) continue
      await mkdir(dirname(join(source, path)), { recursive: true })
      await cp(join(ROOT, path), join(source, path))
    }
    await symlink(join(ROOT, 'node_modules'), join(source, 'node_modules'), 'dir')
    const packed = await npm(['pack', '--json', '--pack-destination', dir, '--loglevel=error'], source)
    const [info] = JSON.parse(packed.stdout.slice(packed.stdout.indexOf('['))) as [{ filename: string; files: { path: string }[] }]
    return { dir, tarball: join(dir, info.filename), files: info.files.map((f) => f.path), ms: packed.ms, cleanup }
  } catch (err) {
    await cleanup()
    throw err
  }
}

/** A new project in `dir` with the given module type, the tarball and `extra` packages installed. */
export async function installProject(dir: string, type: 'commonjs' | 'module', tarball: string, extra: string[] = []): Promise<Ran> {
  await mkdir(dir, { recursive: true })
  await writeFile(join(dir, 'package.json'), JSON.stringify({ name: `consumer-${type}`, private: true, type }, null, 2))
  return npm([...INSTALL, tarball, ...extra], dir)
}

/** The version of a package installed in a project. */
export async function installedVersion(project: string, name: string): Promise<string> {
  const manifest = JSON.parse(await readFile(join(project, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }
  return manifest.version
}

/** The version of @types/node this repository uses, so the consumers' installs come from npm's cache. */
export async function typesNodeVersion(): Promise<string> {
  return installedVersion(ROOT, '@types/node')
}

/** A model declared without decorator syntax, as plain JavaScript consumers do. */
const MODEL = `
class Site extends StoredObject {}
const SiteModel = defineModel(Site, {
  collection: 'sites',
  properties: { url: { type: Types.URL, required: true }, owner: Types.EMAIL, tags: Types.LIST(Types.STRING) },
})
`

/**
 * What each consumer checks, on LevelDB (the default engine) in a temporary folder: an object saved,
 * the database closed and opened again, the object read back; URL and EMAIL accept valid values
 * (some of them only validator's full checks accept, past the fast path) and refuse invalid ones
 * with a ValidationError. Prints one JSON line.
 */
const SCENARIO = `
async function scenario() {
  const dir = mkdtempSync(join(tmpdir(), 'stowage-consumer-'))
  try {
    let db = await Database.open({ path: dir, models: [SiteModel] })
    const site = await SiteModel.create({ url: 'https://example.com/a?b=1#c', owner: '"quoted local"@example.com', tags: ['x'] })
    const second = await SiteModel.create({ url: 'http://localhost:3000', owner: 'ann@example.com' })
    await db.close()
    db = await Database.open({ path: dir, models: [SiteModel] })
    const back = await SiteModel.get(site.oid)
    const refusals = []
    for (const props of [{ url: 'example.com' }, { url: 'javascript:alert(1)' }, { url: 'https://ok.example', owner: 'nope@' }, { url: 'https://ok.example', owner: 'a..b@example.com' }]) {
      try {
        await SiteModel.create(props)
        refusals.push('accepted')
      } catch (err) {
        refusals.push(err instanceof ValidationError ? err.name + ':' + err.code + ':' + err.errors.map((e) => e.property).join(',') : String(err))
      }
    }
    const result = {
      engine: db.engine?.constructor?.name,
      read: back && { url: back.url, owner: back.owner, tags: back.tags },
      count: await SiteModel.count(),
      accepted: [Types.URL.validate('ftp://files.example.org/x'), Types.EMAIL.validate('jörg@exämple.de'), Types.EMAIL.validate(second.owner)],
      refusals,
    }
    await db.close()
    console.log(JSON.stringify(result))
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
scenario().catch((err) => {
  console.error(err)
  process.exit(1)
})
`

export const CJS_CONSUMER = `const { mkdtempSync, rmSync } = require('node:fs')
const { tmpdir } = require('node:os')
const { join } = require('node:path')
const { Database, defineModel, StoredObject, Types, ValidationError } = require('stowage')
${MODEL}${SCENARIO}`

export const ESM_CONSUMER = `import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Database, defineModel, StoredObject, Types, ValidationError } from 'stowage'
${MODEL}${SCENARIO}`

/** What the scenario prints when everything works. */
export const EXPECTED = {
  engine: 'LevelEngine',
  read: { url: 'https://example.com/a?b=1#c', owner: '"quoted local"@example.com', tags: ['x'] },
  count: 2,
  accepted: [null, null, null],
  refusals: ['ValidationError:VALIDATION:url', 'ValidationError:VALIDATION:url', 'ValidationError:VALIDATION:owner', 'ValidationError:VALIDATION:owner'],
}

/** The last line of a scenario's output, parsed. */
export function result(ran: Ran): unknown {
  const lines = ran.stdout.trim().split('\n')
  return JSON.parse(lines[lines.length - 1]!)
}
