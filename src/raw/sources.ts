import { Readable } from 'node:stream'
import { ArgumentError } from '../errors.js'
import { describeValue } from '../engine/engine.js'

/**
 * What raw data can be read from: bytes (a `Uint8Array`, `Buffer` or `ArrayBuffer`), a `Blob`, a
 * Node `Readable`, a web `ReadableStream`, or any (async) iterable of `Uint8Array` chunks.
 */
export type RawInput =
  | Uint8Array
  | ArrayBuffer
  | Blob
  | Readable
  | ReadableStream<Uint8Array>
  | AsyncIterable<Uint8Array>
  | Iterable<Uint8Array>

/** A checked input, ready to be pulled chunk by chunk (once, unless `reusable`). */
export interface ByteSource {
  /** Opens the input for reading. */
  open(): AsyncIterator<Uint8Array>
  /** The input can be read again (bytes in memory), e.g. to retry a failed save. */
  reusable: boolean
}

/**
 * Checks that `input` is a source of bytes, without reading it. `where` names the object in messages.
 * Chunks are checked as they are read: anything but a `Uint8Array` fails the read with ArgumentError.
 */
export function toByteSource(input: unknown, where: string): ByteSource {
  if (input instanceof Uint8Array) return bytesSource(input)
  if (input instanceof ArrayBuffer) return bytesSource(new Uint8Array(input))
  if (typeof input === 'string') {
    throw new ArgumentError(`${where}: raw data must be bytes or a stream of bytes, got a string; encode it first, e.g. Buffer.from(text)`)
  }
  if (ArrayBuffer.isView(input)) {
    throw new ArgumentError(`${where}: raw data must be a Uint8Array (or Buffer), got a ${input.constructor.name}; wrap its bytes with new Uint8Array(view.buffer, view.byteOffset, view.byteLength)`)
  }
  if (typeof Blob === 'function' && input instanceof Blob) {
    return once(where, () => checked(webStreamIterator(input.stream() as ReadableStream<unknown>), where))
  }
  if (input !== null && typeof input === 'object') {
    // Node Readables are async iterables; pulling one chunk at a time keeps their backpressure.
    if (input instanceof Readable || typeof (input as any)[Symbol.asyncIterator] === 'function') {
      return once(where, () => checked((input as AsyncIterable<unknown>)[Symbol.asyncIterator](), where))
    }
    if (typeof (input as ReadableStream).getReader === 'function') {
      return once(where, () => checked(webStreamIterator(input as ReadableStream<unknown>), where))
    }
    if (typeof (input as any)[Symbol.iterator] === 'function') {
      return once(where, () => checked(syncIterator((input as Iterable<unknown>)[Symbol.iterator]()), where))
    }
  }
  throw new ArgumentError(
    `${where}: raw data must be a Uint8Array, Buffer, ArrayBuffer, Blob, Node Readable, web ReadableStream or (async) iterable of Uint8Array chunks, got ${describeValue(input)}`,
  )
}

function bytesSource(bytes: Uint8Array): ByteSource {
  return {
    reusable: true,
    open() {
      let done = false
      return {
        async next() {
          if (done) return { done: true, value: undefined }
          done = true
          return { done: false, value: bytes }
        },
      }
    },
  }
}

function once(where: string, open: () => AsyncIterator<Uint8Array>): ByteSource {
  let opened = false
  return {
    reusable: false,
    open() {
      if (opened) throw new ArgumentError(`${where}: this stream of raw data was already read; give the data again with setData()`)
      opened = true
      return open()
    },
  }
}

/** Checks each chunk; a wrong one fails the read and closes the input. */
function checked(it: AsyncIterator<unknown>, where: string): AsyncIterator<Uint8Array> {
  let index = 0
  return {
    async next() {
      const r = await it.next()
      if (r.done) return { done: true, value: undefined }
      if (!(r.value instanceof Uint8Array)) {
        const err = new ArgumentError(`${where}: chunk ${index} of the raw data is ${describeValue(r.value)}, not a Uint8Array (or Buffer)`)
        await it.return?.().catch(() => {})
        throw err
      }
      index++
      return r as IteratorResult<Uint8Array>
    },
    async return() {
      await it.return?.()
      return { done: true, value: undefined }
    },
  }
}

function syncIterator(it: Iterator<unknown>): AsyncIterator<unknown> {
  return {
    async next() {
      return it.next()
    },
    async return() {
      it.return?.()
      return { done: true, value: undefined }
    },
  }
}

/** Reads a web ReadableStream chunk by chunk; stopping early cancels it. */
function webStreamIterator(stream: ReadableStream<unknown>): AsyncIterator<unknown> {
  const reader = stream.getReader()
  let finished = false
  return {
    async next() {
      try {
        const r = await reader.read()
        if (r.done) {
          finished = true
          reader.releaseLock()
        }
        return r.done ? { done: true, value: undefined } : { done: false, value: r.value }
      } catch (err) {
        finished = true
        throw err
      }
    },
    async return() {
      if (!finished) {
        finished = true
        await reader.cancel().catch(() => {})
      }
      return { done: true, value: undefined }
    },
  }
}

/**
 * Reads the first chunks of `it` until at least `n` bytes (or the end), and returns them with an
 * iterable that yields those chunks again and then the rest.
 */
export async function peek(it: AsyncIterator<Uint8Array>, n: number): Promise<{ head: Uint8Array; rest: AsyncIterable<Uint8Array> }> {
  const chunks: Uint8Array[] = []
  let have = 0
  let ended = false
  try {
    while (have < n) {
      const r = await it.next()
      if (r.done) {
        ended = true
        break
      }
      chunks.push(r.value)
      have += r.value.length
    }
  } catch (err) {
    await it.return?.().catch(() => {})
    throw err
  }
  const head = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)
  async function* rest(): AsyncGenerator<Uint8Array> {
    let complete = ended
    try {
      yield* chunks.splice(0)
      while (!complete) {
        const r = await it.next()
        if (r.done) complete = true
        else yield r.value
      }
    } finally {
      if (!complete) await it.return?.().catch(() => {})
    }
  }
  return { head: head.subarray(0, n), rest: rest() }
}
