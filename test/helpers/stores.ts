import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach } from 'vitest'
import type { Engine } from '../../src/engine/engine.js'
import { Database, type DatabaseOptions } from '../../src/model/database.js'
import { DirectoryEngine } from '../../src/engine/directory/directory-engine.js'
import { LevelEngine } from '../../src/engine/level/level-engine.js'
import { LmdbEngine } from '../../src/engine/lmdb/lmdb-engine.js'
import { MemoryEngine } from '../../src/engine/memory/memory-engine.js'
import { dropSchema, freshSchema, postgresEngine } from './postgres.js'

/** A place data lives in, for tests that must run on every engine. */
export interface Store {
  /** An engine over this store's data: a new one on the same location each call (persistent engines). */
  engine(): Engine
  persistent: boolean
  cleanup(): Promise<void>
}

export interface StoreKind {
  name: string
  make(): Promise<Store>
}

export async function tempDir(prefix = 'stowage-test-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix))
}

function onDisk(name: string, make: (dir: string) => Engine): StoreKind {
  return {
    name,
    async make() {
      const dir = await tempDir()
      return { engine: () => make(dir), persistent: true, cleanup: () => rm(dir, { recursive: true, force: true }) }
    },
  }
}

/** Memory, Directory, LevelDB, LMDB and PostgreSQL (a schema each): every model feature is tested on each. */
export const storeKinds: StoreKind[] = [
  {
    name: 'memory',
    async make() {
      const engine = new MemoryEngine()
      return { engine: () => engine, persistent: false, cleanup: async () => {} }
    },
  },
  onDisk('directory', (dir) => new DirectoryEngine(join(dir, 'store'))),
  onDisk('level', (dir) => new LevelEngine(join(dir, 'db'))),
  onDisk('lmdb', (dir) => new LmdbEngine(join(dir, 'db.lmdb'))),
  {
    name: 'postgres',
    async make() {
      const schema = freshSchema()
      return { engine: () => postgresEngine(schema), persistent: true, cleanup: () => dropSchema(schema) }
    },
  },
]

/** An engine made at a path (in a fresh directory), for tests that wrap engines themselves (encryption, compression). */
export interface PathKind {
  name: string
  make(dir: string): Engine
  persistent: boolean
}

/** Memory, Directory, LevelDB and LMDB, each made at a path under a test's directory. */
export const pathKinds: PathKind[] = [
  { name: 'memory', make: () => new MemoryEngine(), persistent: false },
  { name: 'directory', make: (dir) => new DirectoryEngine(join(dir, 'store')), persistent: true },
  { name: 'level', make: (dir) => new LevelEngine(join(dir, 'db')), persistent: true },
  { name: 'lmdb', make: (dir) => new LmdbEngine(join(dir, 'db.lmdb')), persistent: true },
]

/** The database of a per-engine test: see `databaseEach`. */
export interface TestDatabase {
  readonly store: Store
  readonly db: Database
  /** Closes the database and opens it again on the same store (with other options if given, else the same). */
  reopen(options?: Pick<DatabaseOptions, 'cache'>): Promise<Database>
}

/**
 * Before each test, opens a database with `models` on a fresh store of this kind; after it, closes
 * the database and removes the store.
 */
export function databaseEach(kind: StoreKind, models: Function[], options: Pick<DatabaseOptions, 'cache'> = {}): TestDatabase {
  let store: Store | undefined
  let db: Database | undefined
  beforeEach(async () => {
    store = await kind.make()
    db = await Database.open({ engine: store.engine(), models, ...options })
  })
  afterEach(async () => {
    await db?.close()
    await store?.cleanup()
  })
  return {
    get store() {
      return store!
    },
    get db() {
      return db!
    },
    async reopen(again = options) {
      await db!.close()
      db = await Database.open({ engine: store!.engine(), models, ...again })
      return db
    },
  }
}
