import isEmailModule from 'validator/lib/isEmail.js'
import isURLModule from 'validator/lib/isURL.js'
import { expected } from './arguments.js'
import { defineType } from './define-type.js'
import { bytesEqual, deepEqual } from './deep-equal.js'
import { describeValue } from './describe.js'
import { copyPlainData, plainDataReason } from './any-data.js'
import { hasLineBreak, lineBreakReason } from './strings.js'
import type { Type } from './type.js'

/*
 * validator's isEmail and isURL (what class-validator's own isEmail and isURL call, with the same
 * options), imported statically so that bundlers include them. Each module is CommonJS whose
 * function is both `module.exports` and its `.default`: Node and bundlers give either one as the
 * default import, and `.default` is the function in both cases.
 */
const isEmail: (value: string) => boolean = isEmailModule.default
const isURL: (value: string, options: object) => boolean = isURLModule.default

/*
 * The scalar types. Validators do no allocation when the value is valid (reasons are only built on
 * failure), since every save validates every property. `toStored`/`fromStored` return strings,
 * numbers, bigints and booleans as they are, and copy Dates and byte arrays so that stored state
 * never shares a mutable object with the user's value. `fromStored` does not validate: data stored
 * under another type comes back as it is, and the next save reports it.
 */

const identity = <T>(value: T): T => value
const same = (a: unknown, b: unknown): boolean => Object.is(a, b)

/** `true` or `false`. */
export const BOOL: Type<boolean> = defineType({
  name: 'BOOL',
  validate: (value: unknown) => (typeof value === 'boolean' ? undefined : expected('a boolean', value)),
  toStored: identity,
  fromStored: identity as (stored: unknown) => boolean,
  equals: same,
})

function integerReason(value: unknown, what: string): string {
  if (typeof value === 'number' && Number.isInteger(value)) {
    return `${describeValue(value)} is beyond the safe integer range ±(2^53 - 1); use a bigint`
  }
  return expected(what, value)
}

/**
 * An integer: a number for which `Number.isSafeInteger` holds (`-0` included, and kept as `-0`), or
 * a bigint of any size (stored and read back as a bigint). `equals` is `Object.is`, so `1` and `1n`
 * differ, as do `0` and `-0`.
 */
export const INTEGER: Type<number | bigint> = defineType({
  name: 'INTEGER',
  validate: (value: unknown) =>
    Number.isSafeInteger(value) || typeof value === 'bigint' ? undefined : integerReason(value, 'an integer'),
  toStored: identity,
  fromStored: identity as (stored: unknown) => number | bigint,
  equals: same,
})

/** An `INTEGER` that is `>= 0` (`-0` is zero, so it passes). */
export const POSITIVE: Type<number | bigint> = defineType({
  name: 'POSITIVE',
  validate(value: unknown) {
    if (Number.isSafeInteger(value) || typeof value === 'bigint') {
      return (value as number | bigint) >= 0 ? undefined : `expected an integer >= 0, got ${describeValue(value)}`
    }
    return integerReason(value, 'an integer >= 0')
  },
  toStored: identity,
  fromStored: identity as (stored: unknown) => number | bigint,
  equals: same,
})

/** A finite number (NaN and ±Infinity refused; `-0` kept as `-0`). `equals` is `Object.is`. */
export const FLOAT: Type<number> = defineType({
  name: 'FLOAT',
  validate: (value: unknown) => (Number.isFinite(value) ? undefined : expected('a finite number', value)),
  toStored: identity,
  fromStored: identity as (stored: unknown) => number,
  equals: same,
})

/**
 * Any number, NaN and ±Infinity included (they round-trip like `-0`). `equals` is `Object.is`: `NaN`
 * equals `NaN`, `0` differs from `-0`. Bigints are refused (use `INTEGER`).
 */
export const NUMBER: Type<number> = defineType({
  name: 'NUMBER',
  validate: (value: unknown) => (typeof value === 'number' ? undefined : expected('a number', value)),
  toStored: identity,
  fromStored: identity as (stored: unknown) => number,
  equals: same,
})

function stringType(name: string, check?: (value: string) => string | undefined): Type<string> {
  return defineType({
    name,
    validate(value: unknown) {
      if (typeof value !== 'string') return expected('a string', value)
      return check?.(value)
    },
    toStored: identity,
    fromStored: identity as (stored: unknown) => string,
    equals: same,
  })
}

/** Any string (even one holding a lone UTF-16 surrogate: the engines keep it as written). */
export const STRING = stringType('STRING')

/** A string without line breaks: none of `\n`, `\r`, `\v`, `\f`, U+0085, U+2028, U+2029. */
export const LINE = stringType('LINE', (value) => (hasLineBreak(value) ? lineBreakReason(value) : undefined))

/**
 * Remembers up to `size` strings `check` accepted: validator's checks take microseconds, and
 * saving an object again re-validates its unchanged addresses.
 */
function remembered(check: (value: string) => boolean, size = 1024): (value: string) => boolean {
  const accepted = new Set<string>()
  return (value) => {
    if (accepted.has(value)) return true
    if (!check(value)) return false
    if (accepted.size >= size) accepted.clear()
    accepted.add(value)
    return true
  }
}

/**
 * The everyday shape of an address (dot-separated atoms @ dot-separated host labels, alphabetic
 * TLD), a strict subset of what `isEmail` accepts (a test checks that on random addresses): it
 * answers at once where `isEmail` takes microseconds. Anything else goes to `isEmail`.
 */
export const COMMON_EMAIL = /^[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,24}$/i

const validEmail = remembered((value) => (value.length <= 254 && value.indexOf('@') <= 64 && COMMON_EMAIL.test(value)) || isEmail(value))

/** An email address as validator's (and class-validator's) `isEmail` accepts it with default options. Stored as given. */
export const EMAIL = stringType('EMAIL', (value) =>
  validEmail(value) ? undefined : `not a valid email address: ${describeValue(value)}`,
)

/**
 * A password, stored exactly as given: Stowage does not hash it. Hash it in the application (e.g.
 * with `crypto.scrypt`) and store the hash.
 */
export const PASSWORD = stringType('PASSWORD')

const URL_OPTIONS = { require_protocol: true, require_tld: false, protocols: ['http', 'https', 'ftp'] }
const validUrl = remembered((value) => isURL(value, URL_OPTIONS))

/**
 * An absolute http, https or ftp URL as validator's (and class-validator's) `isURL` accepts it with a protocol
 * required and no TLD required (`https://example.com/a?b#c`, `http://localhost:3000`; not
 * `example.com`, `mailto:...` or `javascript:...`). Stored as given.
 */
export const URL = stringType('URL', (value) =>
  validUrl(value) ? undefined : `not a valid http(s) or ftp URL: ${describeValue(value)}`,
)

/** HTML source, stored as given (not parsed or sanitized: sanitize where you render it). */
export const HTML = stringType('HTML')

/** Markdown source, stored as given. */
export const MARKDOWN = stringType('MARKDOWN')

/** Rich text in the application's own string format (e.g. serialized editor state), stored as given. */
export const RICHTEXT = stringType('RICHTEXT')

function dateType(name: string): Type<Date> {
  return defineType({
    name,
    validate(value: unknown) {
      if (!(value instanceof Date)) return expected('a Date', value)
      return Number.isNaN(value.getTime()) ? 'expected a valid Date, got an invalid Date' : undefined
    },
    toStored: (value: Date) => new Date(value.getTime()),
    fromStored: (stored: unknown) => (stored instanceof Date ? new Date(stored.getTime()) : (stored as Date)),
    equals: (a: Date, b: Date) =>
      a instanceof Date && b instanceof Date ? Object.is(a.getTime(), b.getTime()) : deepEqual(a, b),
  })
}

/**
 * A valid `Date` (an invalid Date is refused). The exact instant is kept, time of day included:
 * Stowage does not truncate to midnight, since which midnight depends on a time zone.
 * Read back as a new `Date`; equal when `getTime()` is.
 */
export const DATE = dateType('DATE')

/** A valid `Date`, like `DATE`: the exact instant in ms. */
export const DATETIME = dateType('DATETIME')

const TIME_OF_DAY = /^(?:[01]\d|2[0-3]):[0-5]\d(?::[0-5]\d(?:\.\d{1,3})?)?$/

/**
 * A time of day without a date or time zone, as a string `HH:MM`, `HH:MM:SS` or `HH:MM:SS.sss`
 * (24-hour clock, `00:00` to `23:59:59.999`). Stored as given, so `09:00` and `09:00:00` are
 * different values; use `DATETIME` for an instant.
 */
export const TIME: Type<string> = defineType({
  name: 'TIME',
  validate: (value: unknown) =>
    typeof value === 'string' && TIME_OF_DAY.test(value)
      ? undefined
      : expected('a time of day "HH:MM", "HH:MM:SS" or "HH:MM:SS.sss"', value),
  toStored: identity,
  fromStored: identity as (stored: unknown) => string,
  equals: same,
})

function binaryType(name: string, read: (bytes: Uint8Array) => Uint8Array): Type<Uint8Array> {
  return defineType({
    name,
    validate: (value: unknown) => (value instanceof Uint8Array ? undefined : expected('a Uint8Array', value)),
    toStored: (value: Uint8Array) => new Uint8Array(value),
    fromStored: (stored: unknown) => (stored instanceof Uint8Array ? read(stored) : (stored as Uint8Array)),
    equals: (a: Uint8Array, b: Uint8Array) =>
      a instanceof Uint8Array && b instanceof Uint8Array ? bytesEqual(a, b) : deepEqual(a, b),
  })
}

/**
 * Bytes: a `Uint8Array` (a Buffer is one too; other typed arrays and ArrayBuffers are refused).
 * Stored as a copy; read back as a new plain `Uint8Array` (not a Buffer) that shares no memory with
 * the engine's buffers. Equal when the bytes are.
 */
export const BINARY = binaryType('BINARY', (bytes) => new Uint8Array(bytes))

/**
 * `BINARY` read back as a Node `Buffer`: what `inferType` gives a property declared `Buffer`, so
 * that the value keeps the type the class declares.
 */
export const BUFFER: Type<Uint8Array> = binaryType('BINARY', (bytes) => Buffer.from(bytes))

/**
 * Any plain data the engines store: null, booleans, numbers, bigints, strings, Dates, Uint8Arrays,
 * and arrays and plain objects of these, nested up to 256 levels. Refused, with the path of the
 * problem: cycles (`cyclic reference at a.b`), functions, symbols (as values or keys), class
 * instances (Map, Set, RegExp, your classes...) and invalid Dates. Object keys holding `undefined`
 * are dropped; `undefined` inside an array is kept. Copied deeply on the way in and out (shared
 * sub-objects become separate copies, Buffers plain Uint8Arrays); `equals` is a deep equality
 * (numbers by `Object.is`, Dates by time, bytes by content).
 */
export const ANY: Type<unknown> = defineType({
  name: 'ANY',
  validate: plainDataReason,
  toStored: copyPlainData,
  fromStored: copyPlainData,
  equals: deepEqual,
})
