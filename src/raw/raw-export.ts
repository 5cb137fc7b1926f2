import { exportExtensions } from '../model/export-import.js'
import { STATE } from '../model/object-state.js'
import type { StoredObject } from '../model/stored-object.js'
import { plainMeta, rawStateOf, storedRawOf } from './raw-state.js'

/**
 * Exports of raw objects carry their free-form `meta`, and the `size`, `sha256` and `contentType`
 * of the stored data (never the data). Import takes the `meta` of an export; the data itself is
 * given with `setData()`.
 */
exportExtensions.push({
  export(_db, obj, _depth, out) {
    const state = obj[STATE]
    if (state.meta.kind !== 'raw') return
    out.meta = structuredClone(plainMeta(rawStateOf(obj).meta))
    const stored = storedRawOf(state)
    if (stored !== undefined) {
      out.size = stored.size
      out.sha256 = stored.sha256
    }
    const contentType = (obj as StoredObject & { contentType?: string }).contentType
    if (contentType !== undefined) out.contentType = contentType
  },
  import(obj, exported) {
    if (obj[STATE].meta.kind !== 'raw' || !Object.hasOwn(exported, 'meta')) return
    const meta = exported.meta
    if (meta === null || typeof meta !== 'object' || Array.isArray(meta)) return
    const current = rawStateOf(obj).meta
    const values: Record<string, unknown> = {}
    for (const key of Object.keys(current)) if (!Object.hasOwn(meta, key)) values[key] = undefined
    for (const key of Object.keys(meta)) {
      Object.defineProperty(values, key, { value: (meta as Record<string, unknown>)[key], enumerable: true, writable: true, configurable: true })
    }
    ;(obj as StoredObject & { setMeta(v: Record<string, unknown>): void }).setMeta(values)
  },
})
