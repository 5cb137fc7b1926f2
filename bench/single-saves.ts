/**
 * Saves one at a time, each its own write, as apps make them outside transactions: `Model.create()`
 * awaited before the next, on each persistent engine and on the raw stores doing the same single
 * writes (a classic-level put; an lmdb-js transaction of one put, with the LmdbEngine's flags), and
 * the same model with a unique index too (each create then checks that its key is free). Each
 * store holds 20,000 objects first. Cases alternate in rounds (`interleaved`).
 *
 *   npm run bench -- single-saves
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ClassicLevel } from 'classic-level'
import { open as openLmdb } from 'lmdb'
import { Packr } from 'msgpackr'
import { Database, DirectoryEngine, Index, LevelEngine, LmdbEngine, Model, Property, StoredObject, Types, type Engine } from '../src/index.js'
import { TXN_FLUSH_LATER } from '../src/engine/lmdb/lmdb-engine.js'
import { PACKR_OPTIONS } from '../src/engine/level/msgpack-codec.js'
import { newOid } from '../src/model/oid.js'
import { fmt, interleaved, machine, type Case } from './bench-utils.js'

const PRELOAD = 20_000
/** The LmdbEngine's write transactions: abortable, synchronous, flush overlapped. */
const LMDB_TXN_FLAGS = TXN_FLUSH_LATER as unknown as import('lmdb').TransactionFlags

/** A model class of its own for each database. */
export function noteModel(): typeof StoredObject {
  @Model({ collection: 'notes' })
  class Note extends StoredObject {
    @Property(Types.STRING) title!: string
    @Property(Types.STRING) @Index() author!: string
    @Property(Types.INTEGER) @Index() score!: number
  }
  return Note
}

/** The same note with a unique index on one more property, as an email or a slug would be. */
export function uniqueNoteModel(): typeof StoredObject {
  @Model({ collection: 'notes' })
  class Note extends StoredObject {
    @Property(Types.STRING) title!: string
    @Property(Types.STRING) @Index() author!: string
    @Property(Types.INTEGER) @Index() score!: number
    @Property(Types.STRING) @Index({ unique: true }) slug!: string
  }
  return Note
}

export const note = (i: number) => ({ title: `Note number ${i}`, author: `author${i % 100}`, score: i })
export const uniqueNote = (i: number) => ({ ...note(i), slug: `note-${i}` })

async function stowage(name: string, engine: Engine, unique = false): Promise<{ c: Case; close(): Promise<void> }> {
  const Note = unique ? uniqueNoteModel() : noteModel()
  const data = unique ? uniqueNote : note
  const db = await Database.open({ engine, models: [Note] })
  await db.transaction(() => {
    for (let i = 0; i < PRELOAD; i++) new Note(data(i))
  })
  let i = PRELOAD
  return { c: { name, units: 1, fn: () => Note.create(data(i++)) }, close: () => db.close() }
}

export async function run(): Promise<void> {
  console.log(`Machine: ${machine()}`)
  console.log(`Date: ${new Date().toISOString()}  Command: npm run bench -- single-saves  (${fmt(PRELOAD)} objects in each store first)`)
  const dir = mkdtempSync(join(tmpdir(), 'stowage-bench-single-'))
  const packr = new Packr(PACKR_OPTIONS)
  try {
    const level = await stowage('Stowage, LevelEngine', new LevelEngine(join(dir, 'level')))
    const lmdb = await stowage('Stowage, LmdbEngine', new LmdbEngine(join(dir, 'db.lmdb')))
    const directory = await stowage('Stowage, DirectoryEngine', new DirectoryEngine(join(dir, 'files')))
    const levelUnique = await stowage('Stowage, LevelEngine, the model with a unique index too', new LevelEngine(join(dir, 'level-unique')), true)
    const lmdbUnique = await stowage('Stowage, LmdbEngine, the model with a unique index too', new LmdbEngine(join(dir, 'unique.lmdb')), true)

    const classic = new ClassicLevel<string, Buffer>(join(dir, 'classic'), { keyEncoding: 'utf8', valueEncoding: 'buffer' })
    await classic.batch(Array.from({ length: PRELOAD }, (_, i) => ({ type: 'put' as const, key: `n!${newOid()}`, value: packr.pack(note(i)) })))
    const rawLmdb = openLmdb(join(dir, 'raw.lmdb'), { noSubdir: true, encoding: 'binary', overlappingSync: true, compression: false, cache: false } as object)
    rawLmdb.transactionSync(() => {
      for (let i = 0; i < PRELOAD; i++) void rawLmdb.put(`n${newOid()}`, packr.pack(note(i)))
    }, LMDB_TXN_FLAGS)
    let n = PRELOAD
    const cases: Case[] = [
      level.c,
      { name: 'classic-level put + msgpackr', units: 1, fn: () => classic.put(`n!${newOid()}`, packr.pack(note(n++))) },
      lmdb.c,
      { name: 'lmdb-js transactionSync of one put + msgpackr (the LmdbEngine\'s flags)', units: 1, fn: () => rawLmdb.transactionSync(() => void rawLmdb.put(`n${newOid()}`, packr.pack(note(n++))), LMDB_TXN_FLAGS) },
      directory.c,
      levelUnique.c,
      lmdbUnique.c,
    ]
    console.log('\nsaves one at a time, each its own write (saves/s):')
    const results = await interleaved(cases, 300)
    console.log('\n| case | saves/s | µs per save |')
    console.log('|---|---:|---:|')
    for (const r of results) console.log(`| ${r.name} | ${fmt(r.unitsPerSec)} | ${(1e6 / r.unitsPerSec).toFixed(0)} |`)
    await Promise.all([level.close(), lmdb.close(), directory.close(), levelUnique.close(), lmdbUnique.close(), classic.close(), rawLmdb.close()])
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
