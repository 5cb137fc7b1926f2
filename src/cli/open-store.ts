import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { Engine } from '../engine/engine.js'
import { COMPRESSION_MARK, CompressedEngine } from '../compression/compressed-engine.js'
import { EncryptedEngine, KEY_SLOT } from '../crypto/encrypted-engine.js'
import { KeyError } from '../errors.js'
import { Database } from '../model/database.js'
import { metaOf } from '../model/meta.js'
import { existingEngine, type EngineKind } from '../tools/store-path.js'
import { UsageError } from './exit-codes.js'

/** The model classes a module exports (directly, or in an exported array or object). */
export async function loadModels(path: string): Promise<Function[]> {
  let mod: Record<string, unknown>
  try {
    mod = (await import(pathToFileURL(resolve(path)).href)) as Record<string, unknown>
  } catch (err) {
    throw new UsageError(`cannot load models from ${path}: ${(err as Error).message}`)
  }
  const found = new Set<Function>()
  const visit = (v: unknown, depth: number): void => {
    if (typeof v === 'function' && metaOf(v) !== undefined) found.add(v)
    else if (depth < 2 && v !== null && typeof v === 'object') for (const x of Object.values(v)) visit(x, depth + 1)
  }
  for (const v of Object.values(mod)) visit(v, 0)
  if (found.size === 0) throw new UsageError(`${path} exports no model class (a class decorated with @Model(), or made by defineModel())`)
  return [...found]
}

/**
 * The engine of the store at `path`, of the kind its files show; an encrypted store is opened with
 * the key in the environment variable STOWAGE_KEY (a passphrase: an argument would show in process
 * lists).
 */
function storeEngine(path: string): { engine: Engine; kind: EngineKind } {
  const { engine, kind } = existingEngine(path)
  const key = process.env.STOWAGE_KEY
  return { engine: key === undefined || key === '' ? engine : new EncryptedEngine(engine, key), kind }
}

/** The open engine of the store at `path`, of the kind its files show (and compressed if the store is). */
export async function openEngine(path: string): Promise<{ engine: Engine; kind: EngineKind }> {
  const { engine, kind } = storeEngine(path)
  await engine.open()
  if (!(engine instanceof EncryptedEngine) && (await engine.getMany([KEY_SLOT]))[0] !== undefined) {
    await engine.close()
    throw new KeyError('WRONG_KEY', `${engine.describe()} is encrypted: give its passphrase in the environment variable STOWAGE_KEY`)
  }
  const [compression] = await engine.getMany([COMPRESSION_MARK])
  if (compression !== 'brotli' && compression !== 'gzip') return { engine, kind }
  await engine.close()
  const compressed = new CompressedEngine(storeEngine(path).engine, compression)
  await compressed.open()
  return { engine: compressed, kind }
}

/** A database on the store at `path`, with the models of `modelsPath` if given. */
export async function openDatabase(path: string, modelsPath: string | undefined): Promise<Database> {
  const models = modelsPath === undefined ? [] : await loadModels(modelsPath)
  const { engine } = await openEngine(path) // open, and compressed if the store is
  return Database.open({ engine, models })
}

/** Runs `fn` with the thing opened, closing it whatever happens. */
export async function using<T extends { close(): Promise<void> }, R>(opened: T, fn: (it: T) => Promise<R>): Promise<R> {
  try {
    return await fn(opened)
  } finally {
    await opened.close()
  }
}
