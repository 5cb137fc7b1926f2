import { createHmac, hkdfSync } from 'node:crypto'
import type { Range } from '../engine/engine.js'
import { IndexError } from '../errors.js'
import { unescapeString } from '../indexes/key-codec.js'

/**
 * Index keys in an encrypted store. Index entries are `idx\0e\0<collection>\0<index>\0<key>\0<oid>`
 * and claims of unique indexes `idx\0u\0<collection>\0<index>\0<key>` (src/indexes/layout.ts): for an index stored with keyed hashes, `<key>` becomes an HMAC-SHA256 of
 * it (128 bits, base64url, tagged `h`) under a key derived from the data key, so equal keys still meet (equality
 * and keyword lookups, unique indexes) while the files show no key. Ranges, prefixes and key order
 * are then unavailable on that index. Indexes listed as ordered keep their keys as they are.
 */
const ENTRY_ROOT = 'idx\x00e\x00'
/** Claims of unique indexes, `idx\0u\0<collection>\0<index>\0<key>` (unique-claims.ts): their key is hashed alike. */
const CLAIM_ROOT = 'idx\x00u\x00'
/** The tag of a hashed key: encoded keys begin with s, n, b or d (key-codec.ts), never h. */
const HASHED = 'h'
/** Hashed keys remembered (an HMAC costs about 2 µs; most indexes have far fewer keys than objects). */
const REMEMBERED = 8192

export class IndexKeyHasher {
  readonly #key: Buffer
  readonly #ordered: ReadonlySet<string>
  readonly #hashes = new Map<string, string>()

  /** `ordered`: `collection.index` names whose keys stay in the clear, in order. */
  constructor(dataKey: Uint8Array, ordered: Iterable<string>) {
    this.#key = Buffer.from(hkdfSync('sha256', dataKey, Buffer.alloc(0), 'stowage index keys v1', 32))
    this.#ordered = new Set(ordered)
  }

  /** The stored form of an entry key (index entries of hashed indexes hashed, anything else as is). */
  stored(key: string): string {
    const at = this.#entry(key)
    if (at === undefined) return key
    const end = at.claim ? key.length : key.lastIndexOf('\x00')
    // A key read back from a scan of the whole index is stored already (its tag is HASHED).
    if (end <= at.keyStart || key[at.keyStart] === HASHED) return key
    return key.slice(0, at.keyStart) + this.#hash(at.collection, at.index, key.slice(at.keyStart, end)) + key.slice(end)
  }

  /**
   * The range to read in the store for a range over entry keys, and how to give each stored key back
   * as the caller knows it. A range inside a hashed index other than one whole key (or the whole
   * index) is refused with IndexError.
   */
  range(range: Range): { range: Range; back: (stored: string) => string } {
    const same = { range, back: (k: string) => k }
    const probe = range.prefix ?? range.gte ?? range.gt ?? range.lte ?? range.lt
    if (probe === undefined) return same
    const at = this.#entry(probe)
    if (at === undefined) return same
    const prefix = range.prefix ?? ''
    const bounded = range.gte !== undefined || range.gt !== undefined || range.lte !== undefined || range.lt !== undefined
    // The whole index (e.g. to delete it, or list it in no useful order): stored keys as they are.
    if (!bounded && prefix.length === at.keyStart) return same
    const key = prefix.slice(at.keyStart)
    if (!bounded && key.endsWith('\x00') && key.indexOf('\x00') === key.length - 1) {
      const hashed = prefix.slice(0, at.keyStart) + this.#hash(at.collection, at.index, key.slice(0, -1)) + '\x00'
      return { range: Object.assign({}, range, { prefix: hashed }), back: (stored) => prefix + stored.slice(hashed.length) }
    }
    throw new IndexError(
      `${at.collection}.${at.index} is stored with keyed hashes in this encrypted store: equality lookups work, but ranges, prefixes and key order do not; list "${at.collection}.${at.index}" in encryption.ordered to keep its keys in order (in the clear)`,
    )
  }

  /** Where the key of an entry or claim of a hashed index begins (`claim`: it runs to the end, no oid follows). */
  #entry(key: string): { collection: string; index: string; keyStart: number; claim: boolean } | undefined {
    const claim = key.startsWith(CLAIM_ROOT)
    if (!claim && !key.startsWith(ENTRY_ROOT)) return undefined
    const root = (claim ? CLAIM_ROOT : ENTRY_ROOT).length
    const c = key.indexOf('\x00', root)
    if (c < 0) return undefined
    const i = key.indexOf('\x00', c + 1)
    if (i < 0) return undefined
    const collection = key.slice(root, c)
    const index = unescapeString(key.slice(c + 1, i))
    if (this.#ordered.has(`${collection}.${index}`)) return undefined
    return { collection, index, keyStart: i + 1, claim }
  }

  #hash(collection: string, index: string, encoded: string): string {
    const input = `${collection}\0${index}\0${encoded}`
    let hashed = this.#hashes.get(input)
    if (hashed === undefined) {
      hashed = HASHED + createHmac('sha256', this.#key).update(input).digest().subarray(0, 16).toString('base64url')
      if (this.#hashes.size >= REMEMBERED) this.#hashes.clear()
      this.#hashes.set(input, hashed)
    }
    return hashed
  }
}
