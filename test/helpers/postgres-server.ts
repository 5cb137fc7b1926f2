import { execFile, spawn } from 'node:child_process'
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir, userInfo } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)

/** A PostgreSQL server of the tests' own, in a temporary directory, on a free local port. */
export interface PostgresServer {
  /** `postgres://stowage@127.0.0.1:<port>/postgres` */
  url: string
  port: number
  /** Stops it at once (as a crash would) and starts it again on the same port and data. */
  restart(): Promise<void>
  stop(): Promise<void>
}

/**
 * The server binaries: $POSTGRES_BIN, or Debian's (`apt-get install postgresql`), newest version first.
 */
function binaries(): string {
  const candidates = [process.env.POSTGRES_BIN]
  const debian = '/usr/lib/postgresql'
  if (existsSync(debian)) candidates.push(...readdirSync(debian).sort((a, b) => Number(b) - Number(a)).map((v) => join(debian, v, 'bin')))
  const found = candidates.find((dir) => dir && existsSync(join(dir, 'pg_ctl')) && existsSync(join(dir, 'initdb')))
  if (!found) throw new Error('No PostgreSQL server binaries: install Debian\'s postgresql package (.ci/run does) or set POSTGRES_BIN to the folder holding pg_ctl and initdb')
  return found
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}

/**
 * The server outlives the process that started it (pg_ctl detaches it): a watcher stops it at once
 * and removes its directory when that process is gone, however it ended (a killed test run too).
 */
function reapWhenGone(dir: string): void {
  const pidFile = join(dir, 'data', 'postmaster.pid')
  const script = `while kill -0 ${process.pid} 2>/dev/null; do sleep 2; done; [ -f "${pidFile}" ] && kill -QUIT "$(head -1 "${pidFile}")" 2>/dev/null; sleep 2; rm -rf "${dir}"`
  spawn('sh', ['-c', script], { detached: true, stdio: 'ignore' }).unref()
}

/** PostgreSQL refuses to run as root: as root, the server runs as Debian's postgres user. */
async function lookupPostgresUser(): Promise<{ uid: number; gid: number } | undefined> {
  if (userInfo().uid !== 0) return undefined
  const { stdout } = await run('id', ['-u', 'postgres']).catch(() => ({ stdout: '' }))
  const { stdout: g } = await run('id', ['-g', 'postgres']).catch(() => ({ stdout: '' }))
  if (!stdout.trim()) throw new Error('Running as root, PostgreSQL needs another user to run as: Debian\'s postgresql package creates "postgres"')
  return { uid: Number(stdout), gid: Number(g) }
}

/**
 * Starts a fresh server: `initdb` (trust authentication for user `stowage`, UTF-8, C locale) and
 * `pg_ctl start`, without fsync (test data need not survive a power loss), with room for the
 * connections of many test processes.
 */
export async function startPostgres(): Promise<PostgresServer> {
  const bin = binaries()
  const dir = mkdtempSync(join(tmpdir(), 'stowage-pg-'))
  const user = await lookupPostgresUser()
  if (user) chownSync(dir, user.uid, user.gid)
  const as = user ?? {}
  const data = join(dir, 'data')
  await run(join(bin, 'initdb'), ['-D', data, '-A', 'trust', '-U', 'stowage', '--no-sync', '-E', 'UTF8', '--locale=C'], { ...as, cwd: dir })
  const port = await freePort()
  const settings = [`-p ${port}`, `-k ${dir}`, '-c listen_addresses=127.0.0.1', '-c fsync=off', '-c full_page_writes=off', '-c max_connections=400', '-c shared_buffers=64MB']
  const pgCtl = (...args: string[]) => run(join(bin, 'pg_ctl'), ['-D', data, ...args], { ...as, cwd: dir })
  const start = async () => {
    await pgCtl('-o', settings.join(' '), '-l', join(dir, 'log'), '-w', 'start')
    reapWhenGone(dir)
  }
  await start()
  return {
    url: `postgres://stowage@127.0.0.1:${port}/postgres`,
    port,
    async restart() {
      await pgCtl('-m', 'immediate', '-w', 'stop')
      await start()
    },
    async stop() {
      await pgCtl('-m', 'immediate', '-w', 'stop').catch(() => {})
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
