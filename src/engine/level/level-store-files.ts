import { existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { ClassicLevel } from 'classic-level'
import { CorruptionError, InvalidPathError } from '../../errors.js'
import { levelError, repairHint } from './level-errors.js'
import type { LevelStore } from './level-errors.js'

/** Files that hold a LevelDB store's data or its list of tables (CURRENT, LOCK and LOG do not). */
const DATA_FILE = /^(?:MANIFEST-\d+|\d+\.(?:ldb|sst|log))$/

/**
 * Opens a level database (the engine's own, or a user's not yet open). Where it is a LevelDB store
 * (`root`, a ClassicLevel, is it or holds it), a directory that holds a store's files but no CURRENT
 * file is refused: LevelDB would open it as a new, empty store and delete the old tables. Errors
 * come out translated by `levelError`.
 */
export async function openLevelStore(db: { open(options?: any): Promise<void> }, root: ClassicLevel<any, any> | undefined, store: LevelStore, options: object = {}): Promise<void> {
  const refusal = root && missingCurrent(root.location, store)
  if (refusal) {
    // Before any await: closing now cancels the open abstract-level starts by itself after construction.
    await root!.close().catch(() => {})
    throw refusal
  }
  try {
    await db.open(options)
  } catch (err) {
    throw levelError(err, store, 'opening it')
  }
}

/**
 * A just constructed ClassicLevel opens itself on the next microtask unless told otherwise, with
 * `createIfMissing`: where CURRENT is missing, that alone would empty the store. This cancels that
 * open in that case (open() then refuses the store); synchronous, so it can run in a constructor.
 */
export function cancelOpenWithoutCurrent(root: ClassicLevel<any, any>, store: LevelStore): void {
  if (root.status === 'opening' && missingCurrent(root.location, store)) root.close().catch(() => {})
}

/**
 * The error for a store directory without CURRENT that holds a store's files; undefined if CURRENT
 * is there, or nothing is (a new store), or the path is no directory (open reports on that).
 * Synchronous, to run before anything else can open the store: one `existsSync` when all is well.
 */
function missingCurrent(location: string, store: LevelStore): CorruptionError | undefined {
  if (existsSync(join(location, 'CURRENT'))) return undefined
  const names = listDir(location)
  if (names instanceof Error) return undefined
  const found = names.filter((n) => DATA_FILE.test(n))
  if (found.length === 0) return undefined
  return new CorruptionError(
    `The LevelDB store at ${location} has no CURRENT file but holds ${summary(found)}: opened as it is, LevelDB would start a new, empty store there and delete them, so it is not opened.${repairHint(store)}`,
  )
}

/**
 * LevelDB's repair: rebuilds the list of tables (MANIFEST and CURRENT) from the table and log files,
 * dropping what it cannot read. It takes no lock of its own, so the store is first opened without
 * reading anything (create nothing, fail if it exists): a store held elsewhere gives LockedError.
 */
export async function repairLevelStore(location: string, store: LevelStore): Promise<void> {
  const names = listDir(location)
  if (names instanceof Error || !names.some((n) => DATA_FILE.test(n))) {
    const why = names instanceof Error ? names.message : 'it holds no MANIFEST, table or log file'
    throw new InvalidPathError(`There is no LevelDB store to repair at ${location}: ${why}`, { cause: names instanceof Error ? names : undefined })
  }
  const probe = new ClassicLevel(location)
  try {
    await probe.open({ createIfMissing: false, errorIfExists: true })
  } catch (err) {
    const translated = levelError(err, store, 'repairing it')
    if (!(translated instanceof CorruptionError) && translated !== err) throw translated // LockedError, InvalidPathError
  }
  await probe.close().catch(() => {})
  try {
    await ClassicLevel.repair(location)
  } catch (err) {
    throw levelError(err, store, 'repairing it')
  }
}

/** The names in a directory, or why it cannot be listed (no such directory, a file...). */
function listDir(location: string): string[] | Error {
  try {
    return readdirSync(location)
  } catch (err) {
    return err as Error
  }
}

function summary(names: string[]): string {
  const shown = names.sort().slice(0, 5).join(', ')
  return names.length > 5 ? `${shown} and ${names.length - 5} more` : shown
}
