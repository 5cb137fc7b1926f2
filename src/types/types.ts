import { ENUM, LENGTH, RANGE, REFERENCE } from './constrained-types.js'
import { LIST, MAP, ONE_OF, TUPLE } from './composite-types.js'
import {
  ANY,
  BINARY,
  BOOL,
  DATE,
  DATETIME,
  EMAIL,
  FLOAT,
  HTML,
  INTEGER,
  LINE,
  MARKDOWN,
  NUMBER,
  PASSWORD,
  POSITIVE,
  RICHTEXT,
  STRING,
  TIME,
  URL,
} from './scalar-types.js'

/**
 * Every Stowage property type. Each member's TSDoc (in `scalar-types.ts`, `composite-types.ts` and
 * `constrained-types.ts`) states exactly what it accepts, how it is stored and how it compares.
 *
 * @example
 * ```ts
 * @Property(Types.LIST(Types.EMAIL)) contacts: string[] = []
 * @Property(Types.RANGE(1, 5, Types.INTEGER)) stars?: number
 * @Property(Types.MAP({ street: Types.LINE, city: Types.LINE })) address?: { street?: string; city?: string }
 * ```
 */
export const Types = Object.freeze({
  /** `true` or `false`. */
  BOOL,
  /** A safe-integer number (`-0` kept) or a bigint of any size (read back as a bigint). */
  INTEGER,
  /** An `INTEGER` that is `>= 0`. */
  POSITIVE,
  /** A finite number (NaN and ±Infinity refused). */
  FLOAT,
  /** Any number, NaN and ±Infinity included. */
  NUMBER,
  /** Any string. */
  STRING,
  /** A string without line breaks (`\n`, `\r`, `\v`, `\f`, U+0085, U+2028, U+2029). */
  LINE,
  /** An email address (validator's `isEmail`, as class-validator uses it). */
  EMAIL,
  /** A string stored as given: hash passwords in the application. */
  PASSWORD,
  /** An absolute http(s) or ftp URL (validator's `isURL`, as class-validator uses it; protocol required). */
  URL,
  /** HTML source, stored as given (not sanitized). */
  HTML,
  /** Markdown source, stored as given. */
  MARKDOWN,
  /** Rich text as the application's own string format, stored as given. */
  RICHTEXT,
  /** A valid `Date`, the exact instant kept. */
  DATE,
  /** A valid `Date`, the exact instant kept. */
  DATETIME,
  /** A time of day string `HH:MM`, `HH:MM:SS` or `HH:MM:SS.sss`. */
  TIME,
  /** A `Uint8Array` (Buffers accepted), read back as a plain `Uint8Array`. */
  BINARY,
  /** Any plain data: no cycles, functions, symbols or class instances other than Date and Uint8Array. */
  ANY,
  /** An array whose every element passes the type. */
  LIST,
  /** A fixed-length array whose element `i` passes type `i`. */
  TUPLE,
  /** A value passing at least one of the types, tried in order. */
  ONE_OF,
  /** A plain object whose declared keys pass their types (unknown keys refused), or `MAP(type)`, a dictionary. */
  MAP,
  /** One of the given strings or numbers. */
  ENUM,
  /** An oid, or an instance of the class the thunk returns; stored and read back as the oid. */
  REFERENCE,
  /** A value of the type (default NUMBER, or DATE for Date bounds) between min and max inclusive. */
  RANGE,
  /** A string (or array, or bytes, of the given type) whose length is between min and max inclusive. */
  LENGTH,
})

export type { Type } from './type.js'
export { isType } from './type.js'
export type { TypeOf, ListType, TupleType, OneOfType, MapType, MapShape } from './composite-types.js'
export type { EnumType, LengthType, RangeType, ReferenceType, ReferenceTarget } from './constrained-types.js'
