import type { Engine } from '../engine/engine.js'
import type { Database } from '../model/database.js'
import { pagesOf } from '../engine/pages.js'
import { checkClaimPage, checkIndexEntryPage, checkKeysRecordPage, checkLinkPage, checkReversePage } from './verify-entries.js'
import { claimPrefix } from '../indexes/layout.js'
import { checkObjects, noFindings, type CollectionCheck, type Findings } from './verify-objects.js'

/**
 * The problems of a pass over a store that the app may be writing to, each checked again: every
 * object named by a problem read and checked afresh, every entry named by one read again (an entry
 * gone since is no problem). `verify` runs this in the database's write queue, so no write of the
 * app is half seen; the first pass, which reads page by page while writes go on, can see an object
 * before a transaction and its entries after it. Writes wait only for the objects and entries of
 * the problems found, not for the whole pass. Gives what is found again, with the repairs for it.
 */
export async function recheck(db: Database, first: Findings, checks: Map<string, CollectionCheck>): Promise<Findings> {
  const { engine } = db
  const again = noFindings()
  const objects = new Map<string, Set<string>>()
  const entries: Array<{ kind: string; key: string; collection: string; index?: string }> = []
  for (const p of first.problems) {
    const key = first.entryKeys.get(p)
    if (p.kind === 'index-not-built') {
      // Found from the index signatures, which only the index's rebuild changes.
      again.problems.push(p)
      for (const meta of first.reindex) if (meta.collection === p.collection) again.reindex.add(meta)
    } else if (key !== undefined) entries.push({ kind: p.kind, key, collection: p.collection, ...(p.index === undefined ? {} : { index: p.index }) })
    else if (p.oid !== undefined) {
      let oids = objects.get(p.collection)
      if (oids === undefined) objects.set(p.collection, (oids = new Set()))
      oids.add(p.oid)
    }
  }
  for (const [collection, oids] of objects) {
    const check = checks.get(collection) ?? { collection, built: [] }
    await checkObjects(engine, check, again, () => {}, pagesOf(listed([...oids].sort())))
  }
  for (const e of entries) await recheckEntry(engine, db, checks, e, again)
  return again
}

async function recheckEntry(engine: Engine, db: Database, checks: Map<string, CollectionCheck>, e: { kind: string; key: string; collection: string; index?: string }, again: Findings): Promise<void> {
  const [value] = await engine.getMany([e.key])
  if (value === undefined) return // removed since
  const meta = db.model(e.collection)
  switch (e.kind) {
    case 'index-entry-extra': {
      const index = checks.get(e.collection)?.built.find((i) => i.name === e.index)
      if (meta === undefined || index === undefined) return
      if (e.key.startsWith(claimPrefix(meta.collection, index.name))) await checkClaimPage(engine, meta, index, [[e.key, value]], again)
      else await checkIndexEntryPage(engine, meta, index, [e.key], again)
      return
    }
    case 'keys-record-orphan':
      if (meta !== undefined) await checkKeysRecordPage(engine, meta, [e.key], again)
      return
    case 'reverse-extra':
      return checkReversePage(engine, [[e.key, value]], again)
    case 'link-orphan':
      return checkLinkPage(engine, [e.key], again)
  }
}

async function* listed<T>(items: T[]): AsyncGenerator<T> {
  yield* items
}
