import { randomBytes } from 'node:crypto'
import { linkSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { threadId } from 'node:worker_threads'
import { InvalidPathError, LockedError } from '../../errors.js'

/** The lock files held by engines in this process. */
const held = new Set<string>()

interface Owner {
  pid: number
  /** The worker thread (0: the main thread): threads of one process share its pid. */
  thread: number
  /** When the process started (Linux: /proc/<pid>/stat), so that a reused pid is not taken for it. */
  start: string | null
  host: string
}

/**
 * A store held by one process at a time: a lock file naming the owner (pid, start time, host),
 * created atomically (a full temp file hard-linked into place, which fails if one is there). A lock
 * whose process is gone (killed, crashed) is stale and taken over; one held by a live process, or
 * by another engine in this process, gives LockedError. LMDB itself lets many processes share a
 * store, which Stowage's single-writer consistency (the indexes, the identity map) does not allow.
 */
export class OwnerLock {
  private constructor(
    readonly path: string,
    readonly content: string,
  ) {}

  /** Takes the lock at `path` for the store `store` (as messages name it). */
  static acquire(path: string, store: string): OwnerLock {
    if (held.has(path)) throw new LockedError(`Cannot open ${store}: another engine in this process holds it (${path}). Close it there first.`)
    const content = JSON.stringify({ pid: process.pid, thread: threadId, start: startTime(process.pid) ?? null, host: hostname() } satisfies Owner)
    for (let attempt = 0; attempt < 5; attempt++) {
      if (create(path, content)) {
        held.add(path)
        return new OwnerLock(path, content)
      }
      const found = read(path)
      if (found === undefined) continue // released meanwhile
      const owner = parse(found)
      if (owner !== undefined && isAlive(owner)) {
        const who = owner.pid === process.pid ? `another thread of this process (thread ${owner.thread})` : `another process (pid ${owner.pid}${owner.host === hostname() ? '' : ` on ${owner.host}`})`
        throw new LockedError(`Cannot open ${store}: ${who} holds it, as ${path} says. Close it there first.`)
      }
      takeOver(path, found)
    }
    throw new LockedError(`Cannot open ${store}: other processes keep taking its lock ${path}`)
  }

  release(): void {
    held.delete(this.path)
    if (read(this.path) === this.content) {
      try {
        unlinkSync(this.path)
      } catch {}
    }
  }
}

/** Creates the lock file with `content`; false if one is there. */
function create(path: string, content: string): boolean {
  const temp = `${path}.${process.pid}-${randomBytes(4).toString('hex')}`
  try {
    writeFileSync(temp, content, { flag: 'wx' })
  } catch (err) {
    throw new InvalidPathError(`Cannot create the lock file ${path}: ${(err as Error).message}`, { cause: err })
  }
  try {
    linkSync(temp, path)
    return true
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false
    throw new InvalidPathError(`Cannot create the lock file ${path}: ${(err as Error).message}`, { cause: err })
  } finally {
    try {
      unlinkSync(temp)
    } catch {}
  }
}

/**
 * Removes a stale lock that read `stale`. It is moved aside first and checked: if another process
 * took it over in between (the moved file is not the stale one), it is put back.
 */
function takeOver(path: string, stale: string): void {
  const aside = `${path}.stale-${process.pid}-${randomBytes(4).toString('hex')}`
  try {
    renameSync(path, aside)
  } catch {
    return // gone meanwhile
  }
  if (read(aside) !== stale) {
    try {
      linkSync(aside, path)
    } catch {}
  }
  try {
    unlinkSync(aside)
  } catch {}
}

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8')
  } catch {
    return undefined
  }
}

function parse(text: string): Owner | undefined {
  try {
    const o = JSON.parse(text) as Owner
    return Number.isInteger(o.pid) && o.pid > 0 && typeof o.host === 'string' ? o : undefined
  } catch {
    return undefined
  }
}

/** Whether the owner still runs. On another host it cannot be told, so it counts as alive. */
function isAlive(owner: Owner): boolean {
  if (owner.host !== hostname()) return true
  // Not in `held`: left by an engine of this thread that never closed; another thread's counts as alive.
  if (owner.pid === process.pid) return owner.thread !== threadId
  try {
    process.kill(owner.pid, 0)
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
  const start = startTime(owner.pid)
  if (start === ZOMBIE) return false
  return owner.start === null || start === undefined || start === owner.start
}

const ZOMBIE = 'zombie'

/** A process's start time (Linux), ZOMBIE for a process that has exited, undefined where unknown. */
function startTime(pid: number): string | undefined {
  let stat: string
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  } catch {
    return undefined
  }
  // Fields after the command name (which may hold spaces): state is field 3, starttime field 22.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  if (fields[0] === 'Z' || fields[0] === 'X') return ZOMBIE
  return fields[19]
}
