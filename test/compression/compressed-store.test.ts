import { randomBytes } from 'node:crypto'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import {
  ArgumentError,
  CompressedEngine,
  Database,
  DirectoryEngine,
  Index,
  LevelEngine,
  LmdbEngine,
  Model,
  Property,
  StoredObject,
  StoredRaw,
  Types,
  type Engine,
} from '../../src/index.js'
import { pathKinds, tempDir } from '../helpers/stores.js'
import { bytesUnder } from '../helpers/store-files.js'

@Model({ collection: 'articles' })
class Article extends StoredObject {
  @Property(Types.STRING) @Index() topic = ''
  @Property(Types.STRING) body = ''
}

@Model({ collection: 'files' })
class File extends StoredRaw {}

const text = (i: number) => `Article ${i}: ` + 'the quick brown fox jumps over the lazy dog, again and again. '.repeat(40)
const compressible = Buffer.from('a line of a log file that repeats itself a lot\n'.repeat(20_000))

async function read(file: File): Promise<Buffer> {
  const parts: Buffer[] = []
  for await (const chunk of file.data(7_000)) parts.push(Buffer.from(chunk))
  return Buffer.concat(parts)
}

for (const kind of pathKinds) {
  describe(`a compressed store (${kind.name})`, () => {
    const dirs: string[] = []
    let db: Database | undefined
    afterEach(async () => {
      await db?.close()
      db = undefined
      for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true })
    })

    for (const compression of ['brotli', 'gzip'] as const) {
      it(`stores records and raw data ${compression}-compressed and reads them back, alone and with encryption`, async () => {
        for (const encryption of [undefined, { key: randomBytes(32) }]) {
          const dir = await tempDir()
          dirs.push(dir)
          db = await Database.open({ engine: kind.make(dir), models: [Article, File], compression, ...(encryption ? { encryption } : {}) })
          expect(db.engine).toBeInstanceOf(CompressedEngine)
          const articles = []
          for (let i = 0; i < 50; i++) articles.push(await Article.create({ topic: `t${i % 5}`, body: text(i) }))
          const random = randomBytes(150_000)
          const logs = await File.create([compressible])
          const noise = await File.create([random])
          const photo = await File.create([compressible], { format: 'jpeg' })
          if (kind.persistent) {
            await db.close()
            db = await Database.open({ engine: kind.make(dir), models: [Article, File], compression, ...(encryption ? { encryption } : {}) })
          }
          expect((await Article.get(articles[7]!.oid))!.body).toBe(text(7))
          expect(await Article.index('topic').count('t2')).toBe(10)
          expect((await read((await File.get(logs.oid))!)).equals(compressible)).toBe(true)
          expect((await read((await File.get(noise.oid))!)).equals(random)).toBe(true)
          expect((await read((await File.get(photo.oid))!)).equals(compressible)).toBe(true)
          expect((await File.get(logs.oid))!.size).toBe(compressible.length)
          await db.close()
          db = undefined
        }
      })
    }

    if (kind.persistent) {
      it('takes less room on disk with compressible data, and stores incompressible or already compressed data as it is', async () => {
        const sizes: Record<string, number> = {}
        for (const compression of [undefined, 'brotli'] as const) {
          const dir = await tempDir()
          dirs.push(dir)
          db = await Database.open({ engine: kind.make(dir), models: [Article, File], ...(compression ? { compression } : {}) })
          await db.transaction(async () => {
            for (let i = 0; i < 300; i++) new Article({ topic: `t${i % 5}`, body: text(i) }).save()
          })
          await File.create([compressible])
          await db.close()
          db = undefined
          sizes[compression ?? 'plain'] = await bytesUnder(dir)
        }
        expect(sizes.brotli!).toBeLessThan(sizes.plain! * 0.6)
        // Incompressible data is stored with one byte more than its size.
        const dir = await tempDir()
        dirs.push(dir)
        const inner = kind.make(dir)
        db = await Database.open({ engine: inner, models: [File], compression: 'gzip' })
        const random = await File.create([randomBytes(100_000)])
        const jpeg = await File.create([compressible], { format: 'jpeg' })
        let stored = 0
        for await (const chunk of inner.readRaw('files', random.oid)) stored += chunk.length
        expect(stored).toBe(100_001)
        stored = 0
        for await (const chunk of inner.readRaw('files', jpeg.oid)) stored += chunk.length
        expect(stored).toBe(compressible.length + 1)
      })

      it('is chosen when the store is made: a compressed store needs the option, a store of uncompressed records refuses it', async () => {
        const dir = await tempDir()
        dirs.push(dir)
        db = await Database.open({ engine: kind.make(dir), models: [Article], compression: 'brotli' })
        await Article.create({ topic: 'x', body: text(1) })
        await db.close()
        db = undefined
        await expect(Database.open({ engine: kind.make(dir), models: [Article] })).rejects.toThrow(/is compressed \(brotli\)/)
        db = await Database.open({ engine: kind.make(dir), models: [Article], compression: 'gzip' }) // new writes gzip, old ones read
        await Article.create({ topic: 'y', body: text(2) })
        expect(await Article.count()).toBe(2)
        await db.close()
        db = undefined
        const plain = await tempDir()
        dirs.push(plain)
        db = await Database.open({ engine: kind.make(plain), models: [Article] })
        await Article.create({ topic: 'z', body: 'plain' })
        await db.close()
        db = undefined
        await expect(Database.open({ engine: kind.make(plain), models: [Article], compression: 'brotli' })).rejects.toBeInstanceOf(ArgumentError)
      })
    }
  })
}

describe('records on a LevelDB store', () => {
  it('are left to LevelDB (which compresses its blocks) unless the store is encrypted; raw data is compressed either way; other engines compress records', async () => {
    const dir = await tempDir()
    try {
      const stored = async (engine: Engine, compression: 'brotli', encryption?: { key: Uint8Array }) => {
        const db = await Database.open({ engine, models: [Article, File], compression, ...(encryption ? { encryption } : {}) })
        const article = await Article.create({ topic: 't', body: text(3) })
        const logs = await File.create([compressible])
        const compresses = (db.engine as CompressedEngine).compressesRecords
        let raw = 0
        for await (const chunk of (db.engine as CompressedEngine).inner.readRaw('files', logs.oid)) raw += chunk.length
        const form = encryption ? undefined : ((await (db.engine as CompressedEngine).inner.getRecord('articles', article.oid)) as Uint8Array)[0]
        expect((await Article.get(article.oid))!.body).toBe(text(3))
        await db.close()
        return { compresses, form, rawSmaller: raw < compressible.length / 10 }
      }
      expect(await stored(new LevelEngine(join(dir, 'level')), 'brotli')).toEqual({ compresses: false, form: 0, rawSmaller: true })
      expect(await stored(new LevelEngine(join(dir, 'sealed')), 'brotli', { key: randomBytes(32) })).toEqual({ compresses: true, form: undefined, rawSmaller: true })
      expect(await stored(new LmdbEngine(join(dir, 'db.lmdb')), 'brotli')).toEqual({ compresses: true, form: 1, rawSmaller: true })
      expect(await stored(new DirectoryEngine(join(dir, 'files')), 'brotli')).toEqual({ compresses: true, form: 1, rawSmaller: true })
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})
