import { randomBytes } from 'node:crypto'
import { mkdir, open, rename, unlink } from 'node:fs/promises'
import type { FileHandle } from 'node:fs/promises'
import { dirname, join } from 'node:path'

/**
 * Every file the engine writes is first a dot-named temp file in the target directory (so it is
 * never mistaken for a record and the rename stays on one file system), written, fsynced, then
 * renamed over the target; the directory is fsynced after the rename.
 */
export const TEMP_PREFIX = '.stowage-'

/** A fresh temp file name in `dir`; `kind` is 'tmp' (record files) or 'stage' (raw data). */
export function tempPath(dir: string, kind: 'tmp' | 'stage', token = randomBytes(12).toString('hex')): string {
  return join(dir, `${TEMP_PREFIX}${kind}-${token}`)
}

export function isTempName(name: string): boolean {
  return name.startsWith(TEMP_PREFIX + 'tmp-') || name.startsWith(TEMP_PREFIX + 'stage-')
}

export interface WrittenTemp {
  path: string
  size: number
  mtimeMs: number
}

/** Writes `data` to a new temp file in `dir` and fsyncs it. The rename keeps the mtime. */
export async function writeTemp(dir: string, data: string | Uint8Array): Promise<WrittenTemp> {
  const path = tempPath(dir, 'tmp')
  const fh = await open(path, 'wx')
  let st
  try {
    await fh.writeFile(data)
    await fh.sync()
    st = await fh.stat()
  } catch (err) {
    await fh.close().catch(() => {})
    await unlink(path).catch(() => {})
    throw err
  }
  await fh.close()
  return { path, size: st.size, mtimeMs: st.mtimeMs }
}

/** Writes all of `chunk` (a file handle write may write less than asked). */
export async function writeAll(fh: FileHandle, chunk: Uint8Array): Promise<void> {
  let done = 0
  while (done < chunk.byteLength) {
    const { bytesWritten } = await fh.write(chunk, done, chunk.byteLength - done)
    done += bytesWritten
  }
}

/** Makes a directory entry durable: a rename, create or unlink inside `dir` survives power loss. */
export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r')
  try {
    await fh.sync()
  } finally {
    await fh.close()
  }
}

/** Creates `dir` (and parents) if needed; fsyncs the parent of a newly created directory. */
export async function ensureDir(dir: string): Promise<void> {
  const created = await mkdir(dir, { recursive: true })
  if (created === undefined) return
  await fsyncDir(dirname(created))
  if (created !== dir) await fsyncDir(dirname(dir))
}

/** Renames `from` to `to` unless `from` is gone already (the rename was done before a crash). */
export async function renameIdempotent(from: string, to: string): Promise<void> {
  try {
    await rename(from, to)
  } catch (err) {
    if (!isNotFound(err)) throw err
  }
}

export async function unlinkIfExists(path: string): Promise<void> {
  try {
    await unlink(path)
  } catch (err) {
    if (!isNotFound(err)) throw err
  }
}

export function isNotFound(err: unknown): boolean {
  return (err as NodeJS.ErrnoException)?.code === 'ENOENT'
}
