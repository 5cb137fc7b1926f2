import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import type { ClassicLevel } from 'classic-level'
import fg from 'fast-glob'
import { checkName } from '../engine.js'
import type { DamagedRecord, ExternalChange } from '../engine.js'
import { recordFileProblem } from './damage.js'
import { externalKey, levelRange, manifestKey, manifestPrefix, NS } from './keys.js'
import { mapLimit } from './map-limit.js'

export const RECORD_EXT = '.json'

/** What the manifest remembers of a record file, to notice edits made while the store was closed. */
export interface FileStamp {
  s: number
  /** mtime (ms), which a rename keeps: known when the batch commits. */
  t: number
  /**
   * ctime (ms), set by the file system on every change, so it also catches an edit that restores
   * size and mtime (`cp -p`, `rsync -t`, `touch -r`). Recorded once the file is in place (a rename
   * sets it); stamps without it (a crash before that) are compared by size and mtime only.
   */
  c?: number
  /**
   * Why the file cannot be read back, found when it was last checked (at an open that found it
   * added or changed): it stays damaged until the file changes again or the store rewrites it.
   */
  d?: string
}

export interface ReconcileResult {
  changes: ExternalChange[]
  counts: Map<string, number>
  /** Record files that cannot be read back: checked at this open, or at an earlier one and unchanged since. */
  damaged: DamagedRecord[]
}

type Db = ClassicLevel<Buffer, string>
type Op = { type: 'put'; key: Buffer; value: string } | { type: 'del'; key: Buffer }

/**
 * Compares the record files on disk with the manifest (by stat), brings the manifest up to date and
 * records each change as pending (until the layer above acknowledges it, so a crash before it
 * re-indexed them loses nothing) in one atomic level batch, and returns every pending change (from
 * this open and earlier unacknowledged ones), the record count per collection, and the damaged
 * files. Only added and changed files are read, to find damage; the manifest remembers it, so an
 * unchanged damaged file is reported again without reading it. Works one collection at a time, so
 * memory follows the largest collection, not the whole store. `onRecord` is called with every
 * record that is there.
 */
export async function reconcile(db: Db, root: string, indexDirName: string, onRecord: (collection: string, id: string) => void): Promise<ReconcileResult> {
  const collections = new Set(await manifestCollections(db))
  for (const d of await readdir(root, { withFileTypes: true })) {
    if (d.isDirectory() && d.name !== indexDirName && isSafeName('collection', d.name)) collections.add(d.name)
  }
  const changes: ExternalChange[] = []
  const counts = new Map<string, number>()
  const damaged: DamagedRecord[] = []
  const ops: Op[] = []
  for (const collection of [...collections].sort()) {
    // The stat walk and the manifest read overlap: both wait on I/O.
    const [files, known] = await Promise.all([recordFiles(join(root, collection)), db.iterator(levelRange(manifestPrefix(collection), {})).all()])
    const pathOf = (id: string) => join(root, collection, id + RECORD_EXT)
    /** Added and changed files, read below to find damage. */
    const check: Array<{ id: string; key: Buffer; stamp: FileStamp }> = []
    let count = 0
    for (const [key, value] of known) {
      const id = key.toString('utf8', Buffer.byteLength(manifestPrefix(collection)))
      const file = files.get(id)
      files.delete(id)
      if (!file) {
        changes.push({ collection, id, kind: 'removed' })
        ops.push({ type: 'del', key })
        continue
      }
      count++
      onRecord(collection, id)
      const known = JSON.parse(value) as FileStamp
      if (known.s !== file.s || known.t !== file.t || (known.c !== undefined && known.c !== file.c)) {
        changes.push({ collection, id, kind: 'changed' })
        check.push({ id, key, stamp: file })
      } else if (known.d !== undefined) {
        damaged.push({ collection, id, file: pathOf(id), reason: known.d })
      }
    }
    for (const [id, file] of [...files].sort(([a], [b]) => (a < b ? -1 : 1))) {
      count++
      onRecord(collection, id)
      changes.push({ collection, id, kind: 'added' })
      check.push({ id, key: manifestKey(collection, id), stamp: file })
    }
    const problems = await mapLimit(check, 32, (c) => recordFileProblem(pathOf(c.id)))
    check.forEach((c, i) => {
      const problem = problems[i]
      if (problem !== undefined) damaged.push({ collection, id: c.id, file: pathOf(c.id), reason: problem })
      ops.push({ type: 'put', key: c.key, value: JSON.stringify(problem === undefined ? c.stamp : { ...c.stamp, d: problem }) })
    })
    if (count > 0) counts.set(collection, count)
  }
  for (const c of changes) ops.push({ type: 'put', key: externalKey(c.collection, c.id), value: c.kind })
  if (ops.length > 0) await db.batch(ops, { sync: true })
  return { changes: await pendingChanges(db), counts, damaged }
}

/** External changes recorded and not yet acknowledged. */
async function pendingChanges(db: Db): Promise<ExternalChange[]> {
  const out: ExternalChange[] = []
  const range = { gte: Buffer.from(NS.external, 'utf8'), lt: Buffer.from(String.fromCharCode(NS.external.charCodeAt(0) + 1), 'utf8') }
  for await (const [key, kind] of db.iterator(range)) {
    const nul = key.indexOf(0)
    out.push({ collection: key.toString('utf8', 1, nul), id: key.toString('utf8', nul + 1), kind: kind as ExternalChange['kind'] })
  }
  return out
}

/** Forgets the pending external changes: the layer above has made them durable in its own way. */
export async function acknowledgeChanges(db: Db, changes: ExternalChange[]): Promise<void> {
  if (changes.length === 0) return
  await db.batch(
    changes.map((c) => ({ type: 'del' as const, key: externalKey(c.collection, c.id) })),
    { sync: true },
  )
}

export function fileStamp(stats: { size: number; mtimeMs: number; ctimeMs: number }): FileStamp {
  return { s: stats.size, t: stats.mtimeMs, c: stats.ctimeMs }
}

/** `<id>.json` files of a collection directory with their stamps; none if it is missing. */
async function recordFiles(dir: string): Promise<Map<string, FileStamp>> {
  const out = new Map<string, FileStamp>()
  let entries: fg.Entry[]
  try {
    entries = await fg('*' + RECORD_EXT, { cwd: dir, onlyFiles: true, dot: false, stats: true, suppressErrors: false, concurrency: 64 })
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return out
    throw err
  }
  for (const e of entries) {
    const id = e.name.slice(0, -RECORD_EXT.length)
    if (!isSafeName('id', id) || !e.stats) continue
    out.set(id, fileStamp(e.stats))
  }
  return out
}

/** Distinct collections in the manifest, found by skipping from one collection to the next. */
async function manifestCollections(db: Db): Promise<string[]> {
  const out: string[] = []
  let from = Buffer.from(NS.manifest, 'utf8')
  const end = Buffer.from(String.fromCharCode(NS.manifest.charCodeAt(0) + 1), 'utf8')
  for (;;) {
    const [key] = await db.keys({ gte: from, lt: end, limit: 1 }).all()
    if (!key) return out
    const nul = key.indexOf(0)
    const collection = key.toString('utf8', 1, nul)
    out.push(collection)
    from = Buffer.concat([key.subarray(0, nul), Buffer.from([1])])
  }
}

function isSafeName(what: 'collection' | 'id', name: string): boolean {
  try {
    checkName(what, name)
    return true
  } catch {
    return false
  }
}
