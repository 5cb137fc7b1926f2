import type { Engine } from '../engine/engine.js'
import { readKeysRecord } from '../indexes/index-writes.js'
import { claimPrefix, entryPrefix, keysRecordKey, keysRecordPrefix } from '../indexes/layout.js'
import { holdersOf, keepsClaims } from '../indexes/unique-claims.js'
import type { IndexMeta, ModelMeta } from '../model/meta.js'
import { linkKey, RELATIONS_ROOT } from '../relations/layout.js'
import { isManyInfo, isRef, linksOfRecord } from '../relations/stored-links.js'
import { pagesOf } from '../engine/pages.js'
import { problem, showKey, type Problem } from './problems.js'
import type { Findings } from './verify-objects.js'

/**
 * Every entry of these indexes belongs to a stored object whose keys record lists its key, and every
 * holder a claim of a unique index lists has the entry.
 */
export async function checkIndexEntries(engine: Engine, meta: ModelMeta, built: IndexMeta[], found: Findings): Promise<void> {
  for (const index of built) {
    for await (const keys of pagesOf(engine.keys({ prefix: entryPrefix(meta.collection, index.name) }))) await checkIndexEntryPage(engine, meta, index, keys, found)
    if (!index.unique || !keepsClaims(engine)) continue
    for await (const page of pagesOf(engine.entries({ prefix: claimPrefix(meta.collection, index.name) }))) await checkClaimPage(engine, meta, index, page, found)
  }
}

/**
 * `checkIndexEntries` for some claims of one unique index: each holder listed is a stored object
 * whose keys record lists the key (a missing entry is reported as such, with its object).
 */
export async function checkClaimPage(engine: Engine, meta: ModelMeta, index: IndexMeta, page: Array<[string, unknown]>, found: Findings): Promise<void> {
  const { collection } = meta
  const prefix = claimPrefix(collection, index.name)
  const listed = page.flatMap(([key, value]) => holdersOf(value).map((oid) => ({ key, oid })))
  const stored = await engine.getMany(listed.map((l) => keysRecordKey(collection, l.oid)))
  listed.forEach((l, n) => {
    // Compared as the engine lists claims: an encrypted store lists the keys of hashed indexes hashed.
    if ((readKeysRecord(stored[n])[index.name] ?? []).some((k) => prefix + k === l.key || engine.listedKey(prefix + k) === l.key)) return
    entryProblem(
      found,
      l.key,
      problem({ kind: 'index-entry-extra', collection, oid: l.oid, index: index.name, key: showKey(l.key), message: `the claim ${showKey(l.key)} of unique index ${index.name} lists ${collection}/${l.oid}, whose keys do not call for it` }),
    )
    found.reindex.add(meta)
  })
}

/** `checkIndexEntries` for some entry keys of one index. */
export async function checkIndexEntryPage(engine: Engine, meta: ModelMeta, index: IndexMeta, keys: string[], found: Findings): Promise<void> {
  const { collection } = meta
  const prefix = entryPrefix(collection, index.name)
  const parsed = keys.map((key) => {
    const nul = key.lastIndexOf('\x00')
    return { key, oid: key.slice(nul + 1), encoded: key.slice(prefix.length, nul) }
  })
  const stored = await engine.getMany(parsed.map((p) => keysRecordKey(collection, p.oid)))
  parsed.forEach((p, n) => {
    // Compared as the engine lists entries: an encrypted store lists the keys of hashed indexes hashed.
    if ((readKeysRecord(stored[n])[index.name] ?? []).some((k) => k === p.encoded || engine.listedKey(prefix + k + '\x00' + p.oid) === p.key)) return
    entryProblem(
      found,
      p.key,
      problem({ kind: 'index-entry-extra', collection, oid: p.oid, index: index.name, key: showKey(p.key), message: `index ${index.name} has an entry ${showKey(p.key)} that ${collection}/${p.oid}'s keys do not call for` }),
    )
    found.reindex.add(meta)
  })
}

/** A problem with one entry, remembered with its key so that it can be checked again. */
function entryProblem(found: Findings, key: string, p: Problem): void {
  found.problems.push(p)
  found.entryKeys.set(p, key)
}

/** Every keys record belongs to a stored object. */
export async function checkKeysRecords(engine: Engine, meta: ModelMeta, found: Findings): Promise<void> {
  for await (const keys of pagesOf(engine.keys({ prefix: keysRecordPrefix(meta.collection) }))) await checkKeysRecordPage(engine, meta, keys, found)
}

/** `checkKeysRecords` for some keys records. */
export async function checkKeysRecordPage(engine: Engine, meta: ModelMeta, keys: string[], found: Findings): Promise<void> {
  const { collection } = meta
  const prefix = keysRecordPrefix(collection)
  const stored = await Promise.all(keys.map((key) => engine.hasRecord(collection, key.slice(prefix.length))))
  keys.forEach((key, n) => {
    if (stored[n]) return
    const oid = key.slice(prefix.length)
    entryProblem(found, key, problem({ kind: 'keys-record-orphan', collection, oid, key: showKey(key), message: `a keys record for ${collection}/${oid}, which is not stored` }))
    found.fixes.push({ type: 'del', key })
    found.reindex.add(meta)
  })
}

/**
 * Every reverse entry is accounted for by its owner: a One link in the owner's record (value null)
 * or a Many link entry at its position (a number).
 */
export async function checkReverseEntries(engine: Engine, found: Findings, onEntries: (n: number) => void): Promise<void> {
  for await (const page of pagesOf(engine.entries({ prefix: REVERSE_ROOT }))) {
    await checkReversePage(engine, page, found)
    onEntries(page.length)
  }
}

const REVERSE_ROOT = `${RELATIONS_ROOT}r\x00`
const LINK_ROOT = `${RELATIONS_ROOT}m\x00`

/** `checkReverseEntries` for some reverse entries. */
export async function checkReversePage(engine: Engine, page: Array<[string, unknown]>, found: Findings): Promise<void> {
  await Promise.all(
    page.map(async ([key, value]) => {
      const parts = key.slice(REVERSE_ROOT.length).split('\x00')
      if (parts.length !== 5) return
      const [tc, to, oc, oo, relation] = parts as [string, string, string, string, string]
      let linked: unknown
      if (value === null) {
        const record = await engine.getRecords(oc, [oo]).then((r) => r[0])
        if (record === undefined && engine.damaged().some((d) => d.collection === oc && d.id === oo)) return // reported as damaged
        linked = linksOfRecord(record as never)?.[relation]
      } else if (typeof value === 'number') {
        linked = (await engine.getMany([linkKey(oc, oo, relation, value)]))[0]
      }
      if (isRef(linked) && linked[0] === tc && linked[1] === to) return
      entryProblem(
        found,
        key,
        problem({
          kind: 'reverse-extra',
          collection: tc,
          oid: to,
          relation,
          key: showKey(key),
          found: `${oc}/${oo}.${relation}`,
          message: `a reverse entry says ${oc}/${oo}.${relation} links ${tc}/${to}${typeof value === 'number' ? ` at position ${value}` : ''}, and it does not`,
        }),
      )
      found.fixes.push({ type: 'del', key })
    }),
  )
}

/** Every Many link entry belongs to a stored owner whose record has a summary of that relation. */
export async function checkLinkEntries(engine: Engine, found: Findings): Promise<void> {
  for await (const keys of pagesOf(engine.keys({ prefix: LINK_ROOT }))) await checkLinkPage(engine, keys, found)
}

/** `checkLinkEntries` for some link entries. */
export async function checkLinkPage(engine: Engine, keys: string[], found: Findings): Promise<void> {
  await Promise.all(
    keys.map(async (key) => {
      const parts = key.slice(LINK_ROOT.length).split('\x00')
      if (parts.length !== 4) return
      const [oc, oo, relation] = parts as [string, string, string, string]
      const record = (await engine.getRecords(oc, [oo]))[0]
      if (record === undefined && engine.damaged().some((d) => d.collection === oc && d.id === oo)) return // reported as damaged
      if (isManyInfo(linksOfRecord(record as never)?.[relation])) return // its count is checked with the owner
      entryProblem(
        found,
        key,
        problem({
          kind: 'link-orphan',
          collection: oc,
          oid: oo,
          relation,
          key: showKey(key),
          message: record === undefined ? `a link entry of ${oc}/${oo}.${relation}, which is not stored` : `a link entry of ${oc}/${oo}.${relation}, whose record has no such relation`,
        }),
      )
    }),
  )
}
