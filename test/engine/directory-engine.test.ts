import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, describe, it } from 'vitest'
import { DirectoryEngine } from '../../src/engine/directory/directory-engine.js'
import type { Engine } from '../../src/engine/engine.js'
import { engineConformance } from '../../src/testing/index.js'

const base = mkdtempSync(join(tmpdir(), 'stowage-dir-'))
let n = 0
afterAll(() => rmSync(base, { recursive: true, force: true }))

engineConformance({
  name: 'DirectoryEngine',
  async create() {
    const engine = new DirectoryEngine(join(base, `root-${n++}`))
    await engine.open()
    return engine
  },
  async reopen(engine: Engine) {
    await engine.close()
    const again = new DirectoryEngine((engine as DirectoryEngine).root)
    await again.open()
    return again
  },
}, { describe, it, afterEach })
