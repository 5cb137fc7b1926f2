import { transform } from 'esbuild'
import type { Plugin } from 'vite'

/**
 * Compiles test files with esbuild and TC39 standard decorators, before Vite's own transform (which
 * does not lower them). Stowage's sources have no decorators and are left to Vite.
 */
export function standardDecorators(testDir: string): Plugin {
  return {
    name: 'stowage:standard-decorators',
    enforce: 'pre',
    async transform(code, id) {
      if (!id.startsWith(testDir) || !id.endsWith('.ts')) return null
      const out = await transform(code, {
        loader: 'ts',
        target: 'es2022',
        format: 'esm',
        sourcefile: id,
        sourcemap: 'external',
        tsconfigRaw: { compilerOptions: { experimentalDecorators: false, useDefineForClassFields: true } },
      })
      return { code: out.code, map: out.map }
    },
  }
}
