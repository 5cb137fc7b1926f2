import { createWriteStream } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import type { Engine } from '../../engine/engine.js'
import { CompressedEngine } from '../../compression/compressed-engine.js'
import { EncryptedEngine } from '../../crypto/encrypted-engine.js'
import { Database } from '../../model/database.js'
import { dump as dumpStore, dumpToFile } from '../../tools/dump.js'
import type { DumpCounts, DumpProgress } from '../../tools/dump-writer.js'
import { restoreToPath, copyToPath, type DumpInput } from '../../tools/restore-store.js'
import { checkKind, detectKind, existingEngine } from '../../tools/store-path.js'
import { EXIT, UsageError } from '../exit-codes.js'
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

export interface CopyOptions extends JsonOption {
  engine?: string
  merge?: boolean
  encrypt?: boolean
  ordered?: string
  decrypt?: boolean
  compression?: 'brotli' | 'gzip'
}

export async function copy(store: string, target: string, options: CopyOptions): Promise<number> {
  const kind = options.engine === undefined ? undefined : checkKind(options.engine)
  const encryption = targetEncryption(options)
  const { engine } = await openEngine(store)
  const counts = await using(engine, async () => {
    if (isEncrypted(engine) && encryption === undefined && options.decrypt !== true) {
      throw new UsageError(`${store} is encrypted: give --decrypt to write a plain copy, or --encrypt (with the target's passphrase in STOWAGE_NEW_KEY) for an encrypted one`)
    }
    const bar = progress('copying', options.json !== true)
    try {
      return await copyToPath(engine, target, {
        ...(kind === undefined ? {} : { engine: kind }),
        ...(encryption === undefined ? {} : { encryption }),
        ...(options.compression === undefined ? {} : { compression: options.compression }),
        merge: options.merge === true,
        onProgress: onRecords(bar, await countObjects(engine)),
      })
    } finally {
      bar.stop()
    }
  })
  await print(options.json ? json({ target, engine: detectKind(target), encrypted: encryption !== undefined, ...counts }, false) : summary('copied', counts, `into ${target} (${detectKind(target)}${encryption === undefined ? '' : ', encrypted'})`))
  return EXIT.OK
}

/** The target's encryption: --encrypt with the passphrase in STOWAGE_NEW_KEY (an argument would show in process lists). */
function targetEncryption(options: CopyOptions): { key: string; ordered?: string[] } | undefined {
  if (options.encrypt === true && options.decrypt === true) throw new UsageError('give --encrypt or --decrypt, not both')
  if (options.encrypt !== true) {
    if (options.ordered !== undefined) throw new UsageError('--ordered goes with --encrypt')
    return undefined
  }
  const key = process.env.STOWAGE_NEW_KEY
  if (key === undefined || key === '') throw new UsageError('--encrypt: give the passphrase of the new store in the environment variable STOWAGE_NEW_KEY')
  const ordered = options.ordered?.split(',').map((name) => name.trim()).filter((name) => name !== '')
  if (ordered?.some((name) => !/^[^.]+\..+$/.test(name))) throw new UsageError(`--ordered takes 'collection.index' names, comma-separated, got ${JSON.stringify(options.ordered)}`)
  return { key, ...(ordered === undefined ? {} : { ordered }) }
}

function isEncrypted(engine: Engine): boolean {
  return engine instanceof EncryptedEngine || (engine instanceof CompressedEngine && engine.inner instanceof EncryptedEngine)
}
