import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { expect, it } from 'vitest'

const root = join(import.meta.dirname, '..', '..')

// The fixtures in typings/ hold positive checks (expectTypeOf) and `@ts-expect-error` lines, so a
// type that gets looser or stricter than they say fails to compile.
it('type-checks the public typings of models, props and indexes', async () => {
  const tsc = join(root, 'node_modules', '.bin', 'tsc')
  const result = await promisify(execFile)(tsc, ['-p', join(root, 'test', 'types', 'tsconfig.json'), '--noEmit', '--pretty', 'false'], { cwd: root }).catch(
    (err) => err,
  )
  expect(`${result.stdout ?? ''}${result.stderr ?? ''}`).toBe('')
  expect(result.code ?? 0).toBe(0)
}, 120_000)
