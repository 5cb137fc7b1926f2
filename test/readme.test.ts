import { execFile } from 'node:child_process'
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, expect, it } from 'vitest'

const root = join(import.meta.dirname, '..')
const dir = join(root, 'test', '.readme-check')

afterAll(() => rm(dir, { recursive: true, force: true }))

it("compiles the README's TypeScript examples against the package", async () => {
  const readme = await readFile(join(root, 'README.md'), 'utf8')
  const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!)
  expect(blocks.length).toBeGreaterThan(0)
  await mkdir(dir, { recursive: true })
  const files: string[] = []
  for (const [i, code] of blocks.entries()) {
    const file = `example-${i}.ts`
    // Each block is a module of its own; `stowage` resolves to this package's source.
    await writeFile(join(dir, file), `${code}\nexport {}\n`)
    files.push(file)
  }
  await writeFile(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      extends: '../../tsconfig.json',
      compilerOptions: { rootDir: '../..', noEmit: true, paths: { stowage: ['../../src/index.ts'] }, noUnusedLocals: false },
      include: files,
    }),
  )
  const tsc = join(root, 'node_modules', '.bin', 'tsc')
  const result = await promisify(execFile)(tsc, ['-p', join(dir, 'tsconfig.json')]).catch((err) => err)
  expect(`${result.stdout ?? ''}${result.stderr ?? ''}`).toBe('')
}, 120_000)
