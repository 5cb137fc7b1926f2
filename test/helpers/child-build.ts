import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { readdir, rm } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'

const ROOT = resolve(import.meta.dirname, '../..')

/**
 * Compiles the package into a folder of its own under dist/ (inside the repo, so children resolve
 * node_modules), for tests whose child processes run plain Node: Node 20 cannot run TypeScript.
 * One folder per test file and process, since test runs may overlap.
 */
export async function buildForChildren(name: string): Promise<{ dist: string; cleanup(): Promise<void> }> {
  await removeLeftBuilds(name)
  const dist = join(ROOT, 'dist', `${name}-${process.pid}`)
  const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc')
  // Type errors elsewhere in the tree still emit JavaScript; what matters is that the package is there.
  await promisify(execFile)(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--outDir', dist], { cwd: ROOT }).catch(() => {})
  if (!existsSync(join(dist, 'src', 'index.js'))) throw new Error(`the build did not produce ${dist}`)
  return { dist, cleanup: () => rm(dist, { recursive: true, force: true }) }
}

/** Removes the folders of `name` that runs killed before their cleanup left (their process is gone). */
async function removeLeftBuilds(name: string): Promise<void> {
  const pattern = new RegExp(`^${name}-(\\d+)$`)
  const left = (await readdir(join(ROOT, 'dist')).catch(() => [])).filter((entry) => {
    const pid = Number(pattern.exec(entry)?.[1])
    return Number.isInteger(pid) && pid !== process.pid && !alive(pid)
  })
  await Promise.all(left.map((entry) => rm(join(ROOT, 'dist', entry), { recursive: true, force: true })))
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM' // there, but not ours to signal
  }
}
