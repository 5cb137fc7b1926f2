import type { Engine } from '../engine/engine.js'

/**
 * Per collection, the version its records are at, kept among the engine's entries:
 *   mig\0v\0<collection>  ->  { version, migrating?, after?, done? }
 * `version`: every record is at least at it; `migrating`: a pass to that version began and has not
 * finished (records at both versions may be stored). Written before the first record at a new
 * version, so it is never behind the newest record: a downgrade is caught without reading records.
 * No marker: a store written before versions existed, whose records are all at version 1.
 */
export interface SchemaMarker {
  version: number
  migrating?: number
  /** While migrating: the last oid of the last batch written, and how many objects the pass has read so far. */
  after?: string
  done?: number
}

const ROOT = 'mig\x00v\x00'

export function markerKey(collection: string): string {
  return ROOT + collection
}

export async function readMarker(engine: Engine, collection: string): Promise<SchemaMarker | undefined> {
  const value = (await engine.getMany([markerKey(collection)]))[0] as SchemaMarker | undefined
  if (value === undefined || value === null || typeof value !== 'object' || !Number.isInteger(value.version)) return undefined
  return value
}

/** The newest version the marker says records may be at. */
export function newestVersion(marker: SchemaMarker): number {
  return Math.max(marker.version, marker.migrating ?? 0)
}
