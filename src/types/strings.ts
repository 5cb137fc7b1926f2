/** Line-break checks for `LINE`; the check scans without allocating. */

/** Unicode's mandatory line breaks: LF, VT, FF, CR, NEL, LINE SEPARATOR, PARAGRAPH SEPARATOR. */
const LINE_BREAK = /[\n\v\f\r\u0085\u2028\u2029]/

export function hasLineBreak(s: string): boolean {
  return LINE_BREAK.test(s) // faster than a charCodeAt loop (measured), and allocates nothing
}

const ESCAPES: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\v': '\\v', '\f': '\\f' }

export function lineBreakReason(s: string): string {
  const at = s.search(LINE_BREAK)
  const char = s[at]!
  const name = ESCAPES[char] ?? `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`
  return `contains a line break (${name} at index ${at})`
}
