import { escapeString } from '../indexes/key-codec.js'

/**
 * The encoded keys a stored keys record (see `writeKeysRecord`) holds under one index, found without
 * parsing the rest: a query checks a few indexes of many records. Parts are separated by `\0\0`,
 * which no index name or key contains, so the search cannot match inside a part.
 */
export function keysIn(record: string | undefined, index: string): string[] | undefined {
  if (record === undefined || record === '') return undefined
  const head = escapeString(index) + '\x00'
  let start: number
  if (record.startsWith(head)) start = head.length
  else {
    const at = record.indexOf('\x00\x00' + head)
    if (at < 0) return undefined
    start = at + 2 + head.length
  }
  const end = record.indexOf('\x00\x00', start)
  return record.slice(start, end < 0 ? undefined : end).split('\x00')
}
