import { afterEach, describe, expect, it } from 'vitest'
import { MemoryEngine } from '../../src/engine/memory/memory-engine.js'
import { engineConformance } from '../../src/testing/index.js'

engineConformance({
  name: 'MemoryEngine',
  async create() {
    const engine = new MemoryEngine()
    await engine.open()
    return engine
  },
}, { describe, it, afterEach })

describe('MemoryEngine', () => {
  it('is not persistent and has no raw paths', async () => {
    const engine = new MemoryEngine()
    expect(engine.supports).toMatchObject({ persistent: false, rawPaths: false, readableFiles: false })
    expect(engine.describe()).toBe('MemoryEngine')
    await engine.open()
    await engine.close()
  })
})
