import type { IndexMeta, ModelMeta } from '../model/meta.js'
import { escapeString } from './key-codec.js'
import { INDEX_SIGNATURE } from './indexing.js'

/**
 * Where index data lives among the engine's entries. Collection names and oids never contain NUL;
 * index names are escaped like string keys, so NUL separates every part unambiguously.
 *   idx\0e\0<collection>\0<index>\0<encoded key>\0<oid>  -> null   one entry per (key, object)
 *   idx\0k\0<collection>\0<oid>                         -> the encoded keys of the object per index (see writeKeysRecord)
 *   idx\0u\0<collection>\0<index>\0<encoded key>        -> the oids holding the key, NUL-separated   unique indexes only (unique-claims.ts)
 *   idx\0s\0<collection>\0<index>                       -> signature of the index definition that built the entries
 *   idx\0x\0<collection>\0<oid>                         -> null   changed behind the engine's back, not re-indexed yet
 */
const ROOT = 'idx\x00'

/** The collection whose index entries `key` is one of, if it is one. */
export function entryCollection(key: string): string | undefined {
  if (!key.startsWith(ENTRIES)) return undefined
  const end = key.indexOf('\x00', ENTRIES.length)
  return end < 0 ? undefined : key.slice(ENTRIES.length, end)
}

const ENTRIES = `${ROOT}e\x00`

/** Every index entry of a collection. */
export function collectionEntriesPrefix(collection: string): string {
  return `${ROOT}e\x00${collection}\x00`
}

export function entryPrefix(collection: string, index: string): string {
  return `${ROOT}e\x00${collection}\x00${escapeString(index)}\x00`
}

/** Every claim of a collection's unique indexes. */
export function collectionClaimsPrefix(collection: string): string {
  return `${ROOT}u\x00${collection}\x00`
}

/** The claims of one unique index: `claimPrefix(...) + <encoded key>` holds the oids holding that key. */
export function claimPrefix(collection: string, index: string): string {
  return `${ROOT}u\x00${collection}\x00${escapeString(index)}\x00`
}

export function keysRecordPrefix(collection: string): string {
  return `${ROOT}k\x00${collection}\x00`
}

export function keysRecordKey(collection: string, oid: string): string {
  return keysRecordPrefix(collection) + oid
}

export function externalPrefix(collection: string): string {
  return `${ROOT}x\x00${collection}\x00`
}

export function signaturePrefix(collection: string): string {
  return `${ROOT}s\x00${collection}\x00`
}

export function signatureKey(collection: string, index: string): string {
  return signaturePrefix(collection) + escapeString(index)
}

/** The encoded keys an object is indexed under, by index name. */
export type KeysRecord = Record<string, string[]>

/**
 * Identifies an index definition between runs: its `version` if it has one, else the function's
 * source text (or the signature a factory such as `Indexing.paths(sep)` attaches); the property
 * and the options. A function that
 * closes over a changed variable keeps its text: `db.reindex()` rebuilds such an index.
 * `claims`: whether the store keeps the claims of unique indexes (unique-claims.ts); a unique index
 * built without them (stores written before they existed) is rebuilt once with them.
 */
export function signatureOf(index: IndexMeta, claims: boolean): string {
  const marks = index.unique && claims ? { unique: true, claims: 1 } : { unique: index.unique }
  if (index.version !== undefined) return JSON.stringify({ v: 1, version: index.version, property: index.property ?? null, ...marks })
  const fn = index.fn as { [INDEX_SIGNATURE]?: string }
  const source = typeof fn[INDEX_SIGNATURE] === 'string' ? fn[INDEX_SIGNATURE] : String(index.fn)
  return JSON.stringify({ v: 1, fn: source, property: index.property ?? null, ...marks })
}

/** `Account.email`, for messages. */
export function indexLabel(meta: ModelMeta, index: string): string {
  return `${meta.ctor.name}.${index}`
}
