import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'
import { standardDecorators } from './test/helpers/standard-decorators-plugin.js'

// Model tests run three times: with class fields defined as own properties (useDefineForClassFields
// true, the modern default) and assigned in the constructor (false), since users' tsconfigs differ,
// both with experimentalDecorators; and with TC39 standard decorators, as esbuild and tsx compile them
// without that flag (relation and index tests too, but the slow crash and scale ones).
export default defineConfig({
  test: {
    execArgv: ['--expose-gc'],
    // One PostgreSQL server for the run: the PostgresEngine's store kind and its multi-process tests.
    globalSetup: ['./test/helpers/postgres-global.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    projects: [
      { extends: true, test: { name: 'define-fields', include: ['test/**/*.test.ts'] } },
      {
        extends: true,
        oxc: { tsconfig: './tsconfig.legacy-fields.json' } as never,
        test: { name: 'assign-fields', include: ['test/model/**/*.test.ts'] },
      },
      {
        extends: true,
        plugins: [standardDecorators(fileURLToPath(new URL('./test/', import.meta.url)))],
        test: {
          name: 'standard-decorators',
          include: ['test/model/**/*.test.ts', 'test/relations/**/*.test.ts', 'test/indexes/**/*.test.ts'],
          exclude: ['**/crash.test.ts', '**/scale.test.ts'],
        },
      },
    ],
  },
})
