import type { EngineSupports } from '../../src/engine/engine.js'
import { storeKinds, type StoreKind } from './stores.js'

/** The store kinds whose engines' `supports` pass `wanted` (read from an engine never opened). */
export async function kindsSupporting(wanted: (supports: EngineSupports) => boolean): Promise<StoreKind[]> {
  const out: StoreKind[] = []
  for (const kind of storeKinds) {
    const store = await kind.make()
    try {
      if (wanted(store.engine().supports)) out.push(kind)
    } finally {
      await store.cleanup()
    }
  }
  return out
}
