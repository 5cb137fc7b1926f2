import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { ArgumentError, StowageError } from '../../../src/errors.js'
import type { EngineFactory } from '../factory.js'
import { bytes, collect, engines, pieces, readAll, sha256 } from './helpers.js'

const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'

export function rawTests(factory: EngineFactory): void {
  const make = engines(factory)

  describe('raw data', () => {
    it('stages invisibly, then commits in a batch; size and sha256 are right', async () => {
      const e = await make.create()
      const data = bytes(700_000, 7)
      const staged = await e.stageRaw('Img', 'a', pieces(data, [1, 1000, 65_536, 300_001, 17]), { extension: 'bin' })
      expect(staged.size).toBe(data.length)
      expect(staged.sha256).toBe(sha256(data))
      expect(await e.hasRaw('Img', 'a')).toBe(false)
      expect(await collect(e.readRaw('Img', 'a'))).toEqual([])
      await e.batch([
        { type: 'putRaw', collection: 'Img', id: 'a', staged },
        { type: 'putRecord', collection: 'Img', id: 'a', value: { size: staged.size } },
      ])
      expect(await e.hasRaw('Img', 'a')).toBe(true)
      expect(await e.hasRaw('Img', 'b')).toBe(false)
      expect(Buffer.compare(await readAll(e.readRaw('Img', 'a')), data)).toBe(0)
      if (e.supports.rawPaths) {
        const path = e.rawPath('Img', 'a')!
        expect(Buffer.compare(readFileSync(path), data)).toBe(0)
      } else {
        expect(e.rawPath('Img', 'a')).toBeUndefined()
      }
    })

    it('takes sync iterables and Buffers, and empty data', async () => {
      const e = await make.create()
      const s1 = await e.stageRaw('F', 'sync', [Buffer.from('hello '), new Uint8Array([119, 111, 114, 108, 100])])
      const s2 = await e.stageRaw('F', 'empty', [])
      expect(s2.size).toBe(0)
      expect(s2.sha256).toBe(EMPTY_SHA256)
      await e.batch([
        { type: 'putRaw', collection: 'F', id: 'sync', staged: s1 },
        { type: 'putRaw', collection: 'F', id: 'empty', staged: s2 },
      ])
      expect(Buffer.from(await readAll(e.readRaw('F', 'sync'))).toString()).toBe('hello world')
      expect(await e.hasRaw('F', 'empty')).toBe(true)
      expect((await readAll(e.readRaw('F', 'empty'))).length).toBe(0)
    })

    it('re-slices to at most chunkSize bytes', async () => {
      const e = await make.create()
      const data = bytes(300_000, 3)
      await e.batch([{ type: 'putRaw', collection: 'F', id: 'x', staged: await e.stageRaw('F', 'x', pieces(data, [100_000])) }])
      for (const chunkSize of [1000, 7001, 65_536, 1 << 20]) {
        const chunks = await collect(e.readRaw('F', 'x', { chunkSize }))
        for (const c of chunks) expect(c.length).toBeLessThanOrEqual(chunkSize)
        expect(chunks.every((c) => c.length > 0)).toBe(true)
        expect(Buffer.compare(Buffer.concat(chunks), data)).toBe(0)
      }
      const tiny = await collect(e.readRaw('F', 'x', { chunkSize: 1 }))
      expect(tiny.length).toBe(data.length)
      expect(() => e.readRaw('F', 'x', { chunkSize: 0 })).toThrow(ArgumentError)
      expect(() => e.readRaw('F', 'x', { chunkSize: 1.5 })).toThrow(ArgumentError)
    })

    it('keeps the old data readable until the replacement commits', async () => {
      const e = await make.create()
      const old = bytes(200_000, 1)
      const next = bytes(150_000, 2)
      await e.batch([{ type: 'putRaw', collection: 'F', id: 'x', staged: await e.stageRaw('F', 'x', [old]) }])
      const staged = await e.stageRaw('F', 'x', pieces(next, [4096]))
      expect(Buffer.compare(await readAll(e.readRaw('F', 'x')), old)).toBe(0)
      await e.batch([{ type: 'putRaw', collection: 'F', id: 'x', staged }])
      expect(Buffer.compare(await readAll(e.readRaw('F', 'x')), next)).toBe(0)
    })

    it('discards staged data', async () => {
      const e = await make.create()
      const staged = await e.stageRaw('F', 'x', [bytes(10_000)])
      await e.discardRaw(staged)
      expect(await e.hasRaw('F', 'x')).toBe(false)
      await expect(e.batch([{ type: 'putRaw', collection: 'F', id: 'x', staged }])).rejects.toThrow(StowageError)
      expect(await e.hasRaw('F', 'x')).toBe(false)
    })

    it('leaves nothing when the source throws, and rethrows its error', async () => {
      const e = await make.create()
      const boom = new Error('source broke')
      async function* failing() {
        yield bytes(100_000)
        yield bytes(100_000)
        throw boom
      }
      await expect(e.stageRaw('F', 'x', failing())).rejects.toBe(boom)
      expect(await e.hasRaw('F', 'x')).toBe(false)
      expect(await collect(e.readRaw('F', 'x'))).toEqual([])
    })

    it('refuses a source that is not an iterable of bytes', async () => {
      const e = await make.create()
      await expect(e.stageRaw('F', 'x', 42 as any)).rejects.toThrow(ArgumentError)
      await expect(e.stageRaw('F', 'x', ['text' as any])).rejects.toThrow(ArgumentError)
      expect(await e.hasRaw('F', 'x')).toBe(false)
    })

    it('delRaw removes committed data; reading nothing is empty', async () => {
      const e = await make.create()
      expect(await collect(e.readRaw('F', 'none'))).toEqual([])
      await e.batch([{ type: 'putRaw', collection: 'F', id: 'x', staged: await e.stageRaw('F', 'x', [bytes(5000)]) }])
      await e.batch([{ type: 'delRaw', collection: 'F', id: 'x' }, { type: 'delRaw', collection: 'F', id: 'never' }])
      expect(await e.hasRaw('F', 'x')).toBe(false)
      expect(await collect(e.readRaw('F', 'x'))).toEqual([])
    })

    it('stops cleanly when a reader breaks out early', async () => {
      const e = await make.create()
      await e.batch([{ type: 'putRaw', collection: 'F', id: 'x', staged: await e.stageRaw('F', 'x', [bytes(500_000)]) }])
      for (let i = 0; i < 10; i++) for await (const chunk of e.readRaw('F', 'x', { chunkSize: 1000 })) if (chunk) break
      expect((await readAll(e.readRaw('F', 'x'))).length).toBe(500_000)
    })

    it('keeps raw data of different objects apart, and apart from records', async () => {
      const e = await make.create()
      const a = await e.stageRaw('F', 'a', [bytes(3000, 1)])
      const b = await e.stageRaw('F', 'ab', [bytes(4000, 2)])
      const c = await e.stageRaw('G', 'a', [bytes(5000, 3)])
      await e.batch([
        { type: 'putRaw', collection: 'F', id: 'a', staged: a },
        { type: 'putRaw', collection: 'F', id: 'ab', staged: b },
        { type: 'putRaw', collection: 'G', id: 'a', staged: c },
      ])
      expect(Buffer.compare(await readAll(e.readRaw('F', 'a')), bytes(3000, 1))).toBe(0)
      expect(Buffer.compare(await readAll(e.readRaw('F', 'ab')), bytes(4000, 2))).toBe(0)
      expect(Buffer.compare(await readAll(e.readRaw('G', 'a')), bytes(5000, 3))).toBe(0)
      expect(await e.countRecords('F')).toBe(0)
      expect(await collect(e.keys())).toEqual([])
    })
  })
}
