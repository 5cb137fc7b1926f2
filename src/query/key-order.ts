/**
 * Compares strings in code point order, the order engines keep keys in (UTF-8 bytes). JavaScript's
 * `<` compares UTF-16 code units, which puts U+E000..U+FFFF after astral characters.
 */
export function compareKeys(a: string, b: string): number {
  if (a === b) return 0
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i)
    const y = b.charCodeAt(i)
    if (x !== y) return codePointRank(x) - codePointRank(y)
  }
  return a.length - b.length
}

// Surrogates (astral code points) rank above every BMP code unit.
function codePointRank(unit: number): number {
  if (unit >= 0xd800 && unit <= 0xdfff) return unit + 0x2000
  return unit >= 0xe000 ? unit - 0x800 : unit
}
