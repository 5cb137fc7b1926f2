import { ArgumentError } from '../errors.js'
import { describeValue } from '../engine/engine.js'
import type { IndexKey } from '../model/meta.js'

/**
 * A stable description of an index function that its source text alone does not give (functions
 * made by a factory such as `Indexing.paths(sep)` share one source text). Index definitions are
 * compared by it between runs to know when an index must be rebuilt.
 */
export const INDEX_SIGNATURE = Symbol.for('stowage.indexSignature')

type Keys = IndexKey | IndexKey[] | undefined

/** Applies `f` to a string, to each element of an array (flattening), and passes other values through. */
function eachString(v: unknown, f: (s: string) => Keys): any {
  if (v === undefined || v === null) return undefined
  if (typeof v === 'string') return f(v)
  if (Array.isArray(v)) {
    const out: IndexKey[] = []
    for (const e of v) {
      const r = eachString(e, f)
      if (r === undefined || r === null) continue
      if (Array.isArray(r)) out.push(...r)
      else out.push(r)
    }
    return out
  }
  // Numbers, booleans and Dates are keys as they are; anything else is left for the index to refuse.
  return v
}

const WHITE_SPACE = /\s+/gu
// The Unicode blocks of combining diacritical marks. Marks that are part of other scripts' letters
// (Indic vowel signs, Thai, Arabic harakat) are kept: removing them would change the word.
const DIACRITICS = /[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]/gu
const WORD = /[\p{L}\p{N}\p{M}]+/gu
/** Longer "words" (encoded blobs, hashes) are not useful keywords and could exceed the key size limit. */
const MAX_KEYWORD_LENGTH = 200

function normalizeString(s: string): string {
  return s.trim().replace(WHITE_SPACE, ' ').toLowerCase()
}

function noAccentsString(s: string): string {
  // NFC afterwards so that what NFD decomposed without being an accent (Hangul, ...) is whole again.
  return s.normalize('NFD').replace(DIACRITICS, '').normalize('NFC')
}

/**
 * Index functions, each usable as `@Index(Indexing.x)` and as a helper inside a computed index.
 *
 * The string helpers (`normalize`, `noAccents`, `keyword`) return `undefined` for `undefined`/`null`,
 * apply to each element of an array, and return numbers, booleans and Dates unchanged (they are
 * keys as they are). Other values are returned as they are, and the index refuses them.
 *
 * @example
 * ```ts
 * @Property(Types.STRING) @Index(Indexing.normalize) name!: string
 * Account.index('name').get(Indexing.normalize('  Ada  LOVELACE ')) // matches 'ada lovelace'
 * ```
 */
export const Indexing = {
  /** The value as it is; an array gives one key per element. */
  value(v: unknown): any {
    return v
  },

  /** Lower case, trimmed, inner white space collapsed to one space. */
  normalize(v: unknown): any {
    return eachString(v, normalizeString)
  },

  /** Accents removed (`'Émile'` gives `'Emile'`); case and spacing kept. */
  noAccents(v: unknown): any {
    return eachString(v, noAccentsString)
  },

  /** One key, normalized and accent-free. */
  keyword(v: unknown): any {
    return eachString(v, (s) => noAccentsString(normalizeString(s)))
  },

  /**
   * Every distinct word of a text or an array of texts, normalized and accent-free, in order of
   * first appearance. A word is a run of letters, digits and marks (`\p{L}\p{N}\p{M}`), so
   * punctuation and apostrophes split words; scripts written without spaces (Chinese, Japanese)
   * give one word per run. Words shorter than `minLength` code points are dropped, and so are
   * words longer than 200 (blobs, not words). `undefined`/`null` entries are skipped, numbers are
   * read as their decimal text, other values are skipped.
   */
  keywords(texts: unknown, minLength: number = 3): string[] {
    // Used directly as `@Index(Indexing.keywords)`, the second argument is the object.
    if (typeof minLength !== 'number') minLength = 3
    if (!Number.isInteger(minLength) || minLength < 0) throw new ArgumentError(`Indexing.keywords() minLength must be an integer >= 0, got ${describeValue(minLength)}`)
    const words = new Set<string>()
    const add = (t: unknown): void => {
      if (typeof t === 'number' || typeof t === 'bigint') t = String(t)
      if (typeof t === 'string') {
        for (const [word] of noAccentsString(t.toLowerCase()).matchAll(WORD)) {
          const length = word.length < minLength || word.length > MAX_KEYWORD_LENGTH ? [...word].length : word.length
          if (length >= minLength && length <= MAX_KEYWORD_LENGTH) words.add(word)
        }
      } else if (Array.isArray(t)) {
        t.forEach(add)
      }
    }
    add(texts)
    return [...words]
  },

  /** The object's last change time (ms epoch), whatever the value. */
  updateTime(_v: unknown, obj: any): any {
    return typeof obj?.getUpdateTime === 'function' ? obj.getUpdateTime() : undefined
  },

  /**
   * An index function giving every ancestor path and the path itself: `paths('/')('a/b/c')` gives
   * `'a'`, `'a/b'`, `'a/b/c'`, so a query for `'a'` finds everything under `a`. Empty ancestors
   * (a leading or doubled separator) are skipped; an array gives the paths of every element.
   */
  paths(separator = '/'): (v: unknown, obj?: unknown) => any {
    if (typeof separator !== 'string' || separator.length === 0) {
      throw new ArgumentError(`Indexing.paths() separator must be a non-empty string, got ${describeValue(separator)}`)
    }
    const fn = (v: unknown): any =>
      eachString(v, (s) => {
        const out = new Set<string>()
        for (let i = s.indexOf(separator); i !== -1; i = s.indexOf(separator, i + separator.length)) {
          if (i > 0 && !s.startsWith(separator, i - separator.length)) out.add(s.slice(0, i))
        }
        if (s !== '') out.add(s)
        return [...out]
      })
    Object.defineProperty(fn, INDEX_SIGNATURE, { value: `Indexing.paths(${JSON.stringify(separator)})` })
    return fn
  },
}

for (const name of ['value', 'normalize', 'noAccents', 'keyword', 'keywords', 'updateTime'] as const) {
  Object.defineProperty(Indexing[name], INDEX_SIGNATURE, { value: `Indexing.${name}` })
}
