import type { Engine, WriteOp } from '../engine/engine.js'
import { sharedStoreOf } from '../coherence/shared-store.js'
import type { IndexMeta, ModelMeta } from '../model/meta.js'
import { freshClaims, pushIndexOps, uniqueError, type IndexUpdate } from './index-writes.js'
import { claimPrefix } from './layout.js'

/**
 * A unique index keeps, beside its entries, one claim per key it holds: `claimPrefix + <key>` ->
 * the oids holding the key, NUL-separated (more than one only for duplicates from before the index
 * was unique, or from a hand edit). Checking a key a save claims is then one point read, which
 * LevelDB and LMDB answer synchronously, instead of a range scan (on LevelDB an iterator on the
 * thread pool). Claims are written in the same batch as the entries they mirror, by every writer of
 * entries (`claimUnique` for saves, `pushIndexWrites` for the others). A store shared by several processes keeps none: its engine checks
 * claimed keys in the batch itself (puts marked `unique`).
 */
export function keepsClaims(engine: Engine): boolean {
  return sharedStoreOf(engine) === undefined
}

/**
 * The oids holding each of these encoded keys of a unique index, key after key, each key's in
 * entry order (by oid, as the engine orders keys), read from the claims: where the store keeps them
 * and the engine reads synchronously, so a lookup costs a point read per key. Else undefined: read
 * the entries.
 */
export function claimedOids(engine: Engine, meta: ModelMeta, index: IndexMeta, keys: string[]): string[] | undefined {
  if (!index.unique || engine.supports.syncReads !== true || !keepsClaims(engine)) return undefined
  const prefix = claimPrefix(meta.collection, index.name)
  const oids: string[] = []
  for (const key of keys) {
    const holders = holdersOf(engine.getSync(prefix + key))
    if (holders.length > 1) holders.sort(byBytes)
    for (const oid of holders) oids.push(oid)
  }
  return oids
}

const byBytes = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b))

/** The holders a stored claim lists. */
export function holdersOf(value: unknown): string[] {
  return typeof value === 'string' && value !== '' ? value.split('\x00') : []
}

/**
 * Refuses the updates if they give a key of a unique index to one more object (ConstraintError,
 * as `checkUnique` decides it), else adds to `ops` the claims they change. Reads each claim once.
 */
export async function claimUnique(engine: Engine, updates: IndexUpdate[], ops: WriteOp[]): Promise<void> {
  const fresh = freshClaims(updates)
  const changes = claimChanges(updates)
  if (changes.size === 0) return
  const holders = await currentHolders(engine, changes, ops)
  for (const claim of fresh) {
    const key = claimPrefix(claim.meta.collection, claim.index) + claim.key
    for (const holder of holders.get(key)!) {
      if (holder !== claim.oid && !claim.involved.has(claim.meta.collection + '\x00' + holder)) throw uniqueError(claim.meta, claim.index, claim.key, holder, claim.oid)
    }
  }
  pushClaimOps(changes, holders, ops)
}

/**
 * Adds to `ops` the entry and keys record changes of each update (`pushIndexOps`, which see) and,
 * where the store keeps them, the claims they change, with no unique check: for writes that
 * re-index what is stored (rebuilds, hand edits, owners losing a link). Saves check with `claimUnique`.
 */
export async function pushIndexWrites(engine: Engine, updates: IndexUpdate[], ops: WriteOp[], recordChanged?: boolean): Promise<void> {
  for (const u of updates) pushIndexOps(u, ops, recordChanged)
  if (!keepsClaims(engine)) return
  const changes = claimChanges(updates)
  if (changes.size > 0) pushClaimOps(changes, await currentHolders(engine, changes, ops), ops)
}

/** Per claim key the updates change: the oids taking the key and those letting it go. */
type ClaimChanges = Map<string, { take: string[]; leave: string[] }>

function claimChanges(updates: IndexUpdate[]): ClaimChanges {
  const changes: ClaimChanges = new Map()
  const change = (key: string) => {
    let c = changes.get(key)
    if (c === undefined) changes.set(key, (c = { take: [], leave: [] }))
    return c
  }
  for (const u of updates) {
    for (const index of u.meta.indexes.values()) {
      if (!index.unique) continue
      const before = u.old[index.name] ?? []
      const after = u.next[index.name] ?? []
      if (before.length === 0 && after.length === 0) continue
      const prefix = claimPrefix(u.meta.collection, index.name)
      for (const key of after) if (!before.includes(key)) change(prefix + key).take.push(u.oid)
      for (const key of before) if (!after.includes(key)) change(prefix + key).leave.push(u.oid)
    }
  }
  return changes
}

/**
 * The holders of each claim as the store and then `ops` leave them: another part of the same write
 * (owners re-indexed after a removal) may have changed a claim already.
 */
async function currentHolders(engine: Engine, changes: ClaimChanges, ops: WriteOp[]): Promise<Map<string, string[]>> {
  const keys = [...changes.keys()]
  const stored = engine.supports.syncReads ? keys.map((key) => engine.getSync(key)) : await engine.getMany(keys)
  const holders = new Map(keys.map((key, i) => [key, holdersOf(stored[i])]))
  for (const op of ops) {
    if ((op.type === 'put' || op.type === 'del') && holders.has(op.key)) holders.set(op.key, op.type === 'put' ? holdersOf(op.value) : [])
  }
  return holders
}

function pushClaimOps(changes: ClaimChanges, holders: Map<string, string[]>, ops: WriteOp[]): void {
  for (const [key, { take, leave }] of changes) {
    const before = holders.get(key)!
    const after = before.filter((oid) => !leave.includes(oid))
    for (const oid of take) if (!after.includes(oid)) after.push(oid)
    if (after.length === 0) ops.push({ type: 'del', key })
    else ops.push({ type: 'put', key, value: after.join('\x00') })
  }
}
