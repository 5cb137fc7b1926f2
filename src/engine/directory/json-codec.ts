import { CorruptionError, EncodingError } from '../../errors.js'

/**
 * A reversible JSON encoding of plain data, readable by a person. What JSON lacks is written as a
 * one-key tag object: `{"$date":"2026-11-22T10:00:00.000Z"}`, `{"$bytes":"<base64>"}`,
 * `{"$bigint":"123"}`, `{"$number":"-0"|"NaN"|"Infinity"|"-Infinity"}`, `{"$undefined":true}`.
 * A user key starting with `$` is written with one more `$` (`$x` -> `$$x`), so a user value can
 * never be mistaken for a tag. Decoding never assigns `__proto__`, so a file cannot pollute prototypes.
 */
export function encodeJson(value: unknown, where: string, pretty = false): string {
  const tree = toJsonTree(value, where, [])
  return pretty ? JSON.stringify(tree, null, 2) + '\n' : JSON.stringify(tree)
}

/** Parses text written by `encodeJson`; anything else throws `CorruptionError` naming `where`. */
export function decodeJson(text: string, where: string): unknown {
  let tree: unknown
  try {
    // A byte order mark is what some editors add when a person saves the file: not corruption.
    tree = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text)
  } catch (err) {
    throw new CorruptionError(`${where} is not valid JSON (truncated or garbled): ${(err as Error).message}`, { cause: err })
  }
  try {
    return fromJsonTree(tree, where)
  } catch (err) {
    if (err instanceof RangeError) throw new CorruptionError(`${where} is nested too deeply to read`, { cause: err })
    throw err
  }
}

/** The JSON tree `encodeJson` writes, for embedding in a larger JSON document (a dump line). */
export function toJsonValue(value: unknown, where: string): unknown {
  return toJsonTree(value, where, [])
}

/** The value of a tree written by `toJsonValue` (already parsed); malformed tags throw `CorruptionError`. */
export function fromJsonValue(tree: unknown, where: string): unknown {
  try {
    return fromJsonTree(tree, where)
  } catch (err) {
    if (err instanceof RangeError) throw new CorruptionError(`${where} is nested too deeply to read`, { cause: err })
    throw err
  }
}

const TAGS = new Set(['$date', '$bytes', '$bigint', '$number', '$undefined'])

function toJsonTree(value: unknown, where: string, stack: object[]): unknown {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value
    case 'number':
      if (Number.isFinite(value) && !Object.is(value, -0)) return value
      return { $number: Object.is(value, -0) ? '-0' : String(value) }
    case 'bigint':
      return { $bigint: value.toString() }
    case 'undefined':
      return { $undefined: true }
    case 'object':
      break
    default:
      throw new EncodingError(`${where}: cannot store a ${typeof value}`)
  }
  if (value === null) return null
  if (value instanceof Date) {
    const t = value.getTime()
    return { $date: Number.isNaN(t) ? 'Invalid Date' : value.toISOString() }
  }
  if (value instanceof Uint8Array) {
    return { $bytes: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64') }
  }
  if (stack.includes(value)) throw new EncodingError(`${where}: cannot store a value that contains itself (a cycle)`)
  stack.push(value)
  try {
    if (Array.isArray(value)) {
      const out = new Array(value.length)
      for (let i = 0; i < value.length; i++) out[i] = toJsonTree(value[i], `${where}[${i}]`, stack)
      return out
    }
    const proto = Object.getPrototypeOf(value)
    if (proto !== Object.prototype && proto !== null) {
      throw new EncodingError(`${where}: cannot store an instance of ${proto?.constructor?.name ?? 'a class'}, only plain objects`)
    }
    const out: Record<string, unknown> = {}
    for (const key of Object.keys(value)) {
      const encoded = toJsonTree((value as Record<string, unknown>)[key], `${where}.${key}`, stack)
      setOwn(out, key.startsWith('$') ? '$' + key : key, encoded)
    }
    return out
  } finally {
    stack.pop()
  }
}

function fromJsonTree(tree: unknown, where: string): unknown {
  if (tree === null || typeof tree !== 'object') return tree
  if (Array.isArray(tree)) {
    const out = new Array(tree.length)
    for (let i = 0; i < tree.length; i++) out[i] = fromJsonTree(tree[i], where)
    return out
  }
  const keys = Object.keys(tree)
  const record = tree as Record<string, unknown>
  if (keys.length === 1 && TAGS.has(keys[0]!)) return fromTag(keys[0]!, record[keys[0]!], where)
  const out: Record<string, unknown> = {}
  for (const key of keys) {
    let name = key
    if (key.startsWith('$')) {
      if (!key.startsWith('$$')) throw new CorruptionError(`${where}: unknown tag ${JSON.stringify(key)} (user keys starting with $ are written $$)`)
      name = key.slice(1)
    }
    setOwn(out, name, fromJsonTree(record[key], where))
  }
  return out
}

function fromTag(tag: string, v: unknown, where: string): unknown {
  const bad = (): never => {
    throw new CorruptionError(`${where}: malformed ${tag} tag ${JSON.stringify(v)}`)
  }
  switch (tag) {
    case '$date': {
      if (v === 'Invalid Date') return new Date(NaN)
      if (typeof v !== 'string') return bad()
      const d = new Date(v)
      return Number.isNaN(d.getTime()) ? bad() : d
    }
    case '$bytes': {
      if (typeof v !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(v)) return bad()
      return new Uint8Array(Buffer.from(v, 'base64'))
    }
    case '$bigint': {
      if (typeof v !== 'string' || !/^-?\d+$/.test(v)) return bad()
      return BigInt(v)
    }
    case '$number':
      switch (v) {
        case '-0':
          return -0
        case 'NaN':
          return NaN
        case 'Infinity':
          return Infinity
        case '-Infinity':
          return -Infinity
      }
      return bad()
    default:
      return v === true ? undefined : bad()
  }
}

/** `obj[key] = value` that creates an own property even for `__proto__`. */
function setOwn(obj: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(obj, key, { value, writable: true, enumerable: true, configurable: true })
  else obj[key] = value
}
