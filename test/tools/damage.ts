import { truncateSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { DirectoryEngine } from '../../src/engine/directory/directory-engine.js'
import type { Engine } from '../../src/engine/engine.js'
import { LevelEngine } from '../../src/engine/level/level-engine.js'
import { recordKey } from '../../src/engine/level/level-keys.js'
import { LmdbEngine } from '../../src/engine/lmdb/lmdb-engine.js'
import { PostgresEngine } from '../../src/engine/postgres/postgres-engine.js'
import { sql } from '../helpers/postgres.js'

/** A sealed value (see sealed-values.ts) whose checksum cannot match: what a flipped byte leaves. */
const GARBLED = Buffer.from([0xc1, 0, 0, 0, 0, 0x81, 0xa1, 0x78, 0x01])

/** Garbles a record in the engine's own storage, behind its back: its next read finds it damaged. */
export async function garbleRecord(engine: Engine, collection: string, id: string): Promise<void> {
  if (engine instanceof DirectoryEngine) writeFileSync(join(engine.root, collection, `${id}.json`), '{"properties": {"na')
  else if (engine instanceof LmdbEngine) (engine.db as unknown as { putSync(k: string, v: Buffer): void }).putSync(recordKey(collection, id), GARBLED)
  else if (engine instanceof LevelEngine) await engine.db.put(recordKey(collection, id), GARBLED, { keyEncoding: 'utf8', valueEncoding: 'buffer' } as never)
  else if (engine instanceof PostgresEngine) {
    // Values there are plain msgpack: a cut one does not decode.
    await sql(`UPDATE "${engine.schema}".records SET value = '\\x9201'::bytea WHERE collection = $1 AND id = $2`, [Buffer.from(collection), Buffer.from(id)])
  } else throw new Error(`cannot garble a record of ${engine.describe()}`)
}

/**
 * Raw data cut short behind the record's back: the Directory engine's file truncated; on the other
 * engines, whose data lives in chunks among their keys, the data replaced by its first 1,000 bytes
 * through the engine (the record still giving the old size and SHA-256).
 */
export async function truncateRaw(engine: Engine, collection: string, id: string): Promise<void> {
  if (engine instanceof DirectoryEngine) return truncateSync(engine.rawPath(collection, id)!, 1000)
  const chunks: Uint8Array[] = []
  for await (const chunk of engine.readRaw(collection, id)) chunks.push(chunk)
  const staged = await engine.stageRaw(collection, id, [Buffer.concat(chunks).subarray(0, 1000)])
  await engine.batch([{ type: 'putRaw', collection, id, staged }])
}
