import { fromJsonValue } from '../engine/directory/json-codec.js'
import type { Range } from '../engine/engine.js'
import { encodeKey } from '../indexes/key-codec.js'
import { entryPrefix } from '../indexes/layout.js'
import type { IndexKey } from '../model/meta.js'
import { UsageError } from './exit-codes.js'

/**
 * An index key from the command line: JSON if it reads as a string, number, boolean or tagged date
 * (`42`, `true`, `"42"`, `{"$date":"2026-01-01T00:00:00Z"}`), else the text itself.
 */
export function parseKey(text: string): IndexKey {
  let value: unknown = text
  try {
    value = fromJsonValue(JSON.parse(text), 'key')
  } catch {
    return text
  }
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' || value instanceof Date) return value
  throw new UsageError(`${text} is not an index key: give a string, a number, a boolean or {"$date": "..."}`)
}

/**
 * The entries of `index` for a key or an inclusive range `low..high` (either end may be left out):
 * `P1`, `10..20`, `..2026`, `"a..b"` (JSON: the key a..b itself).
 */
export function keyRange(collection: string, index: string, text: string): Range {
  const prefix = entryPrefix(collection, index)
  const encode = (t: string): string => {
    try {
      return encodeKey(parseKey(t))
    } catch (err) {
      if (err instanceof UsageError) throw err
      throw new UsageError(`${t} is not an index key: ${(err as Error).message}`)
    }
  }
  const dots = isJson(text) ? -1 : text.indexOf('..')
  if (dots < 0) return { prefix: prefix + encode(text) + '\x00' }
  const low = text.slice(0, dots)
  const high = text.slice(dots + 2)
  return { prefix, ...(low === '' ? {} : { gte: prefix + encode(low) + '\x00' }), ...(high === '' ? {} : { lt: prefix + encode(high) + '\x01' }) }
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text)
    return true
  } catch {
    return false
  }
}
