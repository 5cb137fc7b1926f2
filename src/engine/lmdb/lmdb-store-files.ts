import { closeSync, existsSync, mkdirSync, openSync, readSync, statSync } from 'node:fs'
import { endianness } from 'node:os'
import { dirname, join } from 'node:path'
import { CorruptionError, InvalidPathError, StowageError } from '../../errors.js'

/** LMDB's meta page starts with a 16-byte page header, then the magic number (native byte order). */
const MAGIC_OFFSET = 16 + 8
const MAGIC = 0xbeefc0de

/**
 * Checks, before LMDB touches anything, that `path` can hold an LMDB store file: missing (a new
 * store: its parent directories are created), empty (what LMDB leaves before its first commit), or
 * an LMDB data file. LMDB opened on anything else would overwrite it or crash the process, so a
 * directory (a LevelDB or Directory store, say) or another kind of file is refused with
 * InvalidPathError, and nothing is written.
 */
export function checkStorePath(path: string, engine: string): void {
  let stat
  try {
    stat = statSync(path)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw pathError(path, err)
    try {
      mkdirSync(dirname(path), { recursive: true })
    } catch (mkdirErr) {
      throw pathError(path, mkdirErr)
    }
    return
  }
  if (stat.isDirectory()) {
    const kind = existsSync(join(path, 'CURRENT')) ? 'a LevelDB store (open it with LevelEngine)' : existsSync(join(path, '.stowage')) ? 'a Directory store (open it with DirectoryEngine)' : 'a directory'
    throw new InvalidPathError(`${engine} cannot open ${path}: it is ${kind}. LmdbEngine keeps its store in one file (e.g. ./db.lmdb), with a lock file beside it.`)
  }
  if (!stat.isFile()) throw new InvalidPathError(`${engine} cannot open ${path}: it is not a regular file`)
  if (stat.size === 0) return
  const head = Buffer.alloc(MAGIC_OFFSET + 4)
  let fd: number
  try {
    fd = openSync(path, 'r')
  } catch (err) {
    throw pathError(path, err)
  }
  try {
    const n = readSync(fd, head, 0, head.length, 0)
    const native = endianness() === 'LE' ? head.readUInt32LE(MAGIC_OFFSET) : head.readUInt32BE(MAGIC_OFFSET)
    const swapped = endianness() === 'LE' ? head.readUInt32BE(MAGIC_OFFSET) : head.readUInt32LE(MAGIC_OFFSET)
    if (n === head.length && native === MAGIC) return
    if (n === head.length && swapped === MAGIC) {
      throw new InvalidPathError(`${engine} cannot open ${path}: it is an LMDB store written on a machine of the other byte order`)
    }
  } catch (err) {
    if (err instanceof StowageError) throw err
    throw new CorruptionError(`${engine} cannot read ${path}: ${(err as Error).message}`, { cause: err })
  } finally {
    closeSync(fd)
  }
  throw new InvalidPathError(`${engine} cannot open ${path}: it is a file of ${stat.size} bytes that is not an LMDB store`)
}

function pathError(path: string, err: unknown): InvalidPathError {
  return new InvalidPathError(`Cannot use ${path} for an LMDB store: ${(err as Error).message}`, { cause: err })
}
