/**
 * Where relation data lives among the engine's entries. Collection names and oids never contain NUL,
 * and relation names are refused if they do, so NUL separates every part unambiguously.
 *   rel\0m\0<owner collection>\0<owner oid>\0<relation>\0<position>  -> [target collection, target oid]
 *       the links of a Many relation, in insertion order (positions only grow)
 *   rel\0r\0<target collection>\0<target oid>\0<owner collection>\0<owner oid>\0<relation>  -> position | null
 *       reverse links: who points at an object (a Many link gives its position, a One link null).
 *       It is also the membership entry: whether a Many relation holds an object, and where, is one
 *       read, and removing an object finds every link to it without a scan.
 * One links, and the size of each Many relation, live in the owner's record (`record.links`).
 * A Many link costs two entries; adding or removing one writes those two and the owner's record.
 */
const ROOT = 'rel\x00'

/** Every Many link entry of an owner, whatever the relation. */
export function ownerLinksPrefix(ownerCollection: string, ownerOid: string): string {
  return `${ROOT}m\x00${ownerCollection}\x00${ownerOid}\x00`
}

export function linkPrefix(ownerCollection: string, ownerOid: string, relation: string): string {
  return `${ROOT}m\x00${ownerCollection}\x00${ownerOid}\x00${relation}\x00`
}

export function linkKey(ownerCollection: string, ownerOid: string, relation: string, position: number): string {
  return linkPrefix(ownerCollection, ownerOid, relation) + encodePosition(position)
}

export function reversePrefix(targetCollection: string, targetOid: string): string {
  return `${ROOT}r\x00${targetCollection}\x00${targetOid}\x00`
}

export function reverseKey(targetCollection: string, targetOid: string, ownerCollection: string, ownerOid: string, relation: string): string {
  return `${reversePrefix(targetCollection, targetOid)}${ownerCollection}\x00${ownerOid}\x00${relation}`
}

/** Every relation entry, for checks and tests. */
export const RELATIONS_ROOT = ROOT

/** The (owner collection, owner oid, relation) of a reverse entry, given the entry's key. */
export function parseReverseKey(key: string, prefix: string): { collection: string; oid: string; relation: string } | undefined {
  const parts = key.slice(prefix.length).split('\x00')
  if (parts.length !== 3) return undefined
  return { collection: parts[0]!, oid: parts[1]!, relation: parts[2]! }
}

const POSITION_WIDTH = 11 // 36^11 > 2^53: every safe integer fits

/** Fixed-width base 36, so positions sort numerically as strings. */
export function encodePosition(position: number): string {
  return position.toString(36).padStart(POSITION_WIDTH, '0')
}
