import { Readable } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { ArgumentError } from '../../src/errors.js'
import { peek, toByteSource } from '../../src/raw/sources.js'

async function drain(it: AsyncIterator<Uint8Array>): Promise<number> {
  let n = 0
  for (let r = await it.next(); !r.done; r = await it.next()) n += r.value.length
  return n
}

describe('raw data sources', () => {
  it('cancels a web ReadableStream that yields something else than bytes', async () => {
    let cancelled: unknown = 'no'
    let i = 0
    const stream = new ReadableStream<unknown>({
      pull: (c) => c.enqueue(i++ === 0 ? new Uint8Array(3) : 'text'),
      cancel: (reason) => void (cancelled = reason),
    })
    const err = await drain(toByteSource(stream, 'Doc x').open()).catch((e) => e)
    expect(err).toBeInstanceOf(ArgumentError)
    expect(err.message).toMatch(/Doc x: chunk 1 of the raw data is "text"/)
    expect(cancelled).not.toBe('no')
  })

  it('destroys a Node Readable left unread, and passes on its error', async () => {
    const boom = new Error('read failed')
    const failing = new Readable({
      read() {
        this.push(Buffer.alloc(10))
        this.destroy(boom)
      },
    })
    await expect(drain(toByteSource(failing, 'x').open())).rejects.toBe(boom)

    const endless = new Readable({ read: () => void endless.push(Buffer.alloc(1000)) })
    const { head, rest } = await peek(toByteSource(endless, 'x').open(), 16)
    expect(head.length).toBe(16)
    const it = rest[Symbol.asyncIterator]()
    await it.next()
    await it.return!()
    expect(endless.destroyed).toBe(true)
  })

  it('reads a stream once, bytes as often as needed', async () => {
    const once = toByteSource((async function* () { yield new Uint8Array(5) })(), 'Doc y')
    expect(once.reusable).toBe(false)
    expect(await drain(once.open())).toBe(5)
    expect(() => once.open()).toThrow(/already read/)
    const bytes = toByteSource(new Uint8Array(7), 'Doc y')
    expect(bytes.reusable).toBe(true)
    expect(await drain(bytes.open())).toBe(7)
    expect(await drain(bytes.open())).toBe(7)
  })

  it('peeks the first bytes across small chunks, then yields everything once', async () => {
    const src = toByteSource([Uint8Array.of(1), Uint8Array.of(2, 3), Uint8Array.of(4, 5, 6), Uint8Array.of(7)], 'z')
    const { head, rest } = await peek(src.open(), 4)
    expect([...head]).toEqual([1, 2, 3, 4])
    const seen: number[] = []
    for await (const c of rest) seen.push(...c)
    expect(seen).toEqual([1, 2, 3, 4, 5, 6, 7])
    const empty = await peek(toByteSource(new Uint8Array(0), 'z').open(), 4)
    expect(empty.head.length).toBe(0)
  })
})
