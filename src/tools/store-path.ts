import { closeSync, existsSync, openSync, readdirSync, readSync, statSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { endianness } from 'node:os'
import { join } from 'node:path'
import { DirectoryEngine } from '../engine/directory/directory-engine.js'
import type { Engine } from '../engine/engine.js'
import { LevelEngine } from '../engine/level/level-engine.js'
import { LmdbEngine } from '../engine/lmdb/lmdb-engine.js'
import { ArgumentError, InvalidPathError } from '../errors.js'

/** The engines whose stores live at a path. */
export type EngineKind = 'level' | 'lmdb' | 'directory'
export const ENGINE_KINDS: readonly EngineKind[] = ['level', 'lmdb', 'directory']

/** LMDB's meta page: a 16-byte page header, 8 bytes, then the magic number in native byte order. */
const LMDB_MAGIC_OFFSET = 24
const LMDB_MAGIC = 0xbeefc0de

/**
 * The engine of the store at `path`, recognised from its files: a Directory store's
 * `.stowage/index`, LevelDB's CURRENT file, LMDB's data file; undefined when there is no store.
 */
export function detectKind(path: string): EngineKind | undefined {
  let stat
  try {
    stat = statSync(path)
  } catch {
    return undefined
  }
  if (stat.isDirectory()) {
    if (existsSync(join(path, '.stowage', 'index'))) return 'directory'
    if (existsSync(join(path, 'CURRENT'))) return 'level'
    return undefined
  }
  if (!stat.isFile() || stat.size < LMDB_MAGIC_OFFSET + 4) return undefined
  const head = Buffer.alloc(LMDB_MAGIC_OFFSET + 4)
  const fd = openSync(path, 'r')
  try {
    readSync(fd, head, 0, head.length, 0)
  } finally {
    closeSync(fd)
  }
  const magic = endianness() === 'LE' ? head.readUInt32LE(LMDB_MAGIC_OFFSET) : head.readUInt32BE(LMDB_MAGIC_OFFSET)
  return magic === LMDB_MAGIC ? 'lmdb' : undefined
}

export function checkKind(kind: unknown): EngineKind {
  if (typeof kind === 'string' && (ENGINE_KINDS as string[]).includes(kind)) return kind as EngineKind
  throw new ArgumentError(`Unknown engine ${JSON.stringify(kind)}: use one of ${ENGINE_KINDS.join(', ')}`)
}

/** A new engine (not open) over the store at `path`. */
export function engineAt(path: string, kind: EngineKind): Engine {
  switch (kind) {
    case 'level':
      return new LevelEngine(path)
    case 'lmdb':
      return new LmdbEngine(path)
    case 'directory':
      return new DirectoryEngine(path)
  }
}

/** An engine over the existing store at `path`, of the kind its files show. */
export function existingEngine(path: string): { engine: Engine; kind: EngineKind } {
  const kind = detectKind(path)
  if (kind === undefined) {
    const what = existsSync(path) ? 'holds no Stowage store that can be recognised (no .stowage/index, LevelDB CURRENT file or LMDB data file)' : 'does not exist'
    throw new InvalidPathError(`${path} ${what}`)
  }
  return { engine: engineAt(path, kind), kind }
}

/**
 * Whether a new store may be made at `path`: nothing there, or an empty directory. Returns how to
 * remove what the new store wrote there, should its writing fail.
 */
export function newStorePath(path: string, kind: EngineKind): (() => Promise<void>) | undefined {
  if (!existsSync(path)) {
    return async () => {
      await rm(path, { recursive: true, force: true })
      if (kind === 'lmdb') for (const suffix of ['-lock', '-owner']) await rm(path + suffix, { force: true })
    }
  }
  const stat = statSync(path)
  if (kind !== 'lmdb' && stat.isDirectory() && readdirSync(path).length === 0) {
    return async () => {
      for (const name of readdirSync(path)) await rm(join(path, name), { recursive: true, force: true })
    }
  }
  return undefined
}
