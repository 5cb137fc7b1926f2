import { mkdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import type { Writable } from 'node:stream'
import type { Database } from '../model/database.js'
import { dump, dumpToFile, type DumpOptions } from './dump.js'
import type { DumpSource } from './dump-items.js'
import type { DumpSummary } from './dump-writer.js'
import type { Enqueue } from './verify.js'

export interface BackupSummary extends DumpSummary {
  /** The file written, when the target was a path. */
  file?: string
  /**
   * How the backup was kept consistent: `snapshot` (the engine's read view; writes went on: every
   * built-in engine), or `writes-paused` (an engine without `snapshot()`: writes waited for it).
   */
  consistency: 'snapshot' | 'writes-paused'
}

/**
 * A consistent dump of the store as it was when the writes issued before `backup()` had landed, to
 * a file (written under a temporary name, then renamed: see `dumpToFile`), into a directory (as
 * `stowage-backup-<time>.jsonl`; a path ending with a separator names a directory, made if
 * missing), or to a stream (left open). On an engine with snapshots the dump reads one snapshot
 * while the app goes on writing; on one without, writes wait until it is done.
 */
export async function backupDatabase(db: Database, target: string | Writable, options: DumpOptions, enqueue: Enqueue): Promise<BackupSummary> {
  const { engine } = db
  const file = typeof target === 'string' ? fileFor(target) : undefined
  const write = (source: DumpSource) => (file !== undefined ? dumpToFile(source, file, options) : dump(source, target as Writable, options))
  if (engine.supports.snapshots === true) {
    const view = await enqueue(() => engine.snapshot())
    try {
      return { ...(await write(view)), ...(file === undefined ? {} : { file }), consistency: 'snapshot' }
    } finally {
      await view.release()
    }
  }
  return { ...(await enqueue(() => write(engine))), ...(file === undefined ? {} : { file }), consistency: 'writes-paused' }
}

/** The file to write: `target`, or a new file in it when it is a directory (or names one, ending with a separator: made if missing). */
function fileFor(target: string): string {
  let isDirectory = /[/\\]$/.test(target)
  if (isDirectory) mkdirSync(target, { recursive: true })
  else {
    try {
      isDirectory = statSync(target).isDirectory()
    } catch {}
  }
  return isDirectory ? join(target, `stowage-backup-${new Date().toISOString().replaceAll(':', '-')}.jsonl`) : target
}
