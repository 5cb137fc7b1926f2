import { createReadStream } from 'node:fs'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { describe, expect, it } from 'vitest'
import {
  ArgumentError,
  ConstraintError,
  EncodingError,
  Index,
  Indexing,
  Model,
  NotFoundError,
  Property,
  StoredObject,
  StoredRaw,
  Types,
  ValidationError,
} from '../../src/index.js'
import { databaseEach, storeKinds, tempDir } from '../helpers/stores.js'
import { bytes, collect, failing, sha256 } from './helpers.js'
import { rawStorage } from './stores.js'

@Model()
class Image extends StoredRaw {
  @Property(Types.INTEGER) @Index() width?: number
  @Property(Types.LINE) @Index(Indexing.value, { unique: true }) slug?: string
}

@Model({ collection: 'docs' })
class Doc extends StoredRaw {}

@Model()
class Note extends StoredObject {
  @Property(Types.STRING) text?: string
}

const PNG = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 73, 72, 68, 82, 1, 2, 3])

for (const kind of storeKinds) {
  describe(`StoredRaw on ${kind.name}`, () => {
    const models = [Image, Doc, Note]
    const ctx = databaseEach(kind, models)
    const reopen = () => ctx.reopen()

    it('creates an object from bytes with metadata, and reads data and metadata back', async () => {
      const data = bytes(300_000)
      const img = await Image.create(data, { format: 'jpeg', width: 1920, camera: { make: 'X', iso: 200 } })
      expect(img).toBeInstanceOf(Image)
      expect(img.size).toBe(300_000)
      expect(img.sha256).toBe(sha256(data))
      expect(img.contentType).toBe('image/jpeg')
      expect(img.meta('format')).toBe('jpeg')
      expect(img.width).toBe(1920)
      expect(img.meta('width')).toBe(1920)
      expect(img.meta()).toEqual({ format: 'jpeg', width: 1920, camera: { make: 'X', iso: 200 } })
      expect(Buffer.from(await img.loadData()).equals(data)).toBe(true)
      expect(await Image.get(img.oid)).toBe(img)
      expect(await Image.has(img.oid)).toBe(true)
      expect(await Image.count()).toBe(1)
      const all = []
      for await (const x of Image.all()) all.push(x)
      expect(all).toEqual([img])

      if (!ctx.store.persistent) return
      const oid = img.oid
      await reopen()
      const again = (await Image.get(oid))!
      expect(again).not.toBe(img)
      expect(again.size).toBe(300_000)
      expect(again.sha256).toBe(sha256(data))
      expect(again.meta()).toEqual({ format: 'jpeg', width: 1920, camera: { make: 'X', iso: 200 } })
      expect(again.contentType).toBe('image/jpeg')
      expect(Buffer.from(await again.loadData()).equals(data)).toBe(true)
    })

    it('streams the data out in chunks of at most the asked size', async () => {
      const data = bytes(1_000_003, 5)
      const doc = await Doc.create(data)
      for (const size of [1, 1000, 64 * 1024, 300_000, 5_000_000]) {
        if (size === 1) {
          // One-byte chunks of a small object (a million of them would only test patience).
          const small = await Doc.create(bytes(3000, 9))
          const { chunks, all } = await collect(small.data(1))
          expect(chunks.every((c) => c.length === 1)).toBe(true)
          expect(all.equals(bytes(3000, 9))).toBe(true)
          continue
        }
        const { chunks, all } = await collect(doc.data(size))
        expect(chunks.every((c) => c.length <= size && c.length > 0)).toBe(true)
        expect(all.equals(data)).toBe(true)
      }
      const { chunks } = await collect(doc.data())
      expect(Math.max(...chunks.map((c) => c.length))).toBeLessThanOrEqual(64 * 1024)
      for (const bad of [0, -1, 1.5, Number.NaN, '10' as never]) expect(() => doc.data(bad)).toThrow(ArgumentError)
    })

    it('stores empty data', async () => {
      const doc = await Doc.create(new Uint8Array(0), { note: 'empty' })
      expect(doc.size).toBe(0)
      expect((await doc.loadData()).length).toBe(0)
      expect((await collect(doc.data())).chunks).toEqual([])
    })

    it('takes every kind of source: Buffer, ArrayBuffer, Blob, Readable, web ReadableStream, (async) iterables', async () => {
      const data = bytes(200_000, 3)
      const dir = await tempDir()
      try {
        const file = join(dir, 'input.bin')
        await writeFile(file, data)
        const piece = (i: number) => data.subarray(i * 50_000, (i + 1) * 50_000)
        const sources: Array<[string, () => unknown]> = [
          ['Buffer', () => Buffer.from(data)],
          ['ArrayBuffer', () => data.slice().buffer],
          ['Blob', () => new Blob([data])],
          ['fs.createReadStream', () => createReadStream(file, { highWaterMark: 16 * 1024 })],
          ['Readable.from', () => Readable.from([piece(0), piece(1), piece(2), piece(3)])],
          [
            'web ReadableStream',
            () => {
              let i = 0
              return new ReadableStream<Uint8Array>({ pull: (c) => (i < 4 ? c.enqueue(piece(i++)) : c.close()) })
            },
          ],
          [
            'async generator',
            () =>
              (async function* () {
                for (let i = 0; i < 4; i++) yield piece(i)
              })(),
          ],
          ['array of chunks', () => [piece(0), piece(1), piece(2), piece(3)]],
        ]
        for (const [name, make] of sources) {
          const doc = await Doc.create(make() as never, { source: name })
          expect(doc.size, name).toBe(data.length)
          expect(doc.sha256, name).toBe(sha256(data))
          expect(Buffer.from(await doc.loadData()).equals(data), name).toBe(true)
        }
        expect(await Doc.count()).toBe(sources.length)
      } finally {
        const { rm } = await import('node:fs/promises')
        await rm(dir, { recursive: true, force: true })
      }
    })

    it('refuses a wrong source type with ArgumentError, before writing anything', async () => {
      for (const bad of ['text', 42, null, { a: 1 }, new Uint16Array(4), [1, 2, 3] as never, Symbol('s')]) {
        await expect(Doc.create(bad as never), String(typeof bad)).rejects.toThrow(ArgumentError)
      }
      await expect(Doc.create(undefined as never)).rejects.toThrow(ArgumentError)
      const doc = new Doc()
      expect(() => doc.setData('abc' as never)).toThrow(/Buffer\.from/)
      await expect(new Doc().save()).rejects.toThrow(/has no data/)
      // A stream yielding something else than bytes fails the save when it is met.
      const err = await Doc.create([bytes(10), 'oops' as never]).catch((e) => e)
      expect(err).toBeInstanceOf(ArgumentError)
      expect(err.message).toMatch(/chunk 1/)
      expect(await Doc.count()).toBe(0)
      const left = await rawStorage(ctx.db.engine, 'docs')
      expect(left).toEqual({ chunks: 0, staging: 0, files: [] })
    })

    it('rejects with the error of a source that fails mid-way, and stores nothing', async () => {
      const boom = new Error('disk unplugged')
      const err = await Doc.create(failing(boom), { a: 1 }).catch((e) => e)
      expect(err).toBe(boom)
      expect(await Doc.count()).toBe(0)
      expect(await rawStorage(ctx.db.engine, 'docs')).toEqual({ chunks: 0, staging: 0, files: [] })

      // Replacing the data of a stored object: a failing source leaves the old data and metadata.
      const data = bytes(10_000, 2)
      const doc = await Doc.create(data, { v: 1 })
      doc.setData(failing(boom, 5, 70_000)).meta('v', 2)
      await expect(doc.save()).rejects.toBe(boom)
      expect(doc.size).toBe(10_000)
      expect(Buffer.from(await doc.loadData()).equals(data)).toBe(true)
      // The stream is spent: saving again says so instead of silently keeping the old data.
      await expect(doc.save()).rejects.toThrow(/setData/)
      const after = await rawStorage(ctx.db.engine, 'docs')
      expect(after.staging).toBe(0)
      if (ctx.db.engine.supports.rawPaths) expect(after.files).toHaveLength(1)
      if (ctx.store.persistent) {
        const oid = doc.oid
        await reopen()
        const again = (await Doc.get(oid))!
        expect(again.meta('v')).toBe(1)
        expect(Buffer.from(await again.loadData()).equals(data)).toBe(true)
      }
    })

    it('replaces the data with setData() + save(), the old data readable until the new data is complete', async () => {
      const first = bytes(500_000, 11)
      const second = bytes(700_000, 12)
      const img = await Image.create(first, { format: 'png' })
      let release!: () => void
      const gate = new Promise<void>((r) => (release = r))
      let pulled = 0
      async function* slow(): AsyncGenerator<Uint8Array> {
        yield second.subarray(0, 300_000)
        pulled++
        await gate
        yield second.subarray(300_000)
      }
      const saving = img.setData(slow()).save()
      while (pulled === 0) await new Promise((r) => setTimeout(r, 5))
      // Mid-way: readers see the old data in full, and its size and digest.
      expect(img.size).toBe(first.length)
      expect(Buffer.from(await img.loadData()).equals(first)).toBe(true)
      release()
      await saving
      expect(img.size).toBe(second.length)
      expect(img.sha256).toBe(sha256(second))
      expect(Buffer.from(await img.loadData()).equals(second)).toBe(true)
      const left = await rawStorage(ctx.db.engine, 'Image')
      expect(left.staging).toBe(0)
      if (ctx.db.engine.supports.rawPaths) expect(left.files).toEqual([`${img.oid}.png`])
      else expect(left.chunks).toBe(Math.ceil(second.length / (256 * 1024)))
    })

    it('removes data and metadata together; reading the data then throws NotFoundError', async () => {
      const img = await Image.create(bytes(100_000), { format: 'jpeg', width: 10 })
      const oid = img.oid
      const path = img.path()
      await img.remove()
      expect(await Image.has(oid)).toBe(false)
      expect(await Image.count()).toBe(0)
      expect(img.size).toBeUndefined()
      expect(img.path()).toBeUndefined()
      const err = await img.loadData().catch((e) => e)
      expect(err).toBeInstanceOf(NotFoundError)
      expect(err.code).toBe('NOT_FOUND')
      expect(err.message).toContain(oid)
      await expect(collect(img.data())).rejects.toThrow(NotFoundError)
      expect(await Image.index('width').count(10)).toBe(0)
      expect(await rawStorage(ctx.db.engine, 'Image')).toEqual({ chunks: 0, staging: 0, files: [] })
      if (path) await expect(readFile(path)).rejects.toThrow(/ENOENT/)
      await expect(new Image().loadData()).rejects.toThrow(/not saved yet/)
    })

    it('keeps metadata as plain data: merge, delete, no prototype pollution, encodable only', async () => {
      const doc = await Doc.create(bytes(10), { a: 1 })
      expect(doc.meta('b', [1, { c: new Date(5) }])).toBe(doc)
      doc.setMeta({ d: 'x', a: undefined })
      expect(doc.meta()).toEqual({ b: [1, { c: new Date(5) }], d: 'x' })
      const evil = JSON.parse('{"__proto__": {"polluted": true}, "constructor": "c"}')
      doc.setMeta(evil)
      expect(({} as any).polluted).toBeUndefined()
      expect((doc.meta() as any).polluted).toBeUndefined()
      expect(Object.keys(doc.meta())).toEqual(['b', 'd', '__proto__', 'constructor'])
      expect(doc.meta('__proto__')).toEqual({ polluted: true })
      // A copy: changing what meta() returned changes nothing stored.
      ;(doc.meta('b') as unknown[]).push('mutated')
      expect(doc.meta('b')).toEqual([1, { c: new Date(5) }])
      // Not plain data: refused at once, and nothing of the call is applied.
      expect(() => doc.setMeta({ ok: 1, fn: () => 1 })).toThrow(EncodingError)
      expect(() => doc.meta('m', new Map())).toThrow(/Map/)
      expect(doc.meta('ok')).toBeUndefined()
      expect(() => doc.meta('', 1)).toThrow(ArgumentError)
      expect(() => doc.setMeta([1] as never)).toThrow(ArgumentError)
      await doc.save()
      if (!ctx.store.persistent) return
      const oid = doc.oid
      await reopen()
      const again = (await Doc.get(oid))!
      expect(({} as any).polluted).toBeUndefined()
      expect(Object.keys(again.meta())).toEqual(['b', 'd', '__proto__', 'constructor'])
      expect(again.meta('__proto__')).toEqual({ polluted: true })
      expect(Object.getPrototypeOf(again.meta())).toBe(Object.prototype)
      expect(again.meta('b')).toEqual([1, { c: new Date(5) }])
    })

    it('validates and indexes declared properties like any model, before streaming anything', async () => {
      let pulled = false
      async function* watched(): AsyncGenerator<Uint8Array> {
        pulled = true
        yield bytes(10)
      }
      const err = await Image.create(watched(), { width: 'wide' }).catch((e) => e)
      expect(err).toBeInstanceOf(ValidationError)
      expect(err.errors[0].property).toBe('width')
      expect(pulled).toBe(false)
      expect(await Image.count()).toBe(0)

      const a = await Image.create(bytes(10), { width: 800, format: 'png' })
      const b = await Image.create(bytes(20), { width: 1920 })
      const byWidth = Image.index('width')
      expect(await byWidth.one(800)).toBe(a)
      a.meta('width', 1920)
      expect(a.width).toBe(1920)
      await a.save()
      expect(await byWidth.count(1920)).toBe(2)
      expect(await byWidth.count(800)).toBe(0)
      expect([...(await collectObjects(byWidth.list({ gte: 1000 })))].map((x) => x.oid).sort()).toEqual([a.oid, b.oid].sort())
    })

    it('discards the staged data when the write is refused (unique index), storing nothing', async () => {
      await Image.create(bytes(1000), { slug: 'same' })
      const err = await Image.create(bytes(400_000, 4), { slug: 'same' }).catch((e) => e)
      expect(err).toBeInstanceOf(ConstraintError)
      expect(await Image.count()).toBe(1)
      const left = await rawStorage(ctx.db.engine, 'Image')
      expect(left.staging).toBe(0)
      if (ctx.db.engine.supports.rawPaths) expect(left.files).toHaveLength(1)
      else expect(left.chunks).toBe(1)
      // Bytes can be read again: after fixing the conflict, the same instance saves.
      const img = new Image({ slug: 'same' }).setData(bytes(5000, 8))
      await expect(img.save()).rejects.toThrow(ConstraintError)
      img.slug = 'other'
      await img.save()
      expect(Buffer.from(await img.loadData()).equals(bytes(5000, 8))).toBe(true)
    })

    it('knows the content type from meta, or from the first bytes', async () => {
      const png = await Doc.create(PNG)
      expect(png.contentType).toBe('image/png')
      const typed = await Doc.create(PNG, { contentType: 'application/x-custom' })
      expect(typed.contentType).toBe('application/x-custom')
      const unknown = await Doc.create(bytes(100, 3))
      expect(unknown.contentType).toBeUndefined()
      const chunked = await Doc.create([PNG.subarray(0, 3), PNG.subarray(3, 5), PNG.subarray(5)])
      expect(chunked.contentType).toBe('image/png')
      expect(Buffer.from(await chunked.loadData()).equals(PNG)).toBe(true)
      if (ctx.db.engine.supports.rawPaths) {
        expect(png.path()).toMatch(new RegExp(`${png.oid}\\.png$`))
        expect(unknown.path()).toMatch(/\.bin$/)
      }
    })

    it('gives a real file path on the Directory engine only', async () => {
      const data = bytes(50_000, 6)
      const img = await Image.create(data, { format: 'jpeg' })
      const path = img.path()
      if (ctx.db.engine.supports.rawPaths) {
        expect(path).toBe(join((ctx.db.engine as any).root, 'Image', `${img.oid}.jpeg`))
        expect((await readFile(path!)).equals(data)).toBe(true)
      } else {
        expect(path).toBeUndefined()
      }
    })

    it('saves raw objects in transactions atomically with other objects', async () => {
      const data = bytes(100_000, 21)
      let oid = ''
      await ctx.db.transaction(async () => {
        const doc = await Doc.create(data, { t: 1 })
        oid = doc.oid
        new Note({ text: 'with the doc' })
        // Not written yet: the transaction commits when the function resolves.
        expect(await ctx.db.engine.hasRecord('docs', oid)).toBe(false)
      })
      expect(await Doc.has(oid)).toBe(true)
      expect(await Note.count()).toBe(1)
      expect(Buffer.from(await (await Doc.get(oid))!.loadData()).equals(data)).toBe(true)

      const boom = new Error('changed my mind')
      await expect(
        ctx.db.transaction(async () => {
          await Doc.create(bytes(70_000, 22))
          new Note({ text: 'no' })
          throw boom
        }),
      ).rejects.toBe(boom)
      expect(await Doc.count()).toBe(1)
      expect(await Note.count()).toBe(1)

      // A create that fails inside a transaction does not poison the transaction.
      await ctx.db.transaction(async () => {
        await Doc.create(failing(new Error('bad source'))).catch(() => {})
        new Note({ text: 'yes' })
      })
      expect(await Doc.count()).toBe(1)
      expect(await Note.count()).toBe(2)

      // setData() inside a transaction needs its save() to stream the data before the commit.
      const doc = (await Doc.get(oid))!
      await expect(
        ctx.db.transaction(async () => {
          doc.setData(bytes(10))
        }),
      ).rejects.toThrow(/save\(\)/)
      await ctx.db.transaction(async () => {
        await doc.setData(bytes(10, 2)).save()
        doc.meta('t', 2)
      })
      expect(doc.size).toBe(10)
      expect(doc.meta('t')).toBe(2)

      if (ctx.store.persistent) {
        await reopen()
        const left = await rawStorage(ctx.db.engine, 'docs')
        expect(left.staging).toBe(0)
        if (ctx.db.engine.supports.rawPaths) expect(left.files).toHaveLength(1)
        else expect(left.chunks).toBe(1)
      }
    })

    it('revert() drops metadata and data not saved yet; a failed transaction discards the data it staged', async () => {
      const data = bytes(50_000, 31)
      const doc = await Doc.create(data, { t: 1 })
      doc.meta('t', 2)
      doc.setData(bytes(10))
      await doc.revert()
      expect(doc.meta('t')).toBe(1)
      expect(doc.size).toBe(50_000)
      await doc.save() // nothing pending
      expect(Buffer.from(await doc.loadData()).equals(data)).toBe(true)

      const boom = new Error('boom')
      await expect(
        ctx.db.transaction(async () => {
          await doc.setData(bytes(20, 3)).save() // streamed, waiting for the commit
          doc.meta('t', 3)
          throw boom
        }),
      ).rejects.toBe(boom)
      expect([doc.size, doc.meta('t')]).toEqual([50_000, 1])
      // Metadata changed on an object only read inside a failed transaction goes back too.
      await expect(
        ctx.db.transaction(async () => {
          ;(await Doc.get(doc.oid))!.meta('t', 4)
          throw boom
        }),
      ).rejects.toBe(boom)
      expect(doc.meta('t')).toBe(1)
      await doc.save()
      if (ctx.store.persistent) await reopen()
      const back = (await Doc.get(doc.oid))!
      expect(back.meta('t')).toBe(1)
      expect(Buffer.from(await back.loadData()).equals(data)).toBe(true)
      if (ctx.store.persistent) {
        const left = await rawStorage(ctx.db.engine, 'docs')
        expect(left.staging).toBe(0)
        if (ctx.db.engine.supports.rawPaths) expect(left.files).toHaveLength(1)
        else expect(left.chunks).toBe(1)
      }
    })

    it('exports metadata, size and digest; import takes the metadata', async () => {
      const img = await Image.create(bytes(1234), { format: 'png', width: 3, tag: 'x' })
      const out = img.export()
      expect(out).toMatchObject({ oid: img.oid, type: 'Image', width: 3, meta: { format: 'png', tag: 'x' }, size: 1234, sha256: sha256(bytes(1234)), contentType: 'image/png' })
      await Image.import({ ...out, meta: { format: 'png', tag: 'y' } })
      expect(img.meta()).toEqual({ format: 'png', tag: 'y', width: 3 })
      await expect(Image.import({ oid: 'o'.repeat(10), type: 'Image', meta: {} })).rejects.toThrow(/has no data/)
    })

    it('refuses properties that shadow StoredRaw members', () => {
      // Declared without decorator syntax: TypeScript itself refuses a field named like an accessor.
      class Bad extends StoredRaw {}
      Property(Types.INTEGER)(Bad.prototype, 'size')
      expect(() => Model({ collection: 'bad' })(Bad)).toThrow(/Bad.size: "size" is a member of StoredRaw/)
    })
  })
}

async function collectObjects<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = []
  for await (const x of it) out.push(x)
  return out
}
