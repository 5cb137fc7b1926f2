/** String checks shared by the string types; each scans without allocating. */

type WellFormed = (this: string) => boolean
const nativeIsWellFormed = (String.prototype as unknown as { isWellFormed?: WellFormed }).isWellFormed
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/

/**
 * False when `s` holds a lone UTF-16 surrogate: such a string has no UTF-8 form, so an engine would
 * store U+FFFD in its place and the value would not read back as written.
 */
export function isWellFormed(s: string): boolean {
  return nativeIsWellFormed ? nativeIsWellFormed.call(s) : !LONE_SURROGATE.test(s)
}

export function loneSurrogateReason(s: string): string {
  const at = s.search(LONE_SURROGATE)
  const code = s.charCodeAt(at).toString(16).toUpperCase()
  return `contains a lone surrogate (U+${code} at index ${at}), which has no UTF-8 form and cannot be stored`
}

/** Unicode's mandatory line breaks: LF, VT, FF, CR, NEL, LINE SEPARATOR, PARAGRAPH SEPARATOR. */
const LINE_BREAK = /[\n\v\f\r\u0085\u2028\u2029]/

export function hasLineBreak(s: string): boolean {
  return LINE_BREAK.test(s)
}

const ESCAPES: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\v': '\\v', '\f': '\\f' }

export function lineBreakReason(s: string): string {
  const at = s.search(LINE_BREAK)
  const char = s[at]!
  const name = ESCAPES[char] ?? `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`
  return `contains a line break (${name} at index ${at})`
}
