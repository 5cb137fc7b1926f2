import { hasLoneSurrogate } from '../plain-data.js'

/*
 * msgpack cannot say three things plain data can: -0 (msgpackr writes it as the integer 0), strings
 * with lone surrogates (UTF-8 cannot hold them) and an own `__proto__` key (msgpackr renames it to
 * `__proto_` on decoding, to protect prototypes). A value holding one of these (rare: the scan that
 * validates every value says so) is written in a tagged form made of plain msgpack, so that no
 * msgpackr extension is needed: extensions live in msgpackr's process-wide registry, which the host
 * application's own msgpackr shares.
 *
 * In the tagged form every array and object is an array whose first item says what it is; strings,
 * numbers, booleans, null, bytes, dates and bigints are themselves.
 */
const ARRAY = 0
const OBJECT = 1
const CHAR_CODES = 2
const NEGATIVE_ZERO = 3

export function tagged(v: unknown): unknown {
  if (typeof v === 'number') return v === 0 && 1 / v < 0 ? [NEGATIVE_ZERO] : v
  if (typeof v === 'string') return hasLoneSurrogate(v) ? [CHAR_CODES, ...charCodes(v)] : v
  if (v === null || typeof v !== 'object' || v instanceof Uint8Array || v instanceof Date) return v
  if (Array.isArray(v)) {
    const out: unknown[] = [ARRAY]
    for (const item of v) out.push(tagged(item))
    return out
  }
  const out: unknown[] = [OBJECT]
  for (const key of Object.keys(v)) out.push(tagged(key), tagged((v as Record<string, unknown>)[key]))
  return out
}

export function untagged(v: unknown): unknown {
  if (!Array.isArray(v)) return v
  switch (v[0]) {
    case ARRAY:
      return v.slice(1).map(untagged)
    case OBJECT:
      return objectOf(v, 1, untagged)
    case CHAR_CODES:
      return fromCharCodes(v, 1)
    case NEGATIVE_ZERO:
      return -0
    default:
      throw new Error(`bad tag ${String(v[0])} in an escaped value`)
  }
}

function charCodes(s: string): number[] {
  return Array.from({ length: s.length }, (_, i) => s.charCodeAt(i))
}

/** The string of the char codes in `codes` from `start` on. */
export function fromCharCodes(codes: unknown[], start: number): string {
  let s = ''
  for (let i = start; i < codes.length; i++) {
    const code = codes[i]
    if (typeof code !== 'number' || !Number.isInteger(code) || code < 0 || code > 0xffff) throw new Error('bad char code in an escaped string')
    s += String.fromCharCode(code)
  }
  return s
}

/** The object of the key, value pairs in `pairs` from `start` on; `each` turns an item into its value. */
export function objectOf(pairs: unknown[], start: number, each: (v: unknown) => unknown): Record<string, unknown> {
  if ((pairs.length - start) % 2 !== 0) throw new Error('an escaped object has a key without a value')
  const obj: Record<string, unknown> = {}
  for (let i = start; i < pairs.length; i += 2) {
    const key = each(pairs[i])
    if (typeof key !== 'string') throw new Error('an escaped object has a key that is not a string')
    // defineProperty, not assignment: a `__proto__` key must stay an own property.
    Object.defineProperty(obj, key, { value: each(pairs[i + 1]), writable: true, enumerable: true, configurable: true })
  }
  return obj
}
