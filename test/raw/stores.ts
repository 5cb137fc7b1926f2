import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { DirectoryEngine } from '../../src/engine/directory/directory-engine.js'
import type { Engine } from '../../src/engine/engine.js'
import { LevelEngine } from '../../src/engine/level/level-engine.js'
import { LmdbEngine } from '../../src/engine/lmdb/lmdb-engine.js'
import { PostgresEngine } from '../../src/engine/postgres/postgres-engine.js'
import { sql } from '../helpers/postgres.js'

/**
 * What raw data an engine holds on its storage, to check for leftovers: on Level/Memory/LMDB, the
 * chunk and staging-marker keys; on PostgreSQL, the rows of its chunks and staged tables; on Directory, every file in the collection directory that is
 * not a record (committed data files and staging temp files).
 */
export async function rawStorage(engine: Engine, collection: string): Promise<{ chunks: number; staging: number; files: string[] }> {
  if (engine instanceof LevelEngine) {
    const keys = (await engine.db.keys({ keyEncoding: 'utf8' }).all()) as string[]
    return { chunks: keys.filter((k) => k.startsWith('c')).length, staging: keys.filter((k) => k.startsWith('s')).length, files: [] }
  }
  if (engine instanceof LmdbEngine) {
    const keys = [...engine.db!.getKeys()]
    return { chunks: keys.filter((k) => k.startsWith('c')).length, staging: keys.filter((k) => k.startsWith('s')).length, files: [] }
  }
  if (engine instanceof PostgresEngine) {
    const [row] = await sql(`SELECT (SELECT count(*) FROM "${engine.schema}".chunks) AS chunks, (SELECT count(*) FROM "${engine.schema}".staged) AS staging`)
    return { chunks: Number(row!.chunks), staging: Number(row!.staging), files: [] }
  }
  if (engine instanceof DirectoryEngine) {
    let names: string[] = []
    try {
      names = await readdir(join(engine.root, collection))
    } catch {}
    const files = names.filter((n) => !n.endsWith('.json')).sort()
    return { chunks: 0, staging: files.filter((n) => n.startsWith('.stowage-')).length, files }
  }
  throw new Error(`unknown engine ${engine.describe()}`)
}
