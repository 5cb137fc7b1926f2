import { readFileSync } from 'node:fs'
import assert from 'node:assert/strict'
import { ArgumentError, StowageError } from '../errors.js'
import type { EngineFactory, TestFunctions } from './factory.js'
import { bytes, collect, engines, pieces, readAll, sha256 } from './helpers.js'

const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'

export function rawTests(factory: EngineFactory, { describe, it, afterEach }: TestFunctions): void {
  const make = engines(factory, afterEach)

  describe('raw data', () => {
    it('stages invisibly, then commits in a batch; size and sha256 are right', async () => {
      const e = await make.create()
      const data = bytes(700_000, 7)
      const staged = await e.stageRaw('Img', 'a', pieces(data, [1, 1000, 65_536, 300_001, 17]), { extension: 'bin' })
      assert.equal(staged.size, data.length)
      assert.equal(staged.sha256, sha256(data))
      assert.equal(await e.hasRaw('Img', 'a'), false)
      assert.deepEqual(await collect(e.readRaw('Img', 'a')), [])
      await e.batch([
        { type: 'putRaw', collection: 'Img', id: 'a', staged },
        { type: 'putRecord', collection: 'Img', id: 'a', value: { size: staged.size } },
      ])
      assert.equal(await e.hasRaw('Img', 'a'), true)
      assert.equal(await e.hasRaw('Img', 'b'), false)
      assert.equal(Buffer.compare(await readAll(e.readRaw('Img', 'a')), data), 0)
      if (e.supports.rawPaths) {
        const path = e.rawPath('Img', 'a')!
        assert.equal(Buffer.compare(readFileSync(path), data), 0)
      } else {
        assert.equal(e.rawPath('Img', 'a'), undefined)
      }
    })

    it('takes sync iterables and Buffers, and empty data', async () => {
      const e = await make.create()
      const s1 = await e.stageRaw('F', 'sync', [Buffer.from('hello '), new Uint8Array([119, 111, 114, 108, 100])])
      const s2 = await e.stageRaw('F', 'empty', [])
      assert.equal(s2.size, 0)
      assert.equal(s2.sha256, EMPTY_SHA256)
      await e.batch([
        { type: 'putRaw', collection: 'F', id: 'sync', staged: s1 },
        { type: 'putRaw', collection: 'F', id: 'empty', staged: s2 },
      ])
      assert.equal(Buffer.from(await readAll(e.readRaw('F', 'sync'))).toString(), 'hello world')
      assert.equal(await e.hasRaw('F', 'empty'), true)
      assert.equal((await readAll(e.readRaw('F', 'empty'))).length, 0)
    })

    it('re-slices to at most chunkSize bytes', async () => {
      const e = await make.create()
      const data = bytes(300_000, 3)
      await e.batch([{ type: 'putRaw', collection: 'F', id: 'x', staged: await e.stageRaw('F', 'x', pieces(data, [100_000])) }])
      for (const chunkSize of [1000, 7001, 65_536, 1 << 20]) {
        const chunks = await collect(e.readRaw('F', 'x', { chunkSize }))
        for (const c of chunks) assert.ok(c.length <= chunkSize)
        assert.equal(chunks.every((c) => c.length > 0), true)
        assert.equal(Buffer.compare(Buffer.concat(chunks), data), 0)
      }
      const tiny = await collect(e.readRaw('F', 'x', { chunkSize: 1 }))
      assert.equal(tiny.length, data.length)
      assert.throws(() => e.readRaw('F', 'x', { chunkSize: 0 }), ArgumentError)
      assert.throws(() => e.readRaw('F', 'x', { chunkSize: 1.5 }), ArgumentError)
    })

    it('keeps the old data readable until the replacement commits', async () => {
      const e = await make.create()
      const old = bytes(200_000, 1)
      const next = bytes(150_000, 2)
      await e.batch([{ type: 'putRaw', collection: 'F', id: 'x', staged: await e.stageRaw('F', 'x', [old]) }])
      const staged = await e.stageRaw('F', 'x', pieces(next, [4096]))
      assert.equal(Buffer.compare(await readAll(e.readRaw('F', 'x')), old), 0)
      await e.batch([{ type: 'putRaw', collection: 'F', id: 'x', staged }])
      assert.equal(Buffer.compare(await readAll(e.readRaw('F', 'x')), next), 0)
    })

    it('discards staged data', async () => {
      const e = await make.create()
      const staged = await e.stageRaw('F', 'x', [bytes(10_000)])
      await e.discardRaw(staged)
      assert.equal(await e.hasRaw('F', 'x'), false)
      await assert.rejects(e.batch([{ type: 'putRaw', collection: 'F', id: 'x', staged }]), StowageError)
      assert.equal(await e.hasRaw('F', 'x'), false)
    })

    it('leaves nothing when the source throws, and rethrows its error', async () => {
      const e = await make.create()
      const boom = new Error('source broke')
      async function* failing() {
        yield bytes(100_000)
        yield bytes(100_000)
        throw boom
      }
      await assert.rejects(e.stageRaw('F', 'x', failing()), (err) => err === boom)
      assert.equal(await e.hasRaw('F', 'x'), false)
      assert.deepEqual(await collect(e.readRaw('F', 'x')), [])
    })

    it('refuses a source that is not an iterable of bytes', async () => {
      const e = await make.create()
      await assert.rejects(e.stageRaw('F', 'x', 42 as any), ArgumentError)
      await assert.rejects(e.stageRaw('F', 'x', ['text' as any]), ArgumentError)
      assert.equal(await e.hasRaw('F', 'x'), false)
    })

    it('delRaw removes committed data; reading nothing is empty', async () => {
      const e = await make.create()
      assert.deepEqual(await collect(e.readRaw('F', 'none')), [])
      await e.batch([{ type: 'putRaw', collection: 'F', id: 'x', staged: await e.stageRaw('F', 'x', [bytes(5000)]) }])
      await e.batch([{ type: 'delRaw', collection: 'F', id: 'x' }, { type: 'delRaw', collection: 'F', id: 'never' }])
      assert.equal(await e.hasRaw('F', 'x'), false)
      assert.deepEqual(await collect(e.readRaw('F', 'x')), [])
    })

    it('stops cleanly when a reader breaks out early', async () => {
      const e = await make.create()
      await e.batch([{ type: 'putRaw', collection: 'F', id: 'x', staged: await e.stageRaw('F', 'x', [bytes(500_000)]) }])
      for (let i = 0; i < 10; i++) for await (const chunk of e.readRaw('F', 'x', { chunkSize: 1000 })) if (chunk) break
      assert.equal((await readAll(e.readRaw('F', 'x'))).length, 500_000)
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
      assert.equal(Buffer.compare(await readAll(e.readRaw('F', 'a')), bytes(3000, 1)), 0)
      assert.equal(Buffer.compare(await readAll(e.readRaw('F', 'ab')), bytes(4000, 2)), 0)
      assert.equal(Buffer.compare(await readAll(e.readRaw('G', 'a')), bytes(5000, 3)), 0)
      assert.equal(await e.countRecords('F'), 0)
      assert.deepEqual(await collect(e.keys()), [])
    })
  })
}
