import { transformSync } from 'esbuild'
import * as stowage from '../../src/index.js'

export type Convention = 'legacy' | 'standard'
export const conventions: Convention[] = ['legacy', 'standard']

const IN_SCOPE = ['Model', 'Property', 'Relation', 'Index', 'Indexing', 'StoredObject', 'StoredRaw', 'Types', 'defineModel']

/** Compiles TypeScript as esbuild (and tsx) do with ('legacy') or without experimentalDecorators. */
export function compile(convention: Convention, source: string, format: 'cjs' | 'esm' = 'cjs'): string {
  return transformSync(source, {
    loader: 'ts',
    format,
    target: 'es2022',
    tsconfigRaw: { compilerOptions: { experimentalDecorators: convention === 'legacy', useDefineForClassFields: true } },
  }).code
}

/**
 * Runs a function body written in TypeScript with decorators, compiled with one convention, with
 * Stowage's decorators, classes and Types (and `extra`) in scope; returns what the body returns.
 * Declaration errors are thrown from here, as they would be where a module declares its models.
 */
export function run(convention: Convention, body: string, extra: Record<string, unknown> = {}): any {
  const names = [...IN_SCOPE, ...Object.keys(extra)]
  const code = compile(convention, `module.exports = function (scope: any) {\nconst { ${names.join(', ')} } = scope\n${body}\n}`)
  const module = { exports: undefined as unknown as (scope: object) => unknown }
  new Function('module', code)(module)
  return module.exports({ ...stowage, ...extra })
}

/** The error `fn` throws (it must throw). */
export function thrownBy(fn: () => unknown): Error {
  try {
    fn()
  } catch (err) {
    return err as Error
  }
  throw new Error('expected an error, none was thrown')
}
