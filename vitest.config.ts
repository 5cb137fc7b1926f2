import { defineConfig } from 'vitest/config'

// Model tests run twice: with class fields defined as own properties (useDefineForClassFields true,
// the modern default) and assigned in the constructor (false), since users' tsconfigs differ.
export default defineConfig({
  test: {
    execArgv: ['--expose-gc'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    projects: [
      { extends: true, test: { name: 'define-fields', include: ['test/**/*.test.ts'] } },
      {
        extends: true,
        oxc: { tsconfig: './tsconfig.legacy-fields.json' } as never,
        test: { name: 'assign-fields', include: ['test/model/**/*.test.ts'] },
      },
    ],
  },
})
