/**
 * Deep equality of plain data as Stowage stores it. Numbers compare with `Object.is` (so `NaN`
 * equals `NaN`, and `0` differs from `-0`: a change to `-0` is a change), bigints by value (`1n` is
 * not `1`), Dates by time, byte arrays (a Buffer or a Uint8Array alike) by content, arrays element by
 * element, plain objects key by key, where a key holding `undefined` counts as absent (it is not
 * stored). Anything else (class instances) is equal only to itself.
 */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false
  if (a instanceof Date) return b instanceof Date && Object.is(a.getTime(), b.getTime())
  if (a instanceof Uint8Array) return b instanceof Uint8Array && bytesEqual(a, b)
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false
    for (let i = 0; i < a.length; i++) if (!deepEqual(a[i], b[i])) return false
    return true
  }
  if (!isPlainObject(a) || !isPlainObject(b)) return false
  let count = 0
  for (const key of Object.keys(a)) {
    const value = (a as Record<string, unknown>)[key]
    if (value === undefined) continue
    count++
    if (!Object.hasOwn(b, key) || !deepEqual(value, (b as Record<string, unknown>)[key])) return false
  }
  for (const key of Object.keys(b)) if ((b as Record<string, unknown>)[key] !== undefined) count--
  return count === 0
}

const HAS_BUFFER = typeof Buffer === 'function'

/** Same length and the same bytes. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  if (a.length > 64 && HAS_BUFFER) return Buffer.compare(a, b) === 0
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

/** An object whose prototype is `Object.prototype` or `null` (a literal, `JSON.parse` output...). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false
  const proto = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}
