import type { Range } from '../engine/engine.js'
import { extensionOfType } from '../raw/content-type.js'
import { declaredType } from '../raw/raw-staging.js'
import { checkRawRecord } from '../raw/raw-state.js'
import { DERIVED_PREFIX, RAW_CHUNK } from './dump-format.js'

/** What a dump reads: an engine, or a consistent read view of one (`Engine.snapshot()`). */
export interface DumpSource {
  describe(): string
  collections(): AsyncIterable<string>
  records(collection: string): AsyncIterable<[string, unknown]>
  entries(range: Range): AsyncIterable<[string, unknown]>
  hasRaw(collection: string, id: string): Promise<boolean>
  readRaw(collection: string, id: string, options: { chunkSize: number }): AsyncIterable<Uint8Array>
}

/** The size and hex SHA-256 of raw data. */
export interface RawDigest {
  size: number
  sha256: string
}

/** One thing a dump carries, in dump order; a raw item's `data` is read before the next item. */
export type DumpItem =
  | { kind: 'record'; collection: string; id: string; value: unknown }
  | {
      kind: 'raw'
      collection: string
      id: string
      extension?: string
      data: AsyncIterable<Uint8Array>
      /** Once `data` is read through: what the dump says the data is (undefined when copying from an engine, which checks its own). */
      expected(): RawDigest | undefined
    }
  | { kind: 'entry'; key: string; value: unknown }

/**
 * Everything of a store that is not derived, streamed: each collection's records in id order, each
 * followed by its raw data, then the entries outside the indexes' space. Holds one record and one
 * chunk at a time.
 */
export async function* dumpItems(source: DumpSource): AsyncGenerator<DumpItem> {
  for await (const collection of source.collections()) {
    for await (const [id, value] of source.records(collection)) {
      yield { kind: 'record', collection, id, value }
      if (!(await source.hasRaw(collection, id))) continue
      const extension = extensionOf(value)
      yield {
        kind: 'raw',
        collection,
        id,
        ...(extension === undefined ? {} : { extension }),
        data: source.readRaw(collection, id, { chunkSize: RAW_CHUNK }),
        expected: () => undefined,
      }
    }
  }
  for await (const [key, value] of source.entries({ lt: DERIVED_PREFIX })) yield { kind: 'entry', key, value }
  for await (const [key, value] of source.entries({ gte: afterPrefix(DERIVED_PREFIX) })) yield { kind: 'entry', key, value }
}

/** The file extension a raw object's data is stored under (the Directory engine names files by it). */
function extensionOf(record: unknown): string | undefined {
  const raw = checkRawRecord((record as { raw?: unknown } | null)?.raw)
  if (raw === undefined) return undefined
  const meta = raw.meta ?? {}
  if (typeof meta.format === 'string') return meta.format
  return extensionOfType(declaredType(meta) ?? raw.contentType ?? raw.sniffed)
}

/** The first key after every key starting with `prefix` (whose last character is below U+FFFF). */
function afterPrefix(prefix: string): string {
  return prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1)
}
