import { readFileSync } from 'node:fs'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { installProject, node, packStowage, result, ROOT, SLOW, TSC, typesNodeVersion, type Packed } from './helpers.js'

/** The tsconfig the README recommends (its one JSON block with compilerOptions), used as given (skipLibCheck left false). */
const RECOMMENDED_TSCONFIG = recommendedTsconfig(readFileSync(join(ROOT, 'README.md'), 'utf8'))

function recommendedTsconfig(readme: string): { compilerOptions: Record<string, unknown> } {
  const blocks = [...readme.matchAll(/```json\n([\s\S]*?)```/g)].map((m) => m[1]!).filter((b) => b.includes('"compilerOptions"'))
  expect(blocks.length, 'the README shows one tsconfig').toBe(1)
  return JSON.parse(blocks[0]!)
}

const SITE = `import { Model, Property, StoredObject, Types } from 'stowage'

@Model({ collection: 'sites' })
export class Site extends StoredObject {
  @Property(Types.URL, { required: true }) url!: string
  @Property(Types.EMAIL) owner?: string
  @Property() title?: string
  @Property() visits?: number
  @Property(Types.LIST(Types.STRING)) tags: string[] = []
}
`

// Every kind of abstract-level database LevelEngine documents: ClassicLevel, MemoryLevel and sublevels.
const ENGINES = `import { join } from 'node:path'
import { ClassicLevel } from 'classic-level'
import { MemoryLevel } from 'memory-level'
import { LevelEngine } from 'stowage'

export function engines(dir: string): { classic: ClassicLevel; engines: LevelEngine[] } {
  const classic = new ClassicLevel(dir)
  return {
    classic,
    engines: [
      new LevelEngine(new MemoryLevel()),
      new LevelEngine(new MemoryLevel().sublevel('app')),
      new LevelEngine(classic.sublevel('app')),
      new LevelEngine(new ClassicLevel(join(dir, 'own'))),
    ],
  }
}
`

const MAIN = `import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Database, Types, ValidationError } from 'stowage'
import { engines } from './engines.js'
import { Site } from './site.js'

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'stowage-ts-'))
  try {
    let db = await Database.open({ path: join(dir, 'db'), models: [Site] })
    const site = await Site.create({ url: 'https://example.com', owner: 'ann@example.com', title: 'Example', visits: 3 })
    await db.close()
    db = await Database.open({ path: join(dir, 'db'), models: [Site] })
    const back = await Site.get(site.oid)
    let refused = ''
    try {
      await Site.create({ url: 'example.com', owner: 'nope' })
    } catch (err) {
      if (err instanceof ValidationError) refused = err.code + ':' + err.errors.map((e) => e.property).join(',')
    }
    let inferred = ''
    try {
      await Site.create({ url: 'https://example.com', title: 42 as unknown as string })
    } catch (err) {
      if (err instanceof ValidationError) inferred = err.errors.map((e) => e.property).join(',')
    }
    await db.close()

    const made = engines(join(dir, 'shared'))
    const counts: number[] = []
    for (const engine of made.engines) {
      const shared = await Database.open({ engine, models: [Site] })
      await Site.create({ url: 'ftp://files.example.org' })
      counts.push(await Site.count())
      await shared.close()
    }
    await made.classic.close()
    console.log(JSON.stringify({ url: back?.url, visits: back?.visits, refused, inferred, counts, urlType: Types.URL.validate(back?.url) ?? 'valid' }))
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
main().catch((err) => {
  console.error(err)
  process.exit(1)
})
`

const EXPECTED = { url: 'https://example.com', visits: 3, refused: 'VALIDATION:url,owner', inferred: 'title', counts: [1, 1, 1, 1], urlType: 'valid' }

let packed: Packed
let typesNode: string

beforeAll(async () => {
  ;[packed, typesNode] = await Promise.all([packStowage(), typesNodeVersion()])
}, SLOW)

afterAll(() => packed?.cleanup())

describe.each(['module', 'commonjs'] as const)('a strict NodeNext TypeScript project of type %s', (type) => {
  it('type-checks against the installed declarations with TypeScript 7 and 5 (libraries checked too), and runs', async () => {
    const dir = join(packed.dir, `ts-${type}`)
    const install = await installProject(dir, type, packed.tarball, [`@types/node@${typesNode}`, 'typescript@5'])
    console.log(`${type} TypeScript project install (with typescript@5): ${Math.round(install.ms)} ms`)
    await mkdir(join(dir, 'src'))
    await writeFile(join(dir, 'tsconfig.json'), JSON.stringify(RECOMMENDED_TSCONFIG, null, 2))
    await writeFile(join(dir, 'src', 'site.ts'), SITE)
    await writeFile(join(dir, 'src', 'engines.ts'), ENGINES)
    await writeFile(join(dir, 'src', 'main.ts'), MAIN)

    const ts7 = await node([TSC, '-v'], dir)
    const ts5 = await node([join(dir, 'node_modules', 'typescript', 'bin', 'tsc'), '-v'], dir)
    expect(ts7.stdout).toMatch(/Version 7\./)
    expect(ts5.stdout).toMatch(/Version 5\./)

    for (const [tsc, outDir] of [[TSC, 'dist7'], [join(dir, 'node_modules', 'typescript', 'bin', 'tsc'), 'dist5']] as const) {
      const compiled = await node([tsc, '-p', '.', '--outDir', outDir], dir)
      expect(compiled.stdout + compiled.stderr).toBe('')
      const ran = await node([join(outDir, 'main.js')], dir)
      expect(result(ran)).toEqual(EXPECTED)
      expect(ran.stderr).toBe('')
    }
  }, SLOW)
})
