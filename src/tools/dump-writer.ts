import { createHash } from 'node:crypto'
import { once } from 'node:events'
import type { Writable } from 'node:stream'
import { toJsonValue } from '../engine/directory/json-codec.js'
import { DUMP_FORMAT, DUMP_VERSION, sealLine } from './dump-format.js'
import type { DumpItem } from './dump-items.js'

/** What a dump or a restore carried. */
export interface DumpCounts {
  records: number
  entries: number
  /** Raw data objects, and their bytes. */
  raw: number
  rawBytes: number
}

export interface DumpSummary extends DumpCounts {
  /** Lines written, trailer included, and bytes. */
  lines: number
  bytes: number
  sha256: string
}

export interface DumpProgress extends DumpCounts {
  bytes: number
}

export interface WriteDumpOptions {
  /** Named in the header: where the data came from. */
  source: string
  onProgress?: (progress: DumpProgress) => void
}

/** Text written per `write()` call. */
const FLUSH_AT = 256 * 1024

/**
 * Writes items as a dump (format in dump-format.ts) to `out`, waiting for it to drain, and ends
 * with the trailer. `out` is not ended: the caller closes it (and syncs a file).
 */
export async function writeDump(items: AsyncIterable<DumpItem>, out: Writable, options: WriteDumpOptions): Promise<DumpSummary> {
  const hash = createHash('sha256')
  const counts: DumpCounts = { records: 0, entries: 0, raw: 0, rawBytes: 0 }
  let lines = 0
  let bytes = 0
  let pending = ''
  const flush = async (): Promise<void> => {
    if (pending === '') return
    const text = pending
    pending = ''
    hash.update(text)
    bytes += Buffer.byteLength(text)
    if (!out.write(text)) await drained(out)
    options.onProgress?.({ ...counts, bytes })
  }
  const line = async (body: string): Promise<void> => {
    pending += sealLine(body) + '\n'
    lines++
    if (pending.length >= FLUSH_AT) await flush()
  }
  await line(JSON.stringify({ format: DUMP_FORMAT, version: DUMP_VERSION, created: new Date().toISOString(), source: options.source }))
  for await (const item of items) {
    switch (item.kind) {
      case 'record': {
        const where = `${item.collection}/${item.id}`
        await line(JSON.stringify({ t: 'record', c: item.collection, id: item.id, v: toJsonValue(item.value, where) }))
        counts.records++
        break
      }
      case 'entry':
        await line(JSON.stringify({ t: 'entry', k: item.key, v: toJsonValue(item.value, `entry ${JSON.stringify(item.key)}`) }))
        counts.entries++
        break
      case 'raw': {
        await line(JSON.stringify({ t: 'raw', c: item.collection, id: item.id, ...(item.extension === undefined ? {} : { ext: item.extension }) }))
        const digest = createHash('sha256')
        let size = 0
        for await (const chunk of item.data) {
          digest.update(chunk)
          size += chunk.byteLength
          await line(`{"t":"chunk","d":"${Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString('base64')}"}`)
        }
        await line(JSON.stringify({ t: 'rawEnd', size, sha256: digest.digest('hex') }))
        counts.raw++
        counts.rawBytes += size
        break
      }
    }
  }
  await flush()
  const sha256 = hash.digest('hex')
  const trailer = sealLine(JSON.stringify({ t: 'end', ...counts, lines, sha256 })) + '\n'
  if (!out.write(trailer)) await drained(out)
  bytes += Buffer.byteLength(trailer)
  return { ...counts, lines: lines + 1, bytes, sha256 }
}

/** Waits for `out` to drain, or throws the error it failed with. */
async function drained(out: Writable): Promise<void> {
  await once(out, 'drain')
}
