import { crc32 } from 'node:zlib'

/**
 * The dump format, version 1: JSON lines (UTF-8, `\n` after each), one JSON object per line.
 *   1. a header:   {"format":"stowage-dump","version":1,"created":"<ISO time>","source":"<engine>"}
 *   2. per record: {"t":"record","c":"<collection>","id":"<id>","v":<value>}
 *      values in the Directory engine's JSON encoding (json-codec.ts: dates, bytes, bigints... as
 *      `{"$date":...}` tags), and right after a record with raw data:
 *        {"t":"raw","c":"<collection>","id":"<id>","ext":"<extension hint>"?}
 *        {"t":"chunk","d":"<base64>"}  (as many as needed)
 *        {"t":"rawEnd","size":<bytes>,"sha256":"<hex>"}
 *   3. per entry that is not derived (links, reverse links, migration markers, anything outside
 *      the indexes' `idx\0` space): {"t":"entry","k":"<key>","v":<value>}
 *   4. a trailer:  {"t":"end","records":n,"entries":n,"raw":n,"rawBytes":n,"lines":n,"sha256":"<hex>"}
 *      where `lines` counts the lines before it and `sha256` is the SHA-256 of their bytes.
 * Every line ends with `,"sum":"<crc>"}`: the CRC-32 (8 hex digits) of the line as it would read
 * without that member (`{...}`), so a changed line is found by its number. Index entries, keys
 * records and index signatures are not dumped: a restored store rebuilds its indexes from the
 * records on each model's first use.
 */
export const DUMP_FORMAT = 'stowage-dump'
export const DUMP_VERSION = 1

/** The prefix of derived entries (indexes), left out of dumps. */
export const DERIVED_PREFIX = 'idx\x00'

/** Raw data chunks per line: a multiple of 3 bytes, so each line's base64 stands alone. */
export const RAW_CHUNK = 48 * 1024

const SUM = /,"sum":"([0-9a-f]{8})"\}$/

/** A line of the dump: the object's JSON with its checksum member, without the newline. */
export function sealLine(body: string): string {
  return `${body.slice(0, -1)},"sum":"${checksum(body)}"}`
}

/**
 * The JSON of a line without its checksum member, or a reason it is not a sound line (no checksum,
 * or one that does not match).
 */
export function openLine(line: string): { body: string } | { problem: string } {
  const m = SUM.exec(line)
  if (m === null) return { problem: 'no line checksum (the line is cut short or was edited)' }
  const rest = line.slice(0, m.index)
  const body = rest === '{' ? '{}' : `${rest}}`
  if (checksum(body) !== m[1]) return { problem: 'the line does not match its checksum (it was changed)' }
  return { body }
}

function checksum(text: string): string {
  return crc32(text).toString(16).padStart(8, '0')
}
