/** What `verify` can find wrong. */
export type ProblemKind =
  /** The engine cannot read the record back (a garbled or truncated file, a failing checksum). */
  | 'damaged-record'
  /** The record reads back but is not a Stowage object record. */
  | 'undecodable-record'
  /** The record's values fail its model's validation. */
  | 'invalid-record'
  /** An index was never built, or built by another definition: its entries are rebuilt at first use. */
  | 'index-not-built'
  /** The model's index function throws or gives something that cannot be a key, for this object. */
  | 'index-failed'
  /** The object's keys record does not list the keys its index functions give now. */
  | 'keys-record-wrong'
  /** A keys record for an object that is not stored. */
  | 'keys-record-orphan'
  /** An index entry the object's keys call for is missing. */
  | 'index-entry-missing'
  /** An index entry no stored object's keys call for. */
  | 'index-entry-extra'
  /** A link (One, or a Many link entry) without its reverse entry, or with a wrong one. */
  | 'reverse-missing'
  | 'reverse-wrong'
  /** A reverse entry no link accounts for. */
  | 'reverse-extra'
  /** A link to an object that is not stored. */
  | 'link-dangling'
  /** A Many relation whose summary in the owner's record disagrees with its link entries. */
  | 'many-summary-wrong'
  /** A Many link entry whose owner is not stored, or whose owner's record has no such relation. */
  | 'link-orphan'
  /** Raw data recorded in the object's record is missing, or does not have its recorded size and SHA-256. */
  | 'raw-missing'
  | 'raw-mismatch'

/** One problem `verify` found, precisely enough to find it by hand. */
export interface Problem {
  kind: ProblemKind
  collection: string
  oid?: string
  index?: string
  relation?: string
  /** The entry key concerned, where there is one (NUL shown as `\0`). */
  key?: string
  expected?: string
  found?: string
  message: string
  /** Derived data that `repair` can rebuild (indexes, reverse links). */
  repairable: boolean
  /** Set by `repair` once fixed. */
  repaired?: boolean
}

const REPAIRABLE = new Set<ProblemKind>(['index-not-built', 'keys-record-wrong', 'keys-record-orphan', 'index-entry-missing', 'index-entry-extra', 'reverse-missing', 'reverse-wrong', 'reverse-extra'])

export function problem(p: Omit<Problem, 'repairable'>): Problem {
  return { ...p, repairable: REPAIRABLE.has(p.kind) }
}

/** An entry key for messages: NUL written `\0`. */
export function showKey(key: string): string {
  return key.replaceAll('\x00', '\\0')
}
