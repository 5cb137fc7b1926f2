import { createHash } from 'node:crypto'
import type { Engine, WriteOp } from '../engine/engine.js'
import { CorruptionError, StowageError, ValidationError } from '../errors.js'
import { indexKeysOf } from '../indexes/index-keys.js'
import { readKeysRecord } from '../indexes/index-writes.js'
import { claimPrefix, entryPrefix, keysRecordKey } from '../indexes/layout.js'
import { holdersOf, keepsClaims } from '../indexes/unique-claims.js'
import type { IndexMeta, ModelMeta } from '../model/meta.js'
import { STATE } from '../model/object-state.js'
import { recordInstance, validateState } from '../model/records.js'
import { checkRawRecord } from '../raw/raw-state.js'
import { linkPrefix, reverseKey } from '../relations/layout.js'
import { isManyInfo, isRef, linksOfRecord, type Ref } from '../relations/stored-links.js'
import { pagesOf } from '../engine/pages.js'
import { problem, showKey, type Problem } from './problems.js'

/** What a check found, and the writes that would repair the derivable part (other than reindexing). */
export interface Findings {
  problems: Problem[]
  /** Writes that put reverse entries right and drop orphan keys records. */
  fixes: WriteOp[]
  /** Models whose indexes must be rebuilt. */
  reindex: Set<ModelMeta>
  /** The entry key of each problem found with an entry rather than with an object (to check it again). */
  entryKeys: Map<Problem, string>
}

/** Findings with nothing found yet. */
export function noFindings(): Findings {
  return { problems: [], fixes: [], reindex: new Set(), entryKeys: new Map() }
}

export interface CollectionCheck {
  collection: string
  /** The registered model, if any: validation and indexes are checked only with it. */
  meta?: ModelMeta
  /** The model's indexes whose entries were built by their current definition. */
  built: IndexMeta[]
}

/**
 * Checks each stored object of a collection: its record reads back, decodes and validates; its keys
 * record lists the keys its index functions give and each of those entries exists; its raw data has
 * its recorded size and SHA-256; each of its links has its reverse entry and a stored target, and
 * each Many summary agrees with the link entries. `onObject` is called after each page. `pages`:
 * the ids to check, by default every stored one.
 */
export async function checkObjects(
  engine: Engine,
  check: CollectionCheck,
  found: Findings,
  onObjects: (n: number) => void,
  pages: AsyncIterable<string[]> = pagesOf(engine.recordIds(check.collection)),
): Promise<void> {
  const { collection, meta, built } = check
  const claims = keepsClaims(engine)
  for await (const ids of pages) {
    const [records, keysRecords] = await Promise.all([
      engine.getRecords(collection, ids),
      meta !== undefined && built.length > 0 ? engine.getMany(ids.map((oid) => keysRecordKey(collection, oid))) : [],
    ])
    const wanted: WantedEntry[] = []
    for (let i = 0; i < ids.length; i++) {
      const oid = ids[i]!
      const record = records[i]
      if (record === undefined) {
        const damage = engine.damaged().find((d) => d.collection === collection && d.id === oid)
        if (damage === undefined) continue // removed since its id was listed
        found.problems.push(problem({ kind: 'damaged-record', collection, oid, message: `${collection}/${oid} cannot be read back: ${damage.reason}`, ...(damage.file ? { found: damage.file } : {}) }))
        continue
      }
      if (meta !== undefined) checkModelled(meta, built, claims, oid, record, keysRecords[i], found, wanted)
      await checkRaw(engine, collection, oid, record, found)
      await checkLinks(engine, collection, oid, record, found)
    }
    if (meta !== undefined) await checkEntriesExist(engine, meta, wanted, found)
    onObjects(ids.length)
  }
}

/** An index entry an object's keys call for, or (`claim`) the claim of a unique index that must list it. */
interface WantedEntry {
  key: string
  oid: string
  index: string
  claim?: true
}

/**
 * Decodes and validates the record, and compares its keys record with the keys its index functions
 * give; adds the entries (and, with `claims`, the claims of unique indexes) those keys call for to `wanted`.
 */
function checkModelled(meta: ModelMeta, built: IndexMeta[], claims: boolean, oid: string, record: unknown, storedKeys: unknown, found: Findings, wanted: WantedEntry[]): void {
  const { collection } = meta
  let obj
  try {
    obj = recordInstance(meta, oid, record)
  } catch (err) {
    found.problems.push(problem({ kind: 'undecodable-record', collection, oid, message: (err as Error).message }))
    return
  }
  try {
    validateState(obj[STATE])
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err
    found.problems.push(problem({ kind: 'invalid-record', collection, oid, message: err.message, found: err.errors.map((e) => `${e.property}: ${e.reason}`).join('; ') }))
  }
  const stored = readKeysRecord(storedKeys)
  for (const index of built) {
    let keys: string[]
    try {
      keys = indexKeysOf(meta, index, oid, obj)
    } catch (err) {
      if (!(err instanceof StowageError)) throw err
      found.problems.push(problem({ kind: 'index-failed', collection, oid, index: index.name, message: err.message }))
      continue
    }
    for (const k of keys) wanted.push({ key: entryPrefix(collection, index.name) + k + '\x00' + oid, oid, index: index.name })
    if (claims && index.unique) for (const k of keys) wanted.push({ key: claimPrefix(collection, index.name) + k, oid, index: index.name, claim: true })
    const have = stored[index.name] ?? []
    if (!sameSet(keys, have)) {
      found.problems.push(
        problem({
          kind: 'keys-record-wrong',
          collection,
          oid,
          index: index.name,
          expected: JSON.stringify(keys.map(showKey)),
          found: JSON.stringify(have.map(showKey)),
          message: `${collection}/${oid}: its keys record lists ${JSON.stringify(have.map(showKey))} under index ${index.name}, its index function gives ${JSON.stringify(keys.map(showKey))}`,
        }),
      )
      found.reindex.add(meta)
    }
  }
}

/** Every entry (and claim) the objects' keys (as their index functions give them) call for is stored. */
async function checkEntriesExist(engine: Engine, meta: ModelMeta, wanted: WantedEntry[], found: Findings): Promise<void> {
  if (wanted.length === 0) return
  const values = await engine.getMany(wanted.map((w) => w.key))
  wanted.forEach((w, n) => {
    if (w.claim ? holdersOf(values[n]).includes(w.oid) : values[n] !== undefined) return
    const message = w.claim ? `${meta.collection}/${w.oid}: the claim ${showKey(w.key)} of unique index ${w.index} does not list it` : `${meta.collection}/${w.oid}: index ${w.index} has no entry ${showKey(w.key)}`
    found.problems.push(problem({ kind: 'index-entry-missing', collection: meta.collection, oid: w.oid, index: w.index, key: showKey(w.key), message }))
    found.reindex.add(meta)
  })
}

async function checkRaw(engine: Engine, collection: string, oid: string, record: unknown, found: Findings): Promise<void> {
  const raw = checkRawRecord((record as { raw?: unknown } | null)?.raw)
  if (raw === undefined) return
  const expected = `${raw.size} bytes, SHA-256 ${raw.sha256}`
  if (!(await engine.hasRaw(collection, oid))) {
    found.problems.push(problem({ kind: 'raw-missing', collection, oid, expected, message: `${collection}/${oid}: its raw data (${expected}) is missing` }))
    return
  }
  const hash = createHash('sha256')
  let size = 0
  try {
    for await (const chunk of engine.readRaw(collection, oid)) {
      hash.update(chunk)
      size += chunk.byteLength
    }
  } catch (err) {
    if (!(err instanceof CorruptionError)) throw err
    found.problems.push(problem({ kind: 'raw-mismatch', collection, oid, expected, found: err.message, message: `${collection}/${oid}: its raw data cannot be read as recorded: ${err.message}` }))
    return
  }
  const sha256 = hash.digest('hex')
  if (size !== raw.size || sha256 !== raw.sha256) {
    const got = `${size} bytes, SHA-256 ${sha256}`
    found.problems.push(problem({ kind: 'raw-mismatch', collection, oid, expected, found: got, message: `${collection}/${oid}: its raw data is ${got}, its record says ${expected}` }))
  }
}

/** The owner's side of its links: reverse entries, stored targets, Many summaries. */
async function checkLinks(engine: Engine, collection: string, oid: string, record: unknown, found: Findings): Promise<void> {
  const links = linksOfRecord(record as never)
  if (links === undefined) return
  for (const relation of Object.keys(links)) {
    const v = links[relation]
    if (isRef(v)) {
      await checkLink(engine, collection, oid, relation, v, null, found)
      continue
    }
    if (!isManyInfo(v)) continue
    const targets: string[] = []
    const prefix = linkPrefix(collection, oid, relation)
    for await (const [key, ref] of engine.entries({ prefix })) {
      if (!isRef(ref)) continue
      targets.push(ref[1])
      await checkLink(engine, collection, oid, relation, ref, parseInt(key.slice(prefix.length), 36), found)
    }
    if (v.n !== targets.length || (v.o !== undefined && !sameList(v.o, targets))) {
      found.problems.push(
        problem({
          kind: 'many-summary-wrong',
          collection,
          oid,
          relation,
          expected: `${targets.length} links`,
          found: `${v.n} links`,
          message: `${collection}/${oid}.${relation}: its record counts ${v.n} links${v.o ? ` (${v.o.join(', ')})` : ''}, its link entries are ${targets.length} (${targets.join(', ')})`,
        }),
      )
    }
  }
}

async function checkLink(engine: Engine, collection: string, oid: string, relation: string, [tc, to]: Ref, position: number | null, found: Findings): Promise<void> {
  const key = reverseKey(tc, to, collection, oid, relation)
  const [reverse] = await engine.getMany([key])
  const where = `${collection}/${oid}.${relation} -> ${tc}/${to}`
  if (reverse === undefined) {
    found.problems.push(problem({ kind: 'reverse-missing', collection, oid, relation, key: showKey(key), expected: JSON.stringify(position), message: `${where}: the reverse entry is missing` }))
    found.fixes.push({ type: 'put', key, value: position })
  } else if (reverse !== position) {
    found.problems.push(problem({ kind: 'reverse-wrong', collection, oid, relation, key: showKey(key), expected: JSON.stringify(position), found: JSON.stringify(reverse), message: `${where}: the reverse entry holds ${JSON.stringify(reverse)}, not ${JSON.stringify(position)}` }))
    found.fixes.push({ type: 'put', key, value: position })
  }
  if (!(await engine.hasRecord(tc, to))) found.problems.push(problem({ kind: 'link-dangling', collection, oid, relation, found: `${tc}/${to}`, message: `${where}: the linked object is not stored` }))
}

function sameSet(a: string[], b: string[]): boolean {
  if (a.length !== b.length) return false
  const s = new Set(b)
  return a.every((x) => s.has(x))
}

function sameList(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i])
}
