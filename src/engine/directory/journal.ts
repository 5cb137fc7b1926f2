import { join } from 'node:path'
import { fsyncDir, isNotFound, renameIdempotent, unlinkIfExists } from './atomic-file.js'
import { mapLimit } from './map-limit.js'

/**
 * The file half of a batch, written to the level store in the same atomic level batch as the
 * batch's entries and manifest changes, before any file is touched. Paths are relative to the root.
 * Applying it is idempotent (a rename whose source is gone was done; an unlink of a missing file
 * was done), so a journal record left by a crash is simply applied again at open.
 */
export interface JournalRecord {
  /** [temp file, final file]: the temp file replaces the final one. */
  renames: [string, string][]
  unlinks: string[]
  /** Directories to fsync once the renames and unlinks are done ('' is the root). */
  dirs: string[]
}

export async function applyJournal(root: string, record: JournalRecord): Promise<void> {
  await mapLimit(record.renames, 32, ([from, to]) => renameIdempotent(join(root, from), join(root, to)))
  await mapLimit(record.unlinks, 32, (path) => unlinkIfExists(join(root, path)))
  await mapLimit(record.dirs, 8, async (dir) => {
    try {
      await fsyncDir(join(root, dir))
    } catch (err) {
      // A directory removed by hand while the store was closed: nothing left to make durable.
      if (!isNotFound(err)) throw err
    }
  })
}

export function parseJournal(text: string): JournalRecord {
  const r = JSON.parse(text) as JournalRecord
  return { renames: r.renames ?? [], unlinks: r.unlinks ?? [], dirs: r.dirs ?? [] }
}
