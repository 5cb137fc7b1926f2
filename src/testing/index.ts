import type { EngineFactory, TestFunctions } from './factory.js'
import { batchTests } from './batches.js'
import { lifecycleTests } from './lifecycle.js'
import { rangeTests } from './ranges.js'
import { rawTests } from './raw.js'
import { snapshotTests } from './snapshots.js'
import { syncReadTests } from './sync-reads.js'
import { valueTests } from './values.js'

export type { EngineFactory, TestFunctions } from './factory.js'

/**
 * The suite every engine runs (the abstract-level pattern): call it from a test file with a factory
 * and the test runner's `describe`, `it` and `afterEach`. Persistence tests run only when the factory
 * can `reopen`; what an engine offers beyond the common contract is read from `engine.supports`.
 *
 * @example
 * import { afterEach, describe, it } from 'vitest' // or jest's globals, or node:test
 * import { engineConformance } from 'stowage/testing'
 *
 * engineConformance(
 *   { name: 'MyEngine', async create() { const e = new MyEngine(freshDir()); await e.open(); return e } },
 *   { describe, it, afterEach },
 * )
 */
export function engineConformance(factory: EngineFactory, test: TestFunctions): void {
  test.describe(`engine conformance: ${factory.name}`, () => {
    valueTests(factory, test)
    rangeTests(factory, test)
    syncReadTests(factory, test)
    snapshotTests(factory, test)
    batchTests(factory, test)
    rawTests(factory, test)
    lifecycleTests(factory, test)
  })
}
