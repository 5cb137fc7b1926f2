import { opendir, readdir, stat } from 'node:fs/promises'
import type { Dir } from 'node:fs'
import { join } from 'node:path'
import type { ClassicLevel } from 'classic-level'
import { checkName } from '../engine.js'
import type { DamagedRecord, ExternalChange } from '../engine.js'
import { recordFileProblem } from './damage.js'
import { externalKey, levelRange, manifestKey, manifestPrefix, NS } from './keys.js'
import { mapLimit } from './map-limit.js'
import { pagesOf } from '../pages.js'

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
 * unchanged damaged file is reported again without reading it. Streamed: memory follows a page of
 * files and what changed, not the number of records. `onRecord` is called with every record that
 * is there.
 */
export async function reconcile(db: Db, root: string, indexDirName: string, onRecord: (collection: string, id: string) => void): Promise<ReconcileResult> {
  const collections = new Set(await manifestCollections(db))
  for (const d of await readdir(root, { withFileTypes: true })) {
    if (d.isDirectory() && d.name !== indexDirName && isSafeName('collection', d.name)) collections.add(d.name)
  }
  const found: Found = { changes: [], damaged: [], ops: [] }
  const counts = new Map<string, number>()
  for (const collection of [...collections].sort()) {
    const count = await reconcileCollection(db, root, collection, onRecord, found)
    if (count > 0) counts.set(collection, count)
  }
  const ops = found.ops
  for (const c of found.changes) ops.push({ type: 'put', key: externalKey(c.collection, c.id), value: c.kind })
  if (ops.length > 0) await db.batch(ops, { sync: true })
  return { changes: await pendingChanges(db), counts, damaged: found.damaged }
}

interface Found {
  changes: ExternalChange[]
  damaged: DamagedRecord[]
  ops: Op[]
}

/** Files stat'ed and manifest stamps read per step. */
const PAGE = 256

/**
 * One collection: its directory read a page of names at a time, each `<id>.json` stat'ed and
 * looked up in the manifest (added, changed or unchanged); then, only if fewer files matched than
 * the manifest lists, the manifest read through for the files that are gone. Returns the count.
 */
async function reconcileCollection(db: Db, root: string, collection: string, onRecord: (collection: string, id: string) => void, found: Found): Promise<number> {
  const pathOf = (id: string) => join(root, collection, id + RECORD_EXT)
  /** Added and changed files, read below to find damage. */
  const check: Array<{ id: string; key: Buffer; stamp: FileStamp; kind: 'added' | 'changed' }> = []
  const gone: string[] = []
  const damaged: DamagedRecord[] = []
  let count = 0
  let matched = 0
  for await (const ids of recordIdPages(join(root, collection))) {
    const keys = ids.map((id) => manifestKey(collection, id))
    const [stamps, known] = await Promise.all([mapLimit(ids, 64, (id) => statStamp(pathOf(id))), db.getMany(keys)])
    ids.forEach((id, i) => {
      const file = stamps[i]
      if (file === undefined) return // not a file, or gone since it was listed
      count++
      onRecord(collection, id)
      const text = known[i]
      if (text === undefined) return void check.push({ id, key: keys[i]!, stamp: file, kind: 'added' })
      matched++
      const stamp = JSON.parse(text) as FileStamp
      if (stamp.s !== file.s || stamp.t !== file.t || (stamp.c !== undefined && stamp.c !== file.c)) check.push({ id, key: keys[i]!, stamp: file, kind: 'changed' })
      else if (stamp.d !== undefined) damaged.push({ collection, id, file: pathOf(id), reason: stamp.d })
    })
  }
  const prefix = manifestPrefix(collection)
  if ((await countKeys(db, prefix)) > matched) {
    for await (const keys of keyPages(db, prefix)) {
      const ids = keys.map((k) => k.toString('utf8', Buffer.byteLength(prefix)))
      const stamps = await mapLimit(ids, 64, (id) => statStamp(pathOf(id)))
      ids.forEach((id, i) => {
        if (stamps[i] !== undefined) return
        gone.push(id)
        found.ops.push({ type: 'del', key: keys[i]! })
      })
    }
  }
  // Reported as before: removed and changed in id order, then added.
  const byBytes = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b))
  const older = [...gone.map((id) => ({ id, kind: 'removed' as const })), ...check.filter((c) => c.kind === 'changed')].sort((a, b) => byBytes(a.id, b.id))
  const added = check.filter((c) => c.kind === 'added').sort((a, b) => (a.id < b.id ? -1 : 1))
  for (const c of [...older, ...added]) found.changes.push({ collection, id: c.id, kind: c.kind })
  const problems = await mapLimit(check, 32, (c) => recordFileProblem(pathOf(c.id)))
  check.forEach((c, i) => {
    const problem = problems[i]
    if (problem !== undefined) damaged.push({ collection, id: c.id, file: pathOf(c.id), reason: problem })
    found.ops.push({ type: 'put', key: c.key, value: JSON.stringify(problem === undefined ? c.stamp : { ...c.stamp, d: problem }) })
  })
  found.damaged.push(...damaged.sort((a, b) => byBytes(a.id, b.id)))
  return count
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

/** The ids of the `<id>.json` names in a collection directory, a page at a time, in directory order; none if it is missing. */
async function* recordIdPages(dir: string): AsyncGenerator<string[]> {
  let handle: Dir
  try {
    handle = await opendir(dir, { bufferSize: PAGE })
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return
    throw err
  }
  yield* pagesOf(recordIds(handle), PAGE)
}

async function* recordIds(handle: Dir): AsyncGenerator<string> {
  for await (const entry of handle) {
    if (!entry.name.endsWith(RECORD_EXT) || entry.isDirectory()) continue
    const id = entry.name.slice(0, -RECORD_EXT.length)
    if (isSafeName('id', id)) yield id
  }
}

/** The stamp of a regular file, or undefined if there is none at `path`. */
async function statStamp(path: string): Promise<FileStamp | undefined> {
  try {
    const stats = await stat(path)
    return stats.isFile() ? fileStamp(stats) : undefined
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined
    throw err
  }
}

async function countKeys(db: Db, prefix: string): Promise<number> {
  let n = 0
  for await (const keys of keyPages(db, prefix)) n += keys.length
  return n
}

/** The level keys starting with `prefix`, a page at a time. */
async function* keyPages(db: Db, prefix: string): AsyncGenerator<Buffer[]> {
  const it = db.keys(levelRange(prefix, {}))
  try {
    for (;;) {
      const keys = await it.nextv(PAGE)
      if (keys.length === 0) return
      yield keys
    }
  } finally {
    await it.close()
  }
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
