import type { Engine, StagedRaw, WriteOp } from '../engine/engine.js'
import { signaturePrefix } from '../indexes/layout.js'
import { checkRawRecord } from '../raw/raw-state.js'
import type { DumpItem } from './dump-items.js'
import type { DumpCounts, DumpProgress } from './dump-writer.js'
import { DumpError, NotEmptyError } from './errors.js'

export interface ApplyOptions {
  /** Write into a store that holds data already: stored objects with the same ids are replaced. */
  merge?: boolean
  onProgress?: (progress: DumpProgress) => void
}

/** Records, entries and raw data written per atomic batch. */
const BATCH_OPS = 512
const BATCH_RAW = 32

/** Whether the engine holds no record and no entry. */
export async function isEmpty(engine: Engine): Promise<boolean> {
  for await (const _ of engine.collections()) return false
  for await (const _ of engine.keys({ limit: 1 })) return false
  return true
}

/** Refuses a target that holds data unless `merge` is given. */
export async function assertWritable(engine: Engine, merge: boolean | undefined): Promise<void> {
  if (merge !== true && !(await isEmpty(engine))) {
    throw new NotEmptyError(`${engine.describe()} already holds data: restoring or copying into it would mix two stores; pass merge (stowage: --merge) to do it anyway`)
  }
}

/**
 * Writes dump items into `engine` in atomic batches: records, their raw data (staged, then committed
 * with its record, after checking its size and SHA-256) and entries. Each collection written to
 * loses its index signatures in its first batch, so its indexes are rebuilt from the records at its
 * model's first use. Staged data of a batch not written is discarded when it fails.
 */
export async function applyItems(engine: Engine, items: AsyncIterable<DumpItem>, options: ApplyOptions = {}): Promise<DumpCounts> {
  const counts: DumpCounts = { records: 0, entries: 0, raw: 0, rawBytes: 0 }
  const unsigned = new Set<string>()
  let ops: WriteOp[] = []
  let staged: StagedRaw[] = []
  let lastRecord: { collection: string; id: string; value: unknown } | undefined
  const flush = async (): Promise<void> => {
    if (ops.length === 0) return
    await engine.batch(ops)
    ops = []
    staged = []
    options.onProgress?.({ ...counts, bytes: 0 })
  }
  try {
    for await (const item of items) {
      switch (item.kind) {
        case 'record':
          if (!unsigned.has(item.collection)) {
            unsigned.add(item.collection)
            for await (const key of engine.keys({ prefix: signaturePrefix(item.collection) })) ops.push({ type: 'del', key })
          }
          ops.push({ type: 'putRecord', collection: item.collection, id: item.id, value: item.value })
          lastRecord = item
          counts.records++
          break
        case 'entry':
          ops.push({ type: 'put', key: item.key, value: item.value })
          counts.entries++
          break
        case 'raw': {
          const s = await engine.stageRaw(item.collection, item.id, item.data, item.extension === undefined ? {} : { extension: item.extension })
          staged.push(s)
          const expected = item.expected()
          const recorded = lastRecord?.collection === item.collection && lastRecord.id === item.id ? checkRawRecord((lastRecord.value as { raw?: unknown }).raw) : undefined
          for (const want of [expected, recorded]) {
            if (want !== undefined && (want.size !== s.size || want.sha256 !== s.sha256)) {
              throw new DumpError(`the raw data of ${item.collection}/${item.id} is ${s.size} bytes with SHA-256 ${s.sha256}, its record says ${want.size} bytes with ${want.sha256}`)
            }
          }
          ops.push({ type: 'putRaw', collection: item.collection, id: item.id, staged: s })
          counts.raw++
          counts.rawBytes += s.size
          break
        }
      }
      if (ops.length >= BATCH_OPS || staged.length >= BATCH_RAW) await flush()
    }
    await flush()
  } catch (err) {
    await Promise.all(staged.map((s) => engine.discardRaw(s).catch(() => {})))
    throw err
  }
  return counts
}
