import type { Engine } from '../engine/engine.js'

/** How the suite gets engines: one factory per engine (the abstract-level pattern). */
export interface EngineFactory {
  name: string
  /** A new, empty, open engine at a fresh location. */
  create(): Promise<Engine>
  /** Closes `engine` and opens a new engine on the same location. Only for persistent engines. */
  reopen?(engine: Engine): Promise<Engine>
}

/**
 * The test runner's own functions (vitest's, jest's, mocha's or node:test's). The suite registers
 * its tests through them and asserts with node:assert, so it neither imports a runner nor needs
 * one runner's `expect`.
 */
export interface TestFunctions {
  describe(name: string, body: () => void): unknown
  /** `timeout` in milliseconds, for the few tests that write 10 MB or 100k entries. */
  it(name: string, test: () => Promise<void>, timeout?: number): unknown
  afterEach(hook: () => Promise<void>): unknown
}
