import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { crc32 } from 'node:zlib'
import { ClassicLevel } from 'classic-level'
import { addExtension, pack, unpack } from 'msgpackr'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LevelEngine } from '../../src/engine/level/level-engine.js'
import { FORMAT_KEY, recordKey } from '../../src/engine/level/level-keys.js'
import { decodeValue, encodeValue } from '../../src/engine/level/msgpack-codec.js'
import { tempDir } from '../helpers/stores.js'

// The values msgpack cannot say as they are: -0, a lone surrogate (in a value and in a key), an own __proto__ key.
const awkward = () => ({
  zero: -0,
  list: [1, -0, 'a\ud800b'],
  text: 'x\udc00',
  ['k\ud801']: true,
  nested: JSON.parse('{"__proto__": {"polluted": 1}, "plain": 2}') as Record<string, unknown>,
})

function expectAwkward(v: any): void {
  expect(Object.is(v.zero, -0)).toBe(true)
  expect(Object.is(v.list[1], -0)).toBe(true)
  expect(v.list).toEqual([1, -0, 'a\ud800b'])
  expect(v.text).toBe('x\udc00')
  expect(v['k\ud801']).toBe(true)
  expect(Object.hasOwn(v.nested, '__proto__')).toBe(true)
  expect(Object.getOwnPropertyDescriptor(v.nested, '__proto__')?.value).toEqual({ polluted: 1 })
  expect(Object.getPrototypeOf(v.nested)).toBe(Object.prototype)
  expect(({} as any).polluted).toBeUndefined()
}

let root: string
let n = 0
beforeAll(async () => {
  root = await tempDir('stowage-msgpack-')
})
afterAll(() => rmSync(root, { recursive: true, force: true }))

async function opened(path = join(root, `db${n++}`)): Promise<LevelEngine> {
  const engine = new LevelEngine(path)
  await engine.open()
  return engine
}

describe('a store written with the earlier extension escapes (format 2)', () => {
  // msgpack as format 2 wrote it: `d4 <type> 00` then the payload, for -0 (0x30), a string with a lone
  // surrogate as char codes (0x31) and an object with a __proto__ key as key, value pairs (0x32).
  const legacy = Buffer.from([
    0x84,
    0xa4, ...Buffer.from('zero'), 0xd4, 0x30, 0x00, 0x00,
    0xa4, ...Buffer.from('text'), 0xd4, 0x31, 0x00, 0x92, 0x78, 0xcd, 0xdc, 0x00,
    0xa6, ...Buffer.from('nested'), 0xd4, 0x32, 0x00, 0x94, 0xa9, ...Buffer.from('__proto__'), 0x81, 0xa8, ...Buffer.from('polluted'), 0x01, 0xa5, ...Buffer.from('plain'), 0x02,
    0xa4, ...Buffer.from('list'), 0x93, 0x01, 0xd4, 0x30, 0x00, 0x00, 0xcb, ...new Uint8Array(new Float64Array([1.5]).buffer).reverse(),
  ])
  const sealed = (key: string, msgpack: Buffer): Buffer => {
    const out = Buffer.alloc(5 + msgpack.length)
    out[0] = 0xc1
    out.writeUInt32BE(crc32(msgpack, crc32(key)), 1)
    msgpack.copy(out, 5)
    return out
  }

  it('still reads, and the store is marked format 3 on open so that older versions refuse what it writes now', async () => {
    const path = join(root, `db${n++}`)
    const db = new ClassicLevel<string, Uint8Array>(path, { valueEncoding: 'view' })
    await db.put(FORMAT_KEY, encodeValue(2, FORMAT_KEY))
    const key = recordKey('Doc', 'old')
    await db.put(key, sealed(key, legacy))
    await db.close()

    const engine = await opened(path)
    const v = (await engine.getRecord('Doc', 'old')) as any
    expect(Object.is(v.zero, -0)).toBe(true)
    expect(v.text).toBe('x\udc00')
    expect(Object.hasOwn(v.nested, '__proto__')).toBe(true)
    expect(v.nested.plain).toBe(2)
    expect(v.list).toEqual([1, -0, 1.5])
    expect(Object.is(v.list[1], -0)).toBe(true)
    await engine.putRecord('Doc', 'new', awkward())
    await engine.close()

    const raw = new ClassicLevel<string, Uint8Array>(path, { valueEncoding: 'view' })
    expect(decodeValue((await raw.get(FORMAT_KEY))!, FORMAT_KEY)).toBe(3)
    await raw.close()
    const again = await opened(path)
    expectAwkward(await again.getRecord('Doc', 'new'))
    expect(((await again.getRecord('Doc', 'old')) as any).text).toBe('x\udc00')
    await again.close()
  })
})

// Last: the host's extensions stay registered for the rest of this file.
describe("Stowage's msgpack codec and the host application's msgpackr", () => {
  it('leaves msgpackr\'s process-wide extension registry as it was', async () => {
    const engine = await opened()
    await engine.putRecord('Doc', 'a', awkward())
    expectAwkward(await engine.getRecord('Doc', 'a'))
    await engine.close()
    // What the host's msgpackr reads is its own business: Stowage's escape codes mean nothing to it.
    for (const type of [0x30, 0x31, 0x32]) {
      expect(() => unpack(Buffer.from([0xd4, type, 0x00, 0x00]))).toThrow(/Unknown extension/)
    }
  })

  it('keeps working when the host registers its own extensions on any code, and the host\'s keep working too', async () => {
    class Celsius {
      constructor(readonly degrees: number) {}
    }
    for (const type of [0x30, 0x31, 0x32]) {
      addExtension({ Class: Celsius, type, write: (c: Celsius) => c.degrees, read: (d: number) => new Celsius(d) })
    }
    const engine = await opened()
    await engine.putRecord('Doc', 'a', awkward())
    await engine.close()
    const again = await opened((engine as any).location ?? join(root, `db${n - 1}`))
    expectAwkward(await again.getRecord('Doc', 'a'))
    await again.close()
    expect(unpack(pack({ t: new Celsius(21) }))).toEqual({ t: new Celsius(21) })
  })

  it('writes escaped values in plain msgpack: a value never depends on an extension being registered', () => {
    const bytes = encodeValue(awkward(), 'doc')
    expectAwkward(decodeValue(Buffer.from(bytes), 'doc'))
    // Tagged form after the one byte msgpack never uses: no msgpack extension anywhere in it.
    expect(bytes[0]).toBe(0xc1)
    expect(() => unpack(bytes.subarray(1))).not.toThrow()
  })
})
