import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { ArgumentError, CorruptionError, KeyError } from '../../src/index.js'
import { chunkContext, decrypt, encrypt, encryptChunks } from '../../src/crypto/cipher.js'
import { newKeySlot, openKeySlot, rewrapSlot, SCRYPT, type KeySlot } from '../../src/crypto/store-key.js'

// Small scrypt parameters keep the tests fast; the defaults are checked separately.
const FAST = { N: 2 ** 10, r: 8, p: 1 }

describe('store keys', () => {
  it('wraps a random data key with a 32-byte key or a passphrase (random salt per store) and opens it again', () => {
    const key = randomBytes(32)
    const a = newKeySlot(key)
    expect(a.dataKey).toHaveLength(32)
    expect(openKeySlot(key, a.slot).equals(a.dataKey)).toBe(true)
    const b = newKeySlot('correct horse battery staple', undefined, FAST)
    const c = newKeySlot('correct horse battery staple', undefined, FAST)
    expect(b.slot.kdf).toMatchObject({ name: 'scrypt', N: FAST.N })
    expect((b.slot.kdf as { salt: string }).salt).not.toBe((c.slot.kdf as { salt: string }).salt)
    expect(b.dataKey.equals(c.dataKey)).toBe(false)
    expect(openKeySlot('correct horse battery staple', b.slot).equals(b.dataKey)).toBe(true)
    // The slot holds no key material in the clear.
    expect(JSON.stringify(b.slot)).not.toContain(b.dataKey.toString('base64'))
  })

  it('refuses the wrong key, a passphrase for a raw key and the reverse, and a damaged slot, with typed errors', () => {
    const { slot } = newKeySlot('right', undefined, FAST)
    expect(() => openKeySlot('wrong', slot)).toThrow(KeyError)
    expect(() => openKeySlot('wrong', slot)).toThrow(expect.objectContaining({ code: 'WRONG_KEY' }))
    expect(() => openKeySlot(randomBytes(32), slot)).toThrow(/passphrase/)
    const raw = newKeySlot(randomBytes(32)).slot
    expect(() => openKeySlot('a passphrase', raw)).toThrow(/32-byte key/)
    const flipped: KeySlot = { ...slot, wrapped: Buffer.from(Buffer.from(slot.wrapped, 'base64').map((b, i) => (i === 20 ? b ^ 1 : b))).toString('base64') }
    expect(() => openKeySlot('right', flipped)).toThrow(expect.objectContaining({ code: 'WRONG_KEY' }))
    expect(() => openKeySlot('right', { ...slot, wrapped: 'AAAA' })).toThrow(expect.objectContaining({ code: 'CORRUPTED_KEY' }))
    expect(() => openKeySlot('right', { format: 'other' })).toThrow(expect.objectContaining({ code: 'CORRUPTED_KEY' }))
  })

  it('refuses keys of the wrong length and empty passphrases', () => {
    for (const bad of [new Uint8Array(16), new Uint8Array(33), '', 42, null]) expect(() => newKeySlot(bad as never)).toThrow(ArgumentError)
  })

  it('rewraps the same data key under a new key: the old key no longer opens it', () => {
    const first = newKeySlot('old pass', undefined, FAST)
    const slot = rewrapSlot('old pass', first.slot, 'new pass')
    expect(openKeySlot('new pass', slot).equals(first.dataKey)).toBe(true)
    expect(() => openKeySlot('old pass', slot)).toThrow(KeyError)
    const toRaw = rewrapSlot('new pass', slot, randomBytes(32).fill(7))
    expect(openKeySlot(Buffer.alloc(32, 7), toRaw).equals(first.dataKey)).toBe(true)
  })

  it('stretches passphrases at N = 2^17, r = 8, p = 1 by default', () => {
    expect(SCRYPT).toEqual({ N: 131072, r: 8, p: 1 })
    const { slot, dataKey } = newKeySlot('default parameters')
    expect(slot.kdf).toMatchObject({ name: 'scrypt', N: 131072, r: 8, p: 1 })
    expect(openKeySlot('default parameters', slot).equals(dataKey)).toBe(true)
  })
})

describe('sealed values and chunks', () => {
  const dataKey = randomBytes(32)

  it('round-trips, and any flipped byte, another key or another place fails with CorruptionError', () => {
    const sealed = encrypt(dataKey, 'r/Note/1', Buffer.from('secret note'))
    expect(sealed.includes(Buffer.from('secret'))).toBe(false)
    expect(decrypt(dataKey, 'r/Note/1', sealed, 'record Note/1').toString()).toBe('secret note')
    for (let i = 0; i < sealed.length; i++) {
      const bad = Buffer.from(sealed)
      bad[i]! ^= 0x10
      expect(() => decrypt(dataKey, 'r/Note/1', bad, 'record Note/1')).toThrow(CorruptionError)
    }
    expect(() => decrypt(dataKey, 'r/Note/2', sealed, 'record Note/2')).toThrow(/record Note\/2/)
    expect(() => decrypt(randomBytes(32), 'r/Note/1', sealed, 'record Note/1')).toThrow(CorruptionError)
    expect(() => decrypt(dataKey, 'r/Note/1', sealed.subarray(0, 10), 'record Note/1')).toThrow(CorruptionError)
  })

  it('encrypts a stream in authenticated chunks: reordered, dropped or cut-short chunks are detected', async () => {
    async function* source() {
      for (let i = 0; i < 4; i++) yield Buffer.alloc(1000, i)
    }
    const chunks: Uint8Array[] = []
    for await (const c of encryptChunks(dataKey, 'files', 'f1', source())) chunks.push(c)
    expect(chunks).toHaveLength(4)
    const open = (i: number, last: boolean, c: Uint8Array) => decrypt(dataKey, chunkContext('files', 'f1', i, last), c, `raw files/f1 chunk ${i}`)
    chunks.forEach((c, i) => expect(open(i, i === 3, c).equals(Buffer.alloc(1000, i))).toBe(true))
    expect(() => open(0, false, chunks[1]!)).toThrow(CorruptionError) // swapped
    expect(() => open(2, true, chunks[2]!)).toThrow(CorruptionError) // cut short after chunk 2
    const empty: Uint8Array[] = []
    for await (const c of encryptChunks(dataKey, 'files', 'f2', (async function* () {})())) empty.push(c)
    expect(empty).toHaveLength(1)
    expect(decrypt(dataKey, chunkContext('files', 'f2', 0, true), empty[0]!, 'raw').length).toBe(0)
  })
})
