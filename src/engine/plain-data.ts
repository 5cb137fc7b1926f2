import { EncodingError } from '../errors.js'

/**
 * The values every engine stores faithfully ("plain data"):
 * - `string` (any, including lone surrogates), `number` (including `-0`, `NaN`, `±Infinity`),
 *   `boolean`, `null`, `undefined`, `bigint` (of any size);
 * - `Date` (valid ones), `Uint8Array` (a `Buffer` too; it may read back as either);
 * - arrays (holes read back as `undefined`) and plain objects (prototype `Object.prototype` or `null`;
 *   they read back with `Object.prototype`), with string keys. A `__proto__` own key is kept as an
 *   own key, never as a prototype.
 *
 * An object property whose value is `undefined` reads back as `undefined`: the Level and Memory
 * engines keep the key, other engines may drop it. `undefined` array elements stay `undefined`.
 * Two references to one object are stored as two copies.
 *
 * Only own enumerable string keys are data: symbol-keyed and non-enumerable properties are ignored
 * (as JSON.stringify does; looking for symbol keys on every object made this check about 30% slower).
 *
 * Refused with `EncodingError`: functions, symbols, cycles, invalid Dates,
 * Map, Set, WeakMap, WeakSet, RegExp, Error, Promise, other typed arrays, ArrayBuffer, DataView,
 * boxed primitives, and instances of any other class.
 */

/** What a scan found that a codec may need to escape. */
export interface PlainDataTraits {
  /** A `-0` somewhere in the value. */
  negativeZero: boolean
  /** A string or object key with a lone surrogate. */
  loneSurrogate: boolean
  /** An object with a `__proto__` own key. */
  protoKey: boolean
}

/**
 * Throws `EncodingError` if `value` is not plain data (see above). `where` names the value in the
 * message, e.g. the key or `Account/<oid>`; the message adds the path inside the value (`props.tags[2]`).
 */
export function assertEncodable(value: unknown, where: string): void {
  scanPlainData(value, where)
}

/** Like `assertEncodable`, and also says whether the value holds anything a codec may need to escape. */
export function scanPlainData(value: unknown, where: string | (() => string)): PlainDataTraits {
  const traits: PlainDataTraits = { negativeZero: false, loneSurrogate: false, protoKey: false }
  try {
    try {
      scan(value, traits, 0, null)
    } catch (err) {
      if (!(err instanceof TooDeep)) throw err
      // Deep nesting may be a cycle: scan again, tracking the ancestors of each object.
      scan(value, traits, 0, new Set())
    }
  } catch (err) {
    if (err instanceof Refused) {
      const at = err.path.length ? ` at ${formatPath(err.path)}` : ''
      throw new EncodingError(`Cannot store ${typeof where === 'string' ? where : where()}${at}: ${err.reason}`)
    }
    if (err instanceof RangeError) throw new EncodingError(`Cannot store ${typeof where === 'string' ? where : where()}: it is nested too deeply`, { cause: err })
    throw err
  }
  return traits
}

/** True if `s` has a lone (unpaired) surrogate, which UTF-8 cannot represent. */
export function hasLoneSurrogate(s: string): boolean {
  return !(s as unknown as { isWellFormed(): boolean }).isWellFormed()
}

const FAST_DEPTH = 100

class Refused {
  readonly path: (string | number)[] = []
  constructor(readonly reason: string) {}
}
class TooDeep {}

function scan(v: unknown, traits: PlainDataTraits, depth: number, ancestors: Set<object> | null): void {
  switch (typeof v) {
    case 'string':
      if (hasLoneSurrogate(v)) traits.loneSurrogate = true
      return
    case 'number':
      if (v === 0 && 1 / v < 0) traits.negativeZero = true
      return
    case 'boolean':
    case 'undefined':
    case 'bigint':
      return
    case 'function':
      throw new Refused(`a function (${(v as Function).name || 'anonymous'}) is not data`)
    case 'symbol':
      throw new Refused(`a symbol (${String(v)}) is not data`)
  }
  if (v === null) return
  const o = v as object
  // Checked in order of likelihood: this runs on every value written.
  const proto = Object.getPrototypeOf(o)
  if (proto === Object.prototype || proto === null) {
    enter(o, depth, ancestors)
    for (const key in o) {
      if (key === '__proto__') traits.protoKey = true
      else if (hasLoneSurrogate(key)) traits.loneSurrogate = true
      try {
        scan((o as Record<string, unknown>)[key], traits, depth + 1, ancestors)
      } catch (err) {
        if (err instanceof Refused) err.path.unshift(key)
        throw err
      }
    }
  } else if (proto === Array.prototype) {
    enter(o, depth, ancestors)
    const a = o as unknown[]
    for (let i = 0; i < a.length; i++) {
      try {
        scan(a[i], traits, depth + 1, ancestors)
      } catch (err) {
        if (err instanceof Refused) err.path.unshift(i)
        throw err
      }
    }
  } else if (proto === Date.prototype) {
    if (Number.isNaN((o as Date).getTime())) throw new Refused('an invalid Date')
    return
  } else if (o instanceof Uint8Array) {
    return
  } else if (o instanceof Date) {
    throw new Refused(`an instance of ${className(o)} (a Date subclass) would read back as a plain Date`)
  } else {
    throw new Refused(`an instance of ${className(o)} is not plain data (only plain objects, arrays, Date and Uint8Array are)`)
  }
  if (ancestors !== null) ancestors.delete(o)
}

function enter(o: object, depth: number, ancestors: Set<object> | null): void {
  if (ancestors === null) {
    if (depth >= FAST_DEPTH) throw new TooDeep()
    return
  }
  if (ancestors.has(o)) throw new Refused('a cycle: the value contains itself')
  ancestors.add(o)
}

function className(o: object): string {
  const tag = Object.prototype.toString.call(o).slice(8, -1)
  const name = (o as { constructor?: { name?: string } }).constructor?.name
  return name && name !== 'Object' ? name : tag
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/

function formatPath(path: (string | number)[]): string {
  let out = ''
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`
    else if (IDENTIFIER.test(seg)) out += out ? `.${seg}` : seg
    else out += `[${JSON.stringify(seg)}]`
  }
  return out
}
