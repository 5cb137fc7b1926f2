import { createHash } from 'node:crypto'
import type { Engine } from '../engine/engine.js'
import type { EngineFactory, TestFunctions } from './factory.js'

/** Engines made by a test, closed after it whatever happens. */
export function engines(factory: EngineFactory, afterEach: TestFunctions['afterEach']) {
  const made: Engine[] = []
  afterEach(async () => {
    await Promise.all(made.splice(0).map((e) => e.close().catch(() => {})))
  })
  return {
    async create(): Promise<Engine> {
      const e = await factory.create()
      made.push(e)
      return e
    },
    async reopen(e: Engine): Promise<Engine> {
      const again = await factory.reopen!(e)
      made.push(again)
      return again
    },
  }
}

export async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = []
  for await (const x of it) out.push(x)
  return out
}

/** Deep copy with every Uint8Array (Buffer included) as a plain Uint8Array, for `toEqual`. */
export function plain(v: unknown): unknown {
  if (v instanceof Uint8Array) return new Uint8Array(v)
  if (Array.isArray(v)) return v.map(plain)
  if (v && typeof v === 'object' && !(v instanceof Date)) {
    const out: Record<string, unknown> = {}
    for (const k of Object.keys(v)) Object.defineProperty(out, k, { value: plain((v as any)[k]), enumerable: true, writable: true, configurable: true })
    return out
  }
  return v
}

/** Compares strings by code point, as engines order keys (UTF-8 byte order). */
export function byCodePoint(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b))
}

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex')
}

/** Deterministic pseudo-random bytes. */
export function bytes(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n)
  let x = seed >>> 0 || 1
  for (let i = 0; i < n; i++) {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    out[i] = x & 0xff
  }
  return out
}

/** Yields `data` in pieces of the given sizes (cycled). */
export async function* pieces(data: Uint8Array, sizes: number[]): AsyncGenerator<Uint8Array> {
  let at = 0
  let i = 0
  while (at < data.length) {
    const n = sizes[i++ % sizes.length]!
    yield data.subarray(at, at + n)
    at += n
  }
}

export async function readAll(it: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = []
  for await (const p of it) parts.push(p)
  return Buffer.concat(parts)
}

/** Calls `fn` and returns what it threw synchronously or rejected with. */
export async function failure(fn: () => unknown): Promise<unknown> {
  try {
    const r = fn()
    if (r && typeof (r as any).then === 'function') await r
    else if (r && typeof (r as any)[Symbol.asyncIterator] === 'function') await collect(r as AsyncIterable<unknown>)
  } catch (err) {
    return err
  }
  throw new Error('expected a failure, got none')
}
