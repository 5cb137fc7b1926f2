import { createReadStream } from 'node:fs'
import type { Readable } from 'node:stream'
import { COMPRESSION_MARK, CompressedEngine, type Compression } from '../compression/compressed-engine.js'
import { EncryptedEngine, KEY_SLOT } from '../crypto/encrypted-engine.js'
import type { UserKey } from '../crypto/store-key.js'
import type { Engine } from '../engine/engine.js'
import { ArgumentError, KeyError } from '../errors.js'
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
  /**
   * The target store is encrypted (as `Database.open({ encryption })`): a new one is made
   * encrypted, an existing one opened with this key. Copying a plain store so encrypts it, and
   * copying an encrypted store (opened with its key) without this option decrypts it.
   */
  encryption?: { key: UserKey; ordered?: string[] }
  /** The target store is compressed (as `Database.open({ compression })`). */
  compression?: Compression
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
  const plain = engineAt(path, kind)
  const sealed = options.encryption === undefined ? plain : new EncryptedEngine(plain, options.encryption.key, options.encryption.ordered === undefined ? {} : { ordered: options.encryption.ordered })
  const engine = options.compression === undefined ? sealed : new CompressedEngine(sealed, options.compression)
  let counts: DumpCounts
  try {
    await engine.open()
    await assertSameForm(engine, options)
    counts = await write(engine, remove !== undefined)
  } catch (err) {
    await engine.close().catch(() => {})
    await remove?.()
    throw err
  }
  await engine.close()
  return counts
}

/** An existing target that is encrypted or compressed is written only in its own form, never in the clear. */
async function assertSameForm(engine: Engine, options: StorePathOptions): Promise<void> {
  if (options.encryption === undefined && (await engine.getMany([KEY_SLOT]))[0] !== undefined) {
    throw new KeyError('WRONG_KEY', `${engine.describe()} is encrypted: give its key (encryption: { key }) to write into it`)
  }
  if (options.compression === undefined) {
    const [compression] = await engine.getMany([COMPRESSION_MARK])
    if (compression !== undefined) throw new ArgumentError(`${engine.describe()} is compressed (${String(compression)}): give compression: ${JSON.stringify(compression)} to write into it`)
  }
}

function opener(input: DumpInput): () => Readable {
  if (typeof input === 'string') return () => createReadStream(input)
  if (typeof input === 'function') return input
  throw new ArgumentError('A dump to restore is a file path or a function that opens it (it is read twice)')
}
