import { MemoryLevel } from 'memory-level'
import { LevelEngine } from '../level/level-engine.js'
import type { LevelEngineOptions } from '../level/level-engine.js'

/**
 * Everything in memory (memory-level), nothing on disk; the same semantics as LevelEngine.
 * The data is gone when the engine closes.
 *
 * @example
 * const db = await Database.open({ engine: new MemoryEngine(), models: [Account] })
 */
export class MemoryEngine extends LevelEngine {
  constructor(options: LevelEngineOptions = {}) {
    super(new MemoryLevel({ storeEncoding: 'buffer', keyEncoding: 'utf8', valueEncoding: 'buffer' }), options)
  }

  override describe(): string {
    return 'MemoryEngine'
  }
}
