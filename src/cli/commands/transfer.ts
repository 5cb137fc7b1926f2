import { createWriteStream } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import type { Engine } from '../../engine/engine.js'
import { Database } from '../../model/database.js'
import { dump as dumpStore, dumpToFile } from '../../tools/dump.js'
import type { DumpCounts, DumpProgress } from '../../tools/dump-writer.js'
import { restoreToPath, copyToPath, type DumpInput } from '../../tools/restore-store.js'
import { checkKind, detectKind, existingEngine } from '../../tools/store-path.js'
import { EXIT } from '../exit-codes.js'
import { openEngine, using } from '../open-store.js'
import { bytes, json, print, say } from '../output.js'
import { progress, type Progress } from '../progress.js'
import type { JsonOption } from './inspect.js'

async function countObjects(engine: Engine): Promise<number> {
  let n = 0
  for await (const c of engine.collections()) n += await engine.countRecords(c)
  return n
}

const onRecords = (bar: Progress, total?: number) => (p: DumpProgress) => bar.update(p.records, total)

function summary(verb: string, counts: DumpCounts, where: string): string {
  return `${verb} ${counts.records} objects, ${counts.entries} link and marker entries, ${counts.raw} raw data (${bytes(counts.rawBytes)}) ${where}`
}

export async function dump(store: string, file: string | undefined, options: JsonOption): Promise<number> {
  const { engine } = await openEngine(store)
  const toStdout = file === undefined || file === '-'
  const result = await using(engine, async () => {
    const bar = progress('dumping', !toStdout || process.stdout.isTTY !== true)
    const onProgress = onRecords(bar, await countObjects(engine))
    try {
      return toStdout ? await dumpStore(engine, process.stdout, { onProgress }) : await dumpToFile(engine, file!, { onProgress })
    } finally {
      bar.stop()
    }
  })
  const text = options.json ? json(result, false) : summary('dumped', result, toStdout ? 'to stdout' : `to ${file}`)
  if (toStdout) say(text)
  else await print(text)
  return EXIT.OK
}

export async function backup(store: string, target: string, options: JsonOption): Promise<number> {
  const db = await Database.open({ engine: existingEngine(store).engine })
  const bar = progress('backing up', options.json !== true)
  const total = await countObjects(db.engine)
  const result = await using(db, () => db.backup(target, { onProgress: onRecords(bar, total) }))
  bar.stop()
  await print(options.json ? json(result, false) : summary('backed up', result, `to ${result.file} (${result.consistency === 'snapshot' ? 'from one snapshot' : 'writes paused meanwhile'})`))
  return EXIT.OK
}

export async function restore(dumpFile: string, target: string, options: JsonOption & { engine?: string; merge?: boolean }): Promise<number> {
  const engine = options.engine === undefined ? undefined : checkKind(options.engine)
  let spooled: string | undefined
  let input: DumpInput = dumpFile
  if (dumpFile === '-') {
    if (detectKind(target) === undefined) input = () => process.stdin
    else {
      // An existing store is written only after the whole dump checked out: it is read twice.
      spooled = await mkdtemp(join(tmpdir(), 'stowage-restore-'))
      await pipeline(process.stdin, createWriteStream(join(spooled, 'dump.jsonl')))
      input = join(spooled, 'dump.jsonl')
    }
  }
  const bar = progress('restoring', options.json !== true)
  try {
    const counts = await restoreToPath(input, target, { ...(engine === undefined ? {} : { engine }), merge: options.merge === true, onProgress: onRecords(bar) })
    bar.stop()
    await print(options.json ? json({ target, engine: detectKind(target), ...counts }, false) : summary('restored', counts, `into ${target}`))
    return EXIT.OK
  } finally {
    bar.stop()
    if (spooled !== undefined) await rm(spooled, { recursive: true, force: true })
  }
}

export async function copy(store: string, target: string, options: JsonOption & { engine?: string; merge?: boolean }): Promise<number> {
  const kind = options.engine === undefined ? undefined : checkKind(options.engine)
  const { engine } = await openEngine(store)
  const counts = await using(engine, async () => {
    const bar = progress('copying', options.json !== true)
    try {
      return await copyToPath(engine, target, { ...(kind === undefined ? {} : { engine: kind }), merge: options.merge === true, onProgress: onRecords(bar, await countObjects(engine)) })
    } finally {
      bar.stop()
    }
  })
  await print(options.json ? json({ target, engine: detectKind(target), ...counts }, false) : summary('copied', counts, `into ${target} (${detectKind(target)})`))
  return EXIT.OK
}
