import type { Engine } from '../../src/engine/engine.js'

/** How the shared engine suite gets engines: one factory per engine (the abstract-level pattern). */
export interface EngineFactory {
  name: string
  /** A new, empty, open engine at a fresh location. */
  create(): Promise<Engine>
  /** Closes `engine` and opens a new engine on the same location. Only for persistent engines. */
  reopen?(engine: Engine): Promise<Engine>
}
