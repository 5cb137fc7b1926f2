import { createHash } from 'node:crypto'
import { StringDecoder } from 'node:string_decoder'
import type { Readable } from 'node:stream'
import { fromJsonValue } from '../engine/directory/json-codec.js'
import { StowageError } from '../errors.js'
import { DUMP_FORMAT, DUMP_VERSION, openLine } from './dump-format.js'
import type { DumpItem, RawDigest } from './dump-items.js'
import type { DumpCounts } from './dump-writer.js'
import { DumpError } from './errors.js'

type Line = Record<string, unknown>

/**
 * The items of a dump read from `input`, each line checked as it comes (its checksum, its shape, its
 * place), raw data against its recorded size and SHA-256, and at the end the trailer's counts and
 * SHA-256 over every line before it. Items come before the end is checked: a caller that must
 * write nothing from a bad dump reads it through once first (`checkDump`). Every fault is a
 * `DumpError` naming its line.
 */
export async function* readDump(input: Readable): AsyncGenerator<DumpItem, DumpCounts> {
  const lines = linesOf(input)
  const hash = createHash('sha256')
  const counts: DumpCounts = { records: 0, entries: 0, raw: 0, rawBytes: 0 }
  let n = 0
  let last: { collection: string; id: string } | undefined
  /** The next line, parsed and checked; undefined at the end of the input. */
  const next = async (): Promise<Line | undefined> => {
    let r: IteratorResult<string>
    try {
      r = await lines.next()
    } catch (err) {
      throw err instanceof StowageError ? err : new DumpError(`cannot read the dump: ${(err as Error).message}`, n + 1, { cause: err })
    }
    if (r.done) return undefined
    n++
    const opened = openLine(r.value)
    if ('problem' in opened) throw new DumpError(opened.problem, n)
    let parsed: unknown
    try {
      parsed = JSON.parse(opened.body)
    } catch {
      throw new DumpError('the line is not JSON', n)
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new DumpError('the line is not a JSON object', n)
    const line = parsed as Line
    if (line.t !== 'end') hash.update(r.value + '\n')
    return line
  }
  const fail = (message: string): never => {
    throw new DumpError(message, n)
  }
  const text = (line: Line, field: string): string => (typeof line[field] === 'string' && line[field] !== '' ? (line[field] as string) : fail(`"${field}" must be a non-empty string`))
  const value = (line: Line, where: string): unknown => {
    try {
      return fromJsonValue(line.v, where)
    } catch (err) {
      return fail(`${where}: ${(err as Error).message}`)
    }
  }

  try {
    const header = await next()
    if (header === undefined) throw new DumpError('the dump is empty', 1)
    if (header.format !== DUMP_FORMAT) fail(`not a Stowage dump (the header's format is ${JSON.stringify(header.format)}, not "${DUMP_FORMAT}")`)
    if (header.version !== DUMP_VERSION) fail(`dump format version ${JSON.stringify(header.version)} is not supported (this Stowage reads version ${DUMP_VERSION})`)
    for (;;) {
      const line = await next()
      if (line === undefined) throw new DumpError('the dump is truncated: it ends without its trailer line', n + 1)
      switch (line.t) {
        case 'record': {
          const collection = text(line, 'c')
          const id = text(line, 'id')
          last = { collection, id }
          counts.records++
          yield { kind: 'record', collection, id, value: value(line, `${collection}/${id}`) }
          break
        }
        case 'entry': {
          const key = text(line, 'k')
          last = undefined
          counts.entries++
          yield { kind: 'entry', key, value: value(line, `entry ${JSON.stringify(key)}`) }
          break
        }
        case 'raw': {
          const collection = text(line, 'c')
          const id = text(line, 'id')
          if (last?.collection !== collection || last.id !== id) fail(`raw data of ${collection}/${id} does not follow its record`)
          if (line.ext !== undefined && typeof line.ext !== 'string') fail('"ext" must be a string')
          let expected: RawDigest | undefined
          let done = false
          const data = async function* (): AsyncGenerator<Uint8Array> {
            const digest = createHash('sha256')
            let size = 0
            for (;;) {
              const chunk = await next()
              if (chunk === undefined) throw new DumpError(`the dump is truncated inside the raw data of ${collection}/${id}`, n + 1)
              if (chunk.t === 'rawEnd') {
                if (chunk.size !== size || chunk.sha256 !== digest.digest('hex')) {
                  fail(`the raw data of ${collection}/${id} does not match its recorded size and SHA-256 (${String(chunk.size)} bytes, ${String(chunk.sha256)}): read ${size} bytes`)
                }
                expected = { size, sha256: chunk.sha256 as string }
                done = true
                return
              }
              if (chunk.t !== 'chunk' || typeof chunk.d !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(chunk.d)) fail(`expected a chunk of the raw data of ${collection}/${id}`)
              const bytes = Buffer.from(chunk.d as string, 'base64')
              digest.update(bytes)
              size += bytes.byteLength
              yield new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)
            }
          }
          const item = data()
          yield { kind: 'raw', collection, id, ...(line.ext === undefined ? {} : { extension: line.ext as string }), data: item, expected: () => expected }
          // A consumer that did not read the data (a check) still has it checked.
          if (!done) for await (const _ of item);
          counts.raw++
          counts.rawBytes += expected!.size
          last = undefined
          break
        }
        case 'end': {
          const sha256 = hash.digest('hex')
          for (const key of ['records', 'entries', 'raw', 'rawBytes'] as const) {
            if (line[key] !== counts[key]) fail(`the trailer counts ${String(line[key])} ${key}, the dump holds ${counts[key]}`)
          }
          if (line.lines !== n - 1) fail(`the trailer counts ${String(line.lines)} lines before it, the dump has ${n - 1}`)
          if (line.sha256 !== sha256) fail('the SHA-256 of the lines before the trailer does not match the trailer (lines were changed, added or removed)')
          const extra = await next().catch(() => ({}))
          if (extra !== undefined) throw new DumpError('lines follow the trailer', n)
          return counts
        }
        default:
          fail(`unexpected line type ${JSON.stringify(line.t)}`)
      }
    }
  } finally {
    await lines.return(undefined)
  }
}

/** Reads a dump through, checking all of it, without writing anything; the counts it holds. */
export async function checkDump(input: Readable): Promise<DumpCounts> {
  const items = readDump(input)
  for (;;) {
    const r = await items.next()
    if (r.done) return r.value
  }
}

/**
 * The lines of `input` (UTF-8, ending at `\n`, a `\r` before it dropped), read one chunk of the
 * stream at a time: what is held is one chunk and the line it ends in. (readline queues up to 1,024
 * lines ahead of its reader: 64 MiB of raw data lines, kept alive long enough to grow the heap by
 * hundreds of MB over a large restore.)
 */
async function* linesOf(input: Readable): AsyncGenerator<string> {
  const decoder = new StringDecoder('utf8')
  let rest = ''
  for await (const chunk of input) {
    const text = rest + (typeof chunk === 'string' ? chunk : decoder.write(chunk as Buffer))
    let start = 0
    for (let end = text.indexOf('\n'); end >= 0; end = text.indexOf('\n', start)) {
      yield withoutCr(text.slice(start, end))
      start = end + 1
    }
    rest = text.slice(start)
  }
  rest += decoder.end()
  if (rest !== '') yield withoutCr(rest)
}

function withoutCr(line: string): string {
  return line.endsWith('\r') ? line.slice(0, -1) : line
}
