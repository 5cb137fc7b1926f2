import { createWriteStream } from 'node:fs'
import { open, rename, rm } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { finished } from 'node:stream/promises'
import type { Writable } from 'node:stream'
import { dumpItems, type DumpSource } from './dump-items.js'
import { writeDump, type DumpProgress, type DumpSummary } from './dump-writer.js'

export interface DumpOptions {
  onProgress?: (progress: DumpProgress) => void
}

/** Streams a dump of `source` (an open engine, or a read view of one) to `out`, which is left open. */
export function dump(source: DumpSource, out: Writable, options: DumpOptions = {}): Promise<DumpSummary> {
  return writeDump(dumpItems(source), out, { source: source.describe(), ...options })
}

/**
 * Dumps `source` into the file `path`: written under a temporary name beside it, flushed to disk,
 * then renamed, so a dump cut short (a crash, SIGKILL) never leaves a file at `path` that looks
 * complete; a failed one removes its temporary file.
 */
export async function dumpToFile(source: DumpSource, path: string, options: DumpOptions = {}): Promise<DumpSummary> {
  const temp = join(dirname(path), `.${basename(path)}.partial-${process.pid}`)
  const out = createWriteStream(temp, { flags: 'wx' })
  try {
    const summary = await dump(source, out, options)
    out.end()
    await finished(out)
    const handle = await open(temp, 'r')
    try {
      await handle.sync()
    } finally {
      await handle.close()
    }
    await rename(temp, path)
    return summary
  } catch (err) {
    out.destroy()
    await rm(temp, { force: true })
    throw err
  }
}
