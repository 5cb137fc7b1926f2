import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    projects: [
      { extends: true, test: { name: 'define-fields', include: ['test/**/*.test.ts'] } },
      {
        extends: true,
        oxc: { tsconfig: './tsconfig.legacy-fields.json' } as any,
        test: { name: 'assign-fields', include: ['test/tmp/**/*.test.ts'] },
      },
    ],
  },
})
