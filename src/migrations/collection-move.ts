import type { Engine, WriteOp } from '../engine/engine.js'
import { deletePrefix } from '../engine/pages.js'
import type { ModelMeta } from '../model/meta.js'
import type { ObjectRecord } from '../model/object-state.js'
import { MigrationError } from '../errors.js'
import { collectionClaimsPrefix, collectionEntriesPrefix, externalPrefix, keysRecordKey, keysRecordPrefix, signaturePrefix } from '../indexes/layout.js'
import { encodePosition, linkPrefix, ownerLinksPrefix, parseReverseKey, reverseKey, reversePrefix } from '../relations/layout.js'
import { isRef, linksOfRecord, type LinksRecord, type Ref } from '../relations/stored-links.js'
import { markerKey, readMarker } from './schema-marker.js'

/**
 * Moves every object of a former collection of the model (`@Model({ formerly })`) to its
 * collection, one object per atomic write: its record (at whatever version it is, the migration pass
 * follows), its own links and the reverse entries of its targets, and every link to it from other
 * objects, which then point at the new collection. The model's indexes are rebuilt afterwards from
 * all its records (their signatures are dropped first), and the former collection's index data is
 * deleted. A move cut short leaves each object whole in one collection or the other: the next open
 * goes on. Returns how many objects moved.
 */
export async function moveFormerCollection(engine: Engine, meta: ModelMeta, former: string): Promise<number> {
  const target = meta.collection
  if ((await engine.countRecords(former)) === 0) {
    await deleteFormerIndexData(engine, former)
    return 0
  }
  const formerMarker = await readMarker(engine, former)
  const ops: WriteOp[] = []
  if (formerMarker !== undefined && (await readMarker(engine, target)) === undefined) ops.push({ type: 'put', key: markerKey(target), value: formerMarker })
  for await (const key of engine.keys({ prefix: signaturePrefix(target) })) ops.push({ type: 'del', key })
  await engine.batch(ops)
  let moved = 0
  for (;;) {
    const next: [string, unknown][] = []
    for await (const entry of engine.records(former, { limit: 1 })) next.push(entry)
    if (next.length === 0) break
    const [oid, record] = next[0]!
    if (await engine.hasRecord(target, oid)) {
      throw new MigrationError(meta.ctor.name, meta.versioning.version, oid, `both the former collection "${former}" and "${target}" hold this oid: move or remove one of them first`)
    }
    await engine.batch(await moveOps(engine, former, target, oid, record as ObjectRecord))
    moved++
  }
  await deleteFormerIndexData(engine, former)
  return moved
}

/** The writes that move one object, and repoint its links and the links to it. */
async function moveOps(engine: Engine, former: string, target: string, oid: string, record: ObjectRecord): Promise<WriteOp[]> {
  const ops: WriteOp[] = []
  const moveRef = (ref: Ref): Ref => (ref[0] === former ? [target, ref[1]] : ref)
  /** Records rewritten by this move (the object's own, and owners of One links to it), by collection and oid. */
  const rewritten = new Map<string, { collection: string; oid: string; record: ObjectRecord }>()

  // Its One links live in its record; each has a reverse entry at the target naming it as owner.
  const links = linksOfRecord(record)
  const ownLinks: LinksRecord = {}
  for (const [relation, value] of Object.entries(links ?? {})) {
    if (isRef(value)) {
      ops.push({ type: 'del', key: reverseKey(value[0], value[1], former, oid, relation) })
      const ref = moveRef(value)
      ops.push({ type: 'put', key: reverseKey(ref[0], ref[1], target, oid, relation), value: null })
      ownLinks[relation] = ref
    } else {
      ownLinks[relation] = value
    }
  }
  rewritten.set(former + '\x00' + oid, { collection: target, oid, record: links === undefined ? record : Object.assign({}, record, { links: ownLinks }) })

  // Its Many links are entries under its collection, each with a reverse entry at its target.
  const ownPrefix = ownerLinksPrefix(former, oid)
  for await (const [key, value] of engine.entries({ prefix: ownPrefix })) {
    const [relation, position] = key.slice(ownPrefix.length).split('\x00') as [string, string]
    ops.push({ type: 'del', key })
    if (!isRef(value)) continue
    const ref = moveRef(value)
    ops.push({ type: 'put', key: linkPrefix(target, oid, relation) + position, value: ref })
    ops.push({ type: 'del', key: reverseKey(value[0], value[1], former, oid, relation) })
    ops.push({ type: 'put', key: reverseKey(ref[0], ref[1], target, oid, relation), value: await reversePosition(engine, value, former, oid, relation) })
  }

  // Links to it: reverse entries under it; each owner's link (a One in its record, a Many entry) now names the new collection.
  const prefix = reversePrefix(former, oid)
  for await (const [key, position] of engine.entries({ prefix })) {
    const owner = parseReverseKey(key, prefix)
    if (owner === undefined) continue
    const self = owner.collection === former && owner.oid === oid
    const ownerCollection = self ? target : owner.collection
    ops.push({ type: 'del', key })
    ops.push({ type: 'put', key: reverseKey(target, oid, ownerCollection, owner.oid, owner.relation), value: position })
    if (typeof position === 'number') {
      if (!self) ops.push({ type: 'put', key: linkPrefix(owner.collection, owner.oid, owner.relation) + encodePosition(position), value: [target, oid] })
      continue
    }
    const id = owner.collection + '\x00' + owner.oid
    let entry = rewritten.get(id)
    if (entry === undefined) {
      const stored = (await engine.getRecords(owner.collection, [owner.oid]))[0] as ObjectRecord | undefined
      if (stored === undefined) continue
      entry = { collection: owner.collection, oid: owner.oid, record: stored }
      rewritten.set(id, entry)
    }
    const ownerLinks = { ...linksOfRecord(entry.record) }
    const ref = ownerLinks[owner.relation]
    if (isRef(ref) && ref[0] === former && ref[1] === oid) ownerLinks[owner.relation] = [target, oid]
    entry.record = Object.assign({}, entry.record, { links: ownerLinks })
  }

  ops.push({ type: 'delRecord', collection: former, id: oid })
  for (const entry of rewritten.values()) ops.push({ type: 'putRecord', collection: entry.collection, id: entry.oid, value: entry.record })
  ops.push({ type: 'del', key: keysRecordKey(former, oid) })
  return ops
}

async function reversePosition(engine: Engine, ref: Ref, owner: string, oid: string, relation: string): Promise<unknown> {
  return (await engine.getMany([reverseKey(ref[0], ref[1], owner, oid, relation)]))[0] ?? null
}

/** Index entries, unique claims, keys records, signatures, pending re-index markers and the schema marker of a collection no model has any more. */
async function deleteFormerIndexData(engine: Engine, former: string): Promise<void> {
  const prefixes = [collectionEntriesPrefix(former), collectionClaimsPrefix(former), keysRecordPrefix(former), signaturePrefix(former), externalPrefix(former)]
  for (const prefix of prefixes) await deletePrefix(engine, prefix)
  await engine.batch([{ type: 'del', key: markerKey(former) }])
}
