/**
 * A Stowage property type: how a value is checked on save, turned into plain data the engines store,
 * read back with its JavaScript type, and compared to decide whether a property really changed.
 */
export interface Type<T = unknown> {
  /** Readable name used in messages, e.g. `STRING`, `LIST(EMAIL)`. */
  readonly name: string
  /** Why `value` is not valid, or undefined when it is. Never called with `undefined`. */
  validate(value: unknown): string | undefined
  /** Plain data for the engine codec (strings, numbers, booleans, null, Date, Uint8Array, bigint, arrays, plain objects). */
  toStored(value: T): unknown
  /** Inverse of `toStored`. */
  fromStored(stored: unknown): T
  /** Deep equality of two valid values, to tell whether a save changes the property. */
  equals(a: T, b: T): boolean
}

export const TYPE = Symbol.for('stowage.type')

export function isType(value: unknown): value is Type {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[TYPE] === true
}
