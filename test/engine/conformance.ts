import { describe } from 'vitest'
import type { EngineFactory } from './factory.js'
import { batchTests } from './conformance/batches.js'
import { lifecycleTests } from './conformance/lifecycle.js'
import { rangeTests } from './conformance/ranges.js'
import { rawTests } from './conformance/raw.js'
import { valueTests } from './conformance/values.js'

/**
 * The suite every engine runs (the abstract-level pattern): call it from a test file with a factory.
 * Persistence tests run only when the factory can `reopen`.
 *
 * @example
 * engineConformance({ name: 'MemoryEngine', create: async () => { const e = new MemoryEngine(); await e.open(); return e } })
 */
export function engineConformance(factory: EngineFactory): void {
  describe(`engine conformance: ${factory.name}`, () => {
    valueTests(factory)
    rangeTests(factory)
    batchTests(factory)
    rawTests(factory)
    lifecycleTests(factory)
  })
}
