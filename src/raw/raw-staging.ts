import type { Engine } from '../engine/engine.js'
import { extensionOfType, sniff, SNIFF_BYTES, typeOfFormat } from './content-type.js'
import type { RawState, StagedData } from './raw-state.js'
import { peek, type ByteSource } from './sources.js'

/**
 * Staged data an instance still holds when it is garbage collected (e.g. after a transaction that
 * failed) is discarded then, instead of waiting for the next open to remove it.
 */
const unclaimed = new FinalizationRegistry<{ engine: Engine; token: string; size: number; sha256: string }>((held) => {
  if (held.engine.status === 'open') held.engine.discardRaw(held).catch(() => {})
})

/**
 * Streams a source into the engine's staging area, recognising its media type from the first bytes.
 * The Directory engine names the file after the `format` meta, or the media type.
 */
export async function stageData(
  engine: Engine,
  owner: object,
  collection: string,
  oid: string,
  source: ByteSource,
  meta: Record<string, unknown>,
): Promise<StagedData> {
  const { head, rest } = await peek(source.open(), SNIFF_BYTES)
  const sniffed = sniff(head)
  const extension = typeof meta.format === 'string' ? meta.format : extensionOfType(declaredType(meta) ?? sniffed)
  const staged = await engine.stageRaw(collection, oid, rest, extension === undefined ? {} : { extension })
  const data: StagedData = { staged, engine, sniffed, source }
  unclaimed.register(owner, { engine, ...staged }, data)
  return data
}

/** The staged data will be committed (or was discarded): no longer the finalizer's business. */
export function claimed(data: StagedData): void {
  unclaimed.unregister(data)
}

/** Drops an instance's staged data that no write will commit. */
export async function discardStaged(r: RawState): Promise<void> {
  const data = r.staged
  if (data === undefined) return
  r.staged = undefined
  claimed(data)
  if (data.engine.status === 'open') await data.engine.discardRaw(data.staged).catch(() => {})
}

/** The media type given in the meta: `contentType`, else a known `format`. */
export function declaredType(meta: Record<string, unknown>): string | undefined {
  if (typeof meta.contentType === 'string' && meta.contentType !== '') return meta.contentType
  return typeOfFormat(meta.format)
}
