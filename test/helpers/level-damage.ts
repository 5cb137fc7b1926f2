import { randomBytes } from 'node:crypto'
import { readdirSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { ClassicLevel } from 'classic-level'
import { expect } from 'vitest'
import { CorruptionError } from '../../src/errors.js'

/**
 * Ways to damage the files of a LevelDB store, for tests of what the engines make of it. Values
 * should be random text (`noise()`), and the store compacted by `compactStore`, which writes its
 * tables without snappy: every value then lies in the .ldb files as written, and a test can find and
 * change it. (Snappy leaves most random text alone but replaces any 4 bytes it saw earlier in the
 * block by a reference, so a compressed table would hold about one value in a hundred cut up.)
 */

/** Random text, unique in a store. */
export function noise(length = 40): string {
  return randomBytes(length).toString('base64').slice(0, length)
}

/** The .ldb (and older .sst) table files of a store, full paths, sorted. */
export function tableFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.ldb') || f.endsWith('.sst'))
    .sort()
    .map((f) => join(dir, f))
}

/** The store's MANIFEST file. */
export function manifestFile(dir: string): string {
  const name = readdirSync(dir).find((f) => f.startsWith('MANIFEST-'))
  if (!name) throw new Error(`no MANIFEST in ${dir}`)
  return join(dir, name)
}

/**
 * Opens the closed LevelDB store at `dir` on its own, moves everything (its log included) into .ldb
 * table files written without compression, and closes it.
 */
export async function compactStore(dir: string): Promise<void> {
  const db = new ClassicLevel(dir, { compression: false })
  await db.open()
  // A manual compaction rewrites every table it covers (no table is moved as it is), with the options of this open.
  await db.compactRange('\u0000', '\uffff')
  await db.close()
}

/**
 * Flips the lowest bit of the byte in the middle of the first occurrence of `needle` in the store's
 * table files (or of the byte `offset` bytes into it). Returns the file it changed.
 */
export function flipByteOf(dir: string, needle: string | Buffer, offset?: number): string {
  const bytes = typeof needle === 'string' ? Buffer.from(needle) : needle
  for (const file of tableFiles(dir)) {
    const content = readFileSync(file)
    const at = content.indexOf(bytes)
    if (at < 0) continue
    if (content.indexOf(bytes, at + 1) >= 0) throw new Error(`${JSON.stringify(String(needle))} occurs twice in ${file}`)
    content[at + (offset ?? bytes.length >> 1)]! ^= 0x01
    writeFileSync(file, content)
    return file
  }
  throw new Error(`${JSON.stringify(String(needle))} is in no table file of ${dir}`)
}

/**
 * How many times `needle` occurs in the store's table files. A key can occur more than once: a table's
 * index block may keep a block's last key whole as the separator to the next block.
 */
export function occurrences(dir: string, needle: string | Buffer): number {
  const bytes = typeof needle === 'string' ? Buffer.from(needle) : needle
  let count = 0
  for (const file of tableFiles(dir)) {
    const content = readFileSync(file)
    for (let at = content.indexOf(bytes); at >= 0; at = content.indexOf(bytes, at + 1)) count++
  }
  return count
}

/**
 * Inverts `length` bytes from `length / 2` before the first occurrence of `needle` in the store's
 * table files: entry headers included, so LevelDB finds garbage in that block.
 */
export function garbleAround(dir: string, needle: string, length = 64): string {
  for (const file of tableFiles(dir)) {
    const content = readFileSync(file)
    const at = content.indexOf(Buffer.from(needle))
    if (at < 0) continue
    for (let i = at - (length >> 1); i < at + (length >> 1); i++) content[i]! ^= 0xff
    writeFileSync(file, content)
    return file
  }
  throw new Error(`${JSON.stringify(needle)} is in no table file of ${dir}`)
}

/** Cuts a file to half its size. */
export function truncateHalf(file: string): void {
  truncateSync(file, statSync(file).size >> 1)
}

/**
 * Opens an engine on a store whose table files were cut. LevelDB may already need a cut table at
 * open (a compaction it schedules then, or a lookup consulting an overlapping table): then checks
 * that the open was refused the same way reads are (CorruptionError naming `location`, LevelDB's
 * I/O error as cause) and gives undefined.
 */
export async function openUnlessRefused<E>(open: () => Promise<E>, location: string): Promise<E | undefined> {
  const result = await open().catch((x: Error) => x)
  if (!(result instanceof Error)) return result
  expect(result).toBeInstanceOf(CorruptionError)
  expect(result.message).toContain(location)
  expect((result.cause as { code?: string })?.code).toBe('LEVEL_IO_ERROR')
  return undefined
}
