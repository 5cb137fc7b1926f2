import { LevelEngine } from '../../engine/level/level-engine.js'
import type { Engine } from '../../engine/engine.js'
import { WrappedEngine } from '../../engine/wrapped-engine.js'
import type { Problem } from '../../tools/problems.js'
import type { VerifyProgress } from '../../tools/verify.js'
import { EXIT, UsageError } from '../exit-codes.js'
import { openDatabase, openEngine, using } from '../open-store.js'
import { bytes, json, print, say } from '../output.js'
import { progress } from '../progress.js'
import type { JsonOption } from './inspect.js'
import { diskBytes } from '../disk-usage.js'

export async function verify(store: string, options: JsonOption & { repair?: boolean; models?: string }): Promise<number> {
  const db = await openDatabase(store, options.models)
  const bar = progress('verifying', options.json !== true)
  const report = await using(db, () =>
    db.verify({
      repair: options.repair === true,
      onProgress: (p: VerifyProgress) => {
        if (p.phase === 'objects') bar.update(p.done, p.total)
      },
    }),
  )
  bar.stop()
  if (options.json) await print(json(report))
  else {
    if (options.models === undefined) say('note: without --models, indexes and validation are not checked (records, links and raw data are)')
    for (const p of report.problems) await print(describe(p))
    const left = report.problems.filter((p) => !p.repaired).length
    await print(
      report.problems.length === 0
        ? `ok: ${report.objects} objects checked, no problem found`
        : `${report.problems.length} problems in ${report.objects} objects${report.repaired > 0 ? `, ${report.repaired} repaired` : ''}${left > 0 ? `, ${left} left${options.repair ? '' : ` (${report.problems.filter((p) => p.repairable).length} repairable with --repair)`}` : ''}`,
    )
  }
  return report.ok ? EXIT.OK : EXIT.PROBLEMS
}

function describe(p: Problem): string {
  const state = p.repaired ? 'repaired' : p.repairable ? 'repairable' : 'not repairable'
  return `${p.kind}\t${p.collection}${p.oid ? `/${p.oid}` : ''}${p.index ? ` index ${p.index}` : ''}${p.relation ? ` .${p.relation}` : ''}\t${p.message} [${state}]`
}

export async function reindex(store: string, options: JsonOption & { models?: string }): Promise<number> {
  if (options.models === undefined) throw new UsageError('reindex needs the models whose index functions build the entries: give --models <module>')
  const db = await openDatabase(store, options.models)
  const models = db.models().map((m) => m.ctor.name)
  await using(db, () => db.reindex())
  if (options.json) await print(json({ reindexed: models }))
  else await print(`reindexed ${models.join(', ')}`)
  return EXIT.OK
}

/** The store's own engine, under its encryption and compression. */
function innermost(engine: Engine): Engine {
  return engine instanceof WrappedEngine ? innermost(engine.inner) : engine
}

/**
 * Gives back the space of deleted data: LevelDB compacts its tables. A Directory store keeps a file
 * per record, which leaves nothing to compact; LMDB reuses its free pages and is not compacted in
 * place (a copy, `stowage copy`, is compact).
 */
export async function compact(store: string, options: JsonOption): Promise<number> {
  const { engine, kind } = await openEngine(store)
  const before = diskBytes(store)
  await using(engine, async () => {
    if (kind === 'lmdb') throw new UsageError('an LMDB store reuses its free pages and is not compacted in place: copy it (stowage copy <store> <new> --engine lmdb) for a compact file')
    if (kind === 'directory') say(`${engine.describe()} keeps one file per record: nothing to compact`)
    else await (innermost(engine) as LevelEngine & { db: { compactRange(start: string, end: string, options: object): Promise<void> } }).db.compactRange('\x00', '\uffff', { keyEncoding: 'utf8' })
  })
  const after = diskBytes(store)
  if (options.json) await print(json({ store, engine: kind, bytesBefore: before, bytesAfter: after }))
  else await print(`compacted ${store}: ${bytes(before)} -> ${bytes(after)}`)
  return EXIT.OK
}
