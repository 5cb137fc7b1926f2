import type { EngineSupports } from '../../src/engine/engine.js'
import { storeKinds, type StoreKind } from './stores.js'

/**
 * The store kinds whose engines' `supports` pass `wanted`. The engine is opened and closed before its
 * store is removed: a LevelDB one starts opening itself when constructed, which would race the removal.
 */
export async function kindsSupporting(wanted: (supports: EngineSupports) => boolean): Promise<StoreKind[]> {
  const out: StoreKind[] = []
  for (const kind of storeKinds) {
    const store = await kind.make()
    try {
      const engine = store.engine()
      await engine.open()
      if (wanted(engine.supports)) out.push(kind)
      await engine.close()
    } finally {
      await store.cleanup()
    }
  }
  return out
}
