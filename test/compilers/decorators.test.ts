import { execFile } from 'node:child_process'
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as lib from '../../src/index.js'
import { Database, defineModel, LevelEngine, StoredObject, Types } from '../../src/index.js'
import { tempDir } from '../helpers/stores.js'

/**
 * Models compiled the way users compile them, in a directory of their own: tsx (esbuild) with and
 * without experimentalDecorators, and TypeScript's tsc with standard decorators.
 */
const ROOT = join(import.meta.dirname, '..', '..')
const STOWAGE = join(ROOT, 'src', 'index.ts')
const TSX = join(ROOT, 'node_modules', '.bin', 'tsx')
const TSC = join(ROOT, 'node_modules', '.bin', 'tsc')
const run = promisify(execFile)

let dir = ''
beforeAll(async () => {
  dir = await tempDir('stowage-compilers-')
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

/** A project directory: package.json (ESM), tsconfig.json with these compiler options, and files. */
async function project(name: string, compilerOptions: object, files: Record<string, string>): Promise<string> {
  const at = join(dir, name)
  await mkdir(at)
  const tsconfig = { compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, ...compilerOptions } }
  await writeFile(join(at, 'package.json'), JSON.stringify({ type: 'module' }))
  await writeFile(join(at, 'tsconfig.json'), JSON.stringify(tsconfig))
  for (const [file, text] of Object.entries(files)) await writeFile(join(at, file), text)
  return at
}

/** Reports which decorator convention the file was compiled with, then saves and reads back on LevelDB. */
const ACCOUNTS = (typeLine: string) => `
import { Database, Index, Indexing, LevelEngine, Model, Property, Relation, StoredObject, Types, type Many } from ${JSON.stringify(STOWAGE)}

let convention = 'legacy'
function probe(_target: unknown, context?: unknown) {
  if (typeof context === 'object' && context !== null) convention = 'standard'
}
class Probe {
  @probe value?: string
}

@Model({ collection: 'accounts' })
class Account extends StoredObject {
  @Property(Types.EMAIL) @Index(Indexing.normalize, { unique: true }) email!: string
  ${typeLine}
  @Property(Types.LIST(Types.STRING)) tags: string[] = []
  @Relation(() => [Account]) friends!: Many<Account>
}

const path = process.argv[2]!
let db = await Database.open({ engine: new LevelEngine(path), models: [Account] })
const ann = await Account.create({ email: 'Ann@Example.com', tags: ['x'] })
const bob = await Account.create({ email: 'bob@example.com', visits: 7 })
ann.friends.add(bob)
await ann.save()
await db.close()
db = await Database.open({ engine: new LevelEngine(path), models: [Account] })
const read = (await Account.index('email').one('ann@example.com'))!
const friends = (await read.friends.get()).map((f) => [f.email, f.visits])
console.log(JSON.stringify({ convention, email: read.email, visits: read.visits, tags: read.tags, friends, ownKeys: Object.keys(read) }))
await db.close()
`

async function tsx(at: string, file: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(TSX, [file, ...args], { cwd: at, timeout: 60_000 })
    return { code: 0, stdout, stderr }
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string }
    return { code: e.code ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' }
  }
}

/** The accounts the child wrote, read by this process through a model declared without decorators. */
async function storedEmails(path: string): Promise<string[]> {
  const Account = defineModel(class Account extends StoredObject {}, { collection: 'accounts', properties: { email: Types.EMAIL } })
  const db = await Database.open({ engine: new LevelEngine(path), models: [Account] })
  try {
    const emails: string[] = []
    for await (const a of Account.all()) emails.push((a as unknown as { email: string }).email)
    return emails.sort()
  } finally {
    await db.close()
  }
}

describe('tsx', () => {
  const expected = {
    email: 'Ann@Example.com',
    visits: 3,
    tags: ['x'],
    friends: [['bob@example.com', 7]],
    ownKeys: [],
  }

  it('without decorator flags (standard decorators) saves and reads back on LevelDB', async () => {
    const at = await project('tsx-standard', {}, { 'model.ts': ACCOUNTS('@Property(Types.INTEGER) visits = 3') })
    const result = await tsx(at, 'model.ts', join(at, 'db'))
    expect(result.stderr).toBe('')
    expect(JSON.parse(result.stdout)).toEqual({ convention: 'standard', ...expected })
    expect(await storedEmails(join(at, 'db'))).toEqual(['Ann@Example.com', 'bob@example.com'])
  })

  it('with experimentalDecorators works with explicit types, and asks for them (no design:type from esbuild)', async () => {
    const options = { experimentalDecorators: true, emitDecoratorMetadata: true }
    const at = await project('tsx-legacy', options, {
      'model.ts': ACCOUNTS('@Property(Types.INTEGER) visits = 3'),
      'inferred.ts': ACCOUNTS('@Property() visits: number = 3'),
    })
    const result = await tsx(at, 'model.ts', join(at, 'db'))
    expect(result.stderr).toBe('')
    expect(JSON.parse(result.stdout)).toEqual({ convention: 'legacy', ...expected })
    expect(await storedEmails(join(at, 'db'))).toEqual(['Ann@Example.com', 'bob@example.com'])

    const inferred = await tsx(at, 'inferred.ts', join(at, 'db2'))
    expect(inferred.code).not.toBe(0)
    expect(inferred.stderr).toContain(
      'ModelDefinitionError: Account.visits: no type given and no design:type metadata (is emitDecoratorMetadata on for this file? esbuild and tsx never emit it); pass one, e.g. @Property(Types.STRING)',
    )
  })
})

describe('tsc with standard decorators', () => {
  it('emits models that work (decorator metadata needs Symbol.metadata, which Stowage defines on Node 20)', async () => {
    const at = await project('tsc-emit', { module: 'CommonJS', moduleResolution: 'Bundler', outDir: 'out', types: [], skipLibCheck: true }, {
      'models.ts': `
        export function define({ Model, Property, Relation, StoredObject, Types }: any) {
          class Base extends StoredObject {
            @Property(Types.STRING, { required: true }) name!: string
          }
          @Model()
          class Account extends Base {
            @Property(Types.INTEGER) visits = 1
            @Relation(() => [Account]) friends!: any
          }
          return Account
        }`,
    })
    await run(TSC, ['-p', at])
    const code = await readFile(join(at, 'out', 'models.js'), 'utf8')
    expect(code).toContain('__esDecorate') // TypeScript's own standard-decorator emit
    const module = { exports: {} as { define(scope: object): any } }
    new Function('exports', 'module', code)(module.exports, module)
    const Account = module.exports.define(lib)
    const db = await Database.open({ engine: new lib.MemoryEngine(), models: [Account] })
    const a = await Account.create({ name: 'a' })
    a.friends.add(await Account.create({ name: 'b', visits: 2 }))
    await a.save()
    expect(Object.keys(a)).toEqual([])
    expect([a.name, a.visits, (await a.friends.get()).map((f: { visits: number }) => f.visits)]).toEqual(['a', 1, [2]])
    await expect(new Account({}).save()).rejects.toThrow(/name/)
    await db.close()
  })

  it('type-checks the decorators on fields, and refuses them on methods', async () => {
    const at = await project('tsc-types', { noEmit: true, allowImportingTsExtensions: true, skipLibCheck: true, types: ['node'], typeRoots: [join(ROOT, 'node_modules', '@types')] }, {
      'models.ts': `
        import { Index, Indexing, Model, Property, Relation, StoredObject, Types, type Many, type One } from ${JSON.stringify(STOWAGE)}
        @Model({ collection: 'accounts' })
        export class Account extends StoredObject {
          @Property(Types.EMAIL) @Index(Indexing.normalize, { unique: true }) email!: string
          @Property(Types.INTEGER) visits = 3
          @Relation(() => [Account]) friends!: Many<Account>
          @Relation(() => Account) sponsor!: One<Account>
        }
        export class NotAField extends StoredObject {
          // @ts-expect-error Stowage members are fields
          @Property(Types.STRING) method() {}
        }`,
    })
    const result = await run(TSC, ['-p', at]).then(
      () => '',
      (err: { stdout?: string }) => err.stdout ?? String(err),
    )
    expect(result).toBe('')
  })
})
