import { isPlainObject } from './deep-equal.js'
import { className, formatPath, withArticle } from './describe.js'

/** How deep `ANY` values may nest (each array or object is a level); deeper data is refused. */
export const MAX_DEPTH = 256

/**
 * Why `value` is not plain data the engines store and read back as written, or undefined when it
 * is. Plain data is null, booleans, numbers (NaN, ±Infinity and -0 too), bigints, strings, valid
 * Dates, Uint8Arrays (Buffers too), and arrays and plain objects (prototype `Object.prototype` or
 * `null`) of plain data. `undefined` is allowed inside arrays (kept) and objects (the key is not
 * stored). The reason names where the problem is: `cyclic reference at a.b`. The same set as the
 * engines' `assertEncodable` (src/engine/plain-data.ts), with a reason instead of a throw and a
 * depth limit.
 */
export function plainDataReason(value: unknown): string | undefined {
  // The fast scan allocates nothing; a cycle makes it fail at the depth limit. Only then does the
  // precise scan (tracking the path and the ancestors) run, to say what and where the problem is.
  return isPlainData(value, 0) ? undefined : new PlainDataCheck().check(value)
}

function isPlainData(value: unknown, depth: number): boolean {
  switch (typeof value) {
    case 'string':
    case 'number':
    case 'boolean':
    case 'bigint':
    case 'undefined':
      return true
    case 'function':
    case 'symbol':
      return false
  }
  if (value === null || value instanceof Uint8Array) return true
  if (value instanceof Date) return !Number.isNaN(value.getTime())
  if (depth >= MAX_DEPTH) return false
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) if (!isPlainData(value[i], depth + 1)) return false
    return true
  }
  if (!isPlainObject(value)) return false
  for (const key in value) {
    if (Object.hasOwn(value, key) && !isPlainData(value[key], depth + 1)) return false
  }
  return Object.getOwnPropertySymbols(value).length === 0
}

class PlainDataCheck {
  readonly path: (string | number)[] = []
  readonly ancestors = new Set<object>()

  check(value: unknown): string | undefined {
    switch (typeof value) {
      case 'string':
      case 'number':
      case 'boolean':
      case 'bigint':
      case 'undefined':
        return undefined
      case 'function':
        return this.fail('a function is not storable data')
      case 'symbol':
        return this.fail('a symbol is not storable data')
    }
    if (value === null) return undefined
    if (value instanceof Date) return Number.isNaN(value.getTime()) ? this.fail('an invalid Date') : undefined
    if (value instanceof Uint8Array) return undefined
    if (this.ancestors.has(value as object)) return this.fail('cyclic reference')
    if (this.path.length >= MAX_DEPTH) return this.fail(`nested deeper than ${MAX_DEPTH} levels`)
    if (Array.isArray(value)) return this.checkArray(value)
    if (isPlainObject(value)) return this.checkObject(value)
    return this.fail(
      `${withArticle(className(value as object))} is not plain data (expected null, a boolean, number, ` +
        'bigint, string, Date, Uint8Array, array or plain object)',
    )
  }

  private checkArray(array: unknown[]): string | undefined {
    this.ancestors.add(array)
    for (let i = 0; i < array.length; i++) {
      this.path.push(i)
      const reason = this.check(array[i])
      if (reason) return reason
      this.path.pop()
    }
    this.ancestors.delete(array)
    return undefined
  }

  private checkObject(object: Record<string, unknown>): string | undefined {
    const symbols = Object.getOwnPropertySymbols(object)
    if (symbols.length > 0) return this.fail(`a symbol key (${String(symbols[0])}) cannot be stored`)
    this.ancestors.add(object)
    for (const key of Object.keys(object)) {
      const item = object[key]
      if (item === undefined) continue
      this.path.push(key)
      const reason = this.check(item)
      if (reason) return reason
      this.path.pop()
    }
    this.ancestors.delete(object)
    return undefined
  }

  private fail(problem: string): string {
    return this.path.length > 0 ? `${problem} at ${formatPath(this.path)}` : problem
  }
}

/**
 * A deep copy of valid plain data that shares nothing mutable with `value`: Dates and byte arrays are
 * copied (a Buffer becomes a plain Uint8Array), object keys holding `undefined` are dropped (so every
 * engine reads back the same), array holes become `undefined`. Anything else (already refused by
 * validation) is returned as is.
 */
export function copyPlainData(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value
  if (value instanceof Date) return new Date(value.getTime())
  if (value instanceof Uint8Array) return new Uint8Array(value)
  if (Array.isArray(value)) {
    const copy = new Array(value.length)
    for (let i = 0; i < value.length; i++) copy[i] = copyPlainData(value[i])
    return copy
  }
  if (!isPlainObject(value)) return value
  const copy: Record<string, unknown> = {}
  for (const key of Object.keys(value)) {
    const item = value[key]
    if (item !== undefined) setOwn(copy, key, copyPlainData(item))
  }
  return copy
}

/** `object[key] = value`, except that a `__proto__` key becomes an own property, not the prototype. */
export function setOwn(object: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') {
    Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true })
  } else {
    object[key] = value
  }
}
