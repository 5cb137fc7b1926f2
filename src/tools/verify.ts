import { maintainerOf } from '../indexes/index-maintainer.js'
import { storedSignatures } from '../indexes/index-rebuild.js'
import { signatureOf } from '../indexes/layout.js'
import { keepsClaims } from '../indexes/unique-claims.js'
import type { Database } from '../model/database.js'
import type { IndexMeta } from '../model/meta.js'
import { problem, type Problem } from './problems.js'
import { checkIndexEntries, checkKeysRecords, checkLinkEntries, checkReverseEntries } from './verify-entries.js'
import { checkObjects, noFindings, type CollectionCheck, type Findings } from './verify-objects.js'
import { recheck } from './verify-recheck.js'

export interface VerifyProgress {
  phase: 'objects' | 'links' | 'repair'
  /** Objects (phase objects) or reverse entries (phase links) checked so far. */
  done: number
  /** Objects in the store (phase objects); undefined where not known in advance. */
  total?: number
  collection?: string
}

export interface VerifyOptions {
  /** Fix what can be derived: rebuild the indexes of models with index problems, put reverse entries right. */
  repair?: boolean
  onProgress?: (progress: VerifyProgress) => void
}

export interface VerifyReport {
  /** No problem left: none found, or every one found was repaired. */
  ok: boolean
  objects: number
  problems: Problem[]
  repaired: number
}

/** Runs a write through the database's write queue, after every write issued before it. */
export type Enqueue = <T>(write: () => Promise<T>) => Promise<T>

/** Writes per repair batch. */
const FIX_BATCH = 500

/**
 * Checks the whole store against itself and the registered models (see ProblemKind for what is
 * checked). Each model's indexes are first brought up to date as its first use would (a restored
 * store rebuilds them then). Collections without a registered model get every check that needs no
 * model: records readable, raw data, links. The pass reads page by page while the app writes on;
 * each problem it finds is checked again in the write queue (verify-recheck.ts), so a write in flight
 * is never reported. With `repair`, derivable problems are fixed through the write queue and marked
 * `repaired`; the others are left for a person to decide.
 */
export async function verifyDatabase(db: Database, options: VerifyOptions, enqueue: Enqueue): Promise<VerifyReport> {
  const { engine } = db
  let found: Findings = noFindings()
  const checks = new Map<string, CollectionCheck>()
  const collections = new Set<string>(db.models().map((m) => m.collection))
  for await (const c of engine.collections()) collections.add(c)
  let total = 0
  for (const c of collections) total += await engine.countRecords(c)
  let done = 0
  for (const collection of [...collections].sort()) {
    const meta = db.model(collection)
    const built: IndexMeta[] = []
    if (meta !== undefined && meta.indexes.size > 0) {
      await maintainerOf(db).ready(meta)
      const signatures = await storedSignatures(engine, collection)
      for (const index of meta.indexes.values()) {
        if (signatures.get(index.name) === signatureOf(index, keepsClaims(engine))) built.push(index)
        else {
          found.problems.push(problem({ kind: 'index-not-built', collection, index: index.name, message: `index ${index.name} of ${collection} was not built by its current definition` }))
          found.reindex.add(meta)
        }
      }
    }
    const check = { collection, built, ...(meta === undefined ? {} : { meta }) }
    checks.set(collection, check)
    await checkObjects(engine, check, found, (n) => {
      done += n
      options.onProgress?.({ phase: 'objects', done, total, collection })
    })
    if (meta !== undefined && built.length > 0) {
      await checkIndexEntries(engine, meta, built, found)
      await checkKeysRecords(engine, meta, found)
    }
  }
  await checkLinkEntries(engine, found)
  let links = 0
  await checkReverseEntries(engine, found, (n) => options.onProgress?.({ phase: 'links', done: (links += n) }))
  const repairing = options.repair === true
  if (found.problems.length > 0) {
    // Checked again with the app's writes held back: what is not found again was a write in flight.
    const first = found
    found = await enqueue(async () => {
      const again = await recheck(db, first, checks)
      if (repairing && again.fixes.length > 0) {
        options.onProgress?.({ phase: 'repair', done: 0 })
        for (let i = 0; i < again.fixes.length; i += FIX_BATCH) await engine.batch(again.fixes.slice(i, i + FIX_BATCH))
      }
      return again
    })
  }
  const report: VerifyReport = { ok: found.problems.length === 0, objects: done, problems: found.problems, repaired: 0 }
  if (repairing && found.problems.some((p) => p.repairable)) {
    const metas = [...found.reindex]
    if (metas.length > 0) await db.reindex(metas.map((m) => m.ctor))
    for (const p of found.problems) if (p.repairable) p.repaired = true
    report.repaired = found.problems.filter((p) => p.repaired).length
    report.ok = found.problems.every((p) => p.repaired === true)
  }
  return report
}
