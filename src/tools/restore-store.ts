import { createReadStream } from 'node:fs'
import type { Readable } from 'node:stream'
import type { Engine } from '../engine/engine.js'
import { ArgumentError } from '../errors.js'
import type { DumpSource } from './dump-items.js'
import { dumpItems } from './dump-items.js'
import { checkDump, readDump } from './dump-reader.js'
import type { DumpCounts } from './dump-writer.js'
import { applyItems, assertWritable, type ApplyOptions } from './restore.js'
import { checkKind, detectKind, engineAt, newStorePath, type EngineKind } from './store-path.js'

/** A dump to restore: a file path, or a function opening the dump afresh on each call. */
export type DumpInput = string | (() => Readable)

export interface RestoreOptions extends ApplyOptions {}

export interface StorePathOptions extends ApplyOptions {
  /** The engine of a new store (default `level`); an existing store's own is used. */
  engine?: EngineKind
}

/**
 * Restores a dump into an open engine. The dump is read through and checked first (checksums,
 * trailer, raw data), then read again and written: a bad dump writes nothing. Refuses a store that
 * holds data unless `merge`.
 */
export async function restore(input: DumpInput, target: Engine, options: RestoreOptions = {}): Promise<DumpCounts> {
  const open = opener(input)
  await assertWritable(target, options.merge)
  await checkDump(open())
  return applyItems(target, readDump(open()), options)
}

/**
 * Restores a dump into the store at `path`. A new store (nothing at `path`, or an empty directory)
 * is written as the dump is read, in one pass, and removed if the dump turns out bad; an existing
 * one is written only after the whole dump checked out, and only with `merge`.
 */
export async function restoreToPath(input: DumpInput, path: string, options: StorePathOptions = {}): Promise<DumpCounts> {
  const open = opener(input)
  return intoPath(path, options, (engine, fresh) => (fresh ? applyItems(engine, readDump(open()), options) : restore(open, engine, options)))
}

/**
 * Copies every object, link, update time and raw data of `source` into `target` (an open engine),
 * streamed: the target's indexes are rebuilt from the records at each model's first use. Refuses a
 * target that holds data unless `merge`.
 */
export async function copy(source: DumpSource, target: Engine, options: RestoreOptions = {}): Promise<DumpCounts> {
  await assertWritable(target, options.merge)
  return applyItems(target, dumpItems(source), options)
}

/** `copy` into the store at `path`: a new one is removed if the copy fails. */
export async function copyToPath(source: DumpSource, path: string, options: StorePathOptions = {}): Promise<DumpCounts> {
  return intoPath(path, options, (engine, fresh) => (fresh ? applyItems(engine, dumpItems(source), options) : copy(source, engine, options)))
}

async function intoPath(path: string, options: StorePathOptions, write: (engine: Engine, fresh: boolean) => Promise<DumpCounts>): Promise<DumpCounts> {
  const existing = detectKind(path)
  const kind = existing ?? checkKind(options.engine ?? 'level')
  if (existing !== undefined && options.engine !== undefined && options.engine !== existing) {
    throw new ArgumentError(`${path} is a ${existing} store, not ${options.engine}`)
  }
  const remove = existing === undefined ? newStorePath(path, kind) : undefined
  if (existing === undefined && remove === undefined) throw new ArgumentError(`${path} exists and is not a Stowage store: give a new path or an empty directory`)
  const engine = engineAt(path, kind)
  await engine.open()
  let counts: DumpCounts
  try {
    counts = await write(engine, remove !== undefined)
  } catch (err) {
    await engine.close().catch(() => {})
    await remove?.()
    throw err
  }
  await engine.close()
  return counts
}

function opener(input: DumpInput): () => Readable {
  if (typeof input === 'string') return () => createReadStream(input)
  if (typeof input === 'function') return input
  throw new ArgumentError('A dump to restore is a file path or a function that opens it (it is read twice)')
}
