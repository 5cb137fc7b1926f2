import type { Engine, WriteOp } from '../engine/engine.js'
import { ConstraintError } from '../errors.js'
import type { ModelMeta } from '../model/meta.js'
import { indexKeysOf } from './index-keys.js'
import { decodeKey, describeKey, escapeString, unescapeString } from './key-codec.js'
import { entryPrefix, indexLabel, keysRecordKey, type KeysRecord } from './layout.js'

/** One object whose index entries go from `old` (what is stored) to `next` (what should be). */
export interface IndexUpdate {
  meta: ModelMeta
  oid: string
  old: KeysRecord
  next: KeysRecord
  /** The object is new: none of its keys is stored (its puts are marked `fresh`). */
  created?: boolean
}

/** The keys an object has under every index of its model (indexes giving none are left out). */
export function keysRecordOf(meta: ModelMeta, oid: string, obj: object): KeysRecord {
  const record: KeysRecord = {}
  for (const index of meta.indexes.values()) {
    const keys = indexKeysOf(meta, index, oid, obj)
    if (keys.length > 0) record[index.name] = keys
  }
  return record
}

/**
 * Keys records are stored as one string, cheap to encode on every engine:
 * `<index>\0<key>\0<key>\0\0<index>\0<key>...`. Index names are escaped and encoded keys never
 * contain NUL or are empty, so the format is unambiguous.
 */
export function writeKeysRecord(record: KeysRecord): string {
  let out = ''
  for (const name in record) out += (out === '' ? '' : '\x00\x00') + escapeString(name) + '\x00' + record[name]!.join('\x00')
  return out
}

/** A stored keys record; anything unreadable counts as no keys. */
export function readKeysRecord(value: unknown): KeysRecord {
  const record: KeysRecord = {}
  if (typeof value !== 'string' || value === '') return record
  for (const part of value.split('\x00\x00')) {
    const [name, ...keys] = part.split('\x00')
    if (name !== undefined && keys.length > 0) record[unescapeString(name)] = keys
  }
  return record
}

/**
 * Adds the entry deletions and insertions that take `u.old` to `u.next`, and the new keys record.
 * Returns the keys record it writes, if it writes one.
 */
export function pushIndexOps(u: IndexUpdate, ops: WriteOp[], recordChanged = !sameRecord(u.old, u.next)): string | undefined {
  const { collection } = u.meta
  const fresh = u.created === true
  const suffix = '\x00' + u.oid
  for (const name in u.next) {
    const before = u.old[name]
    const had = before === undefined ? undefined : membership(before)
    const prefix = entryPrefix(collection, name)
    for (const key of u.next[name]!) if (had === undefined || !had(key)) ops.push({ type: 'put', key: prefix + key + suffix, value: null, fresh })
  }
  for (const name in u.old) {
    const after = u.next[name]
    const keeps = after === undefined ? undefined : membership(after)
    const prefix = entryPrefix(collection, name)
    for (const key of u.old[name]!) if (keeps === undefined || !keeps(key)) ops.push({ type: 'del', key: prefix + key + suffix })
  }
  if (!recordChanged) return undefined
  const key = keysRecordKey(collection, u.oid)
  if (Object.keys(u.next).length === 0) {
    ops.push({ type: 'del', key })
    return undefined
  }
  const value = writeKeysRecord(u.next)
  ops.push({ type: 'put', key, value, fresh })
  return value
}

function membership(keys: string[]): (key: string) => boolean {
  if (keys.length <= 16) return (key) => keys.includes(key)
  const set = new Set(keys)
  return (key) => set.has(key)
}

export function sameRecord(a: KeysRecord, b: KeysRecord): boolean {
  const names = Object.keys(a)
  if (names.length !== Object.keys(b).length) return false
  for (const name of names) {
    const x = a[name]!
    const y = b[name]
    if (y === undefined || x.length !== y.length) return false
    if (x.length === 1 ? x[0] !== y[0] : !x.every(membership(y))) return false
  }
  return true
}

const LOOKUPS_IN_FLIGHT = 32

/**
 * Refuses updates that would give a key of a unique index to one more object: two updates claiming
 * it, or one claiming a key that an object outside `updates` holds in the store. Objects in
 * `updates` are judged by their `next` keys, so a key can move between them in one write. A key
 * an object already holds is never refused, so objects sharing a key from before the index was
 * unique (or from a hand edit) can still be saved, and changed or removed to end the duplicate.
 * Reads the index entries: for a store shared by several processes, which keeps no claims
 * (`claimUnique` decides the same from them).
 */
export async function checkUnique(engine: Engine, updates: IndexUpdate[]): Promise<void> {
  const lookups = freshClaims(updates).map(({ meta, index, key, oid, involved }) => async () => {
    const prefix = entryPrefix(meta.collection, index) + key + '\x00'
    for await (const entry of engine.keys({ prefix })) {
      const holder = entry.slice(prefix.length)
      if (holder !== oid && !involved.has(meta.collection + '\x00' + holder)) throw uniqueError(meta, index, key, holder, oid)
    }
  })
  for (let i = 0; i < lookups.length; i += LOOKUPS_IN_FLIGHT) {
    await Promise.all(lookups.slice(i, i + LOOKUPS_IN_FLIGHT).map((lookup) => lookup()))
  }
}

/** A key of a unique index that an object takes in a write (it did not hold it before). */
export interface Claim {
  meta: ModelMeta
  index: string
  key: string
  oid: string
  /** Every object of the write, as collection NUL oid: keys they hold may move between them. */
  involved: Set<string>
}

/**
 * The unique keys these updates claim afresh, once the claims among them are checked: two objects
 * of the write claiming one key is refused here (ConstraintError). Whether an object outside the
 * write holds one is left to the caller: `checkUnique` reads the store; an engine shared by several
 * processes checks it in the batch (puts marked `unique`).
 */
export function freshClaims(updates: IndexUpdate[]): Claim[] {
  /** Per key claimed in this write: the claimant, and whether it is new to the key. */
  const claims = new Map<string, { oid: string; fresh: boolean }>()
  const involved = new Set(updates.map((u) => u.meta.collection + '\x00' + u.oid))
  const claimed: Claim[] = []
  for (const u of updates) {
    for (const index of u.meta.indexes.values()) {
      if (!index.unique) continue
      const old = u.old[index.name] ?? []
      for (const key of u.next[index.name] ?? []) {
        const claim = u.meta.collection + '\x00' + index.name + '\x00' + key
        const fresh = !old.includes(key)
        const other = claims.get(claim)
        if (other !== undefined && other.oid !== u.oid && (fresh || other.fresh)) {
          throw fresh ? uniqueError(u.meta, index.name, key, other.oid, u.oid) : uniqueError(u.meta, index.name, key, u.oid, other.oid)
        }
        if (other === undefined || fresh) claims.set(claim, { oid: u.oid, fresh })
        if (fresh) claimed.push({ meta: u.meta, index: index.name, key, oid: u.oid, involved })
      }
    }
  }
  return claimed
}

/** The index entry a claim writes. */
export function claimEntry(claim: Claim): string {
  return entryPrefix(claim.meta.collection, claim.index) + claim.key + '\x00' + claim.oid
}

export function uniqueError(meta: ModelMeta, index: string, key: string, holder: string, claimant: string): ConstraintError {
  const model = meta.ctor.name
  return new ConstraintError(
    `Unique index ${indexLabel(meta, index)}: key ${describeKey(decodeKey(key))} is already held by ${model} ${holder}, so ${model} ${claimant} cannot take it`,
  )
}
