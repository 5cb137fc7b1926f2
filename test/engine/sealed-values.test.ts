import { crc32 } from 'node:zlib'
import { describe, expect, it } from 'vitest'
import { CorruptionError } from '../../src/errors.js'
import { decodeSealed, encodeSealed } from '../../src/engine/level/sealed-values.js'

/** A sealed value as the format defines it: 0xc1, the CRC-32 of key and msgpack (big-endian), the msgpack. */
function sealedAsDefined(key: string, msgpack: number[]): Buffer {
  const crc = Buffer.alloc(4)
  crc.writeUInt32BE(crc32(Buffer.from(msgpack), crc32(key)))
  return Buffer.concat([Buffer.from([0xc1]), crc, Buffer.from(msgpack)])
}

describe('sealed values', () => {
  // Index entries are null; older versions and other engines read these bytes.
  const keys = ['eidx\u0000e\u0000articles\u0000author\u0000sAda Allen\u000001m8qda4j43g002vfj4c6czmg4', 'x', 'é', 'clé/日本/😀', '\u0000\u00ff\u0100', 'k'.repeat(5000)]

  it('seals null as the format defines it, under any key', () => {
    for (const key of keys) {
      const sealed = encodeSealed(key, null, 'entry')
      expect(Buffer.from(sealed)).toEqual(sealedAsDefined(key, [0xc0]))
      expect(decodeSealed(key, sealed, 'entry', 'store', false)).toBeNull()
    }
  })

  it('seals other values as the format defines it', () => {
    expect(Buffer.from(encodeSealed('k', 1, 'v'))).toEqual(sealedAsDefined('k', [0x01]))
    expect(Buffer.from(encodeSealed('k', 'ab', 'v'))).toEqual(sealedAsDefined('k', [0xa2, 0x61, 0x62]))
    expect(decodeSealed('k', encodeSealed('k', [null, 'ab'], 'v'), 'v', 'store', false)).toEqual([null, 'ab'])
  })

  it('refuses a sealed null read under another key, or with a changed byte', () => {
    const sealed = Buffer.from(encodeSealed('eidx\u0000e\u0000a\u0000ann', null, 'entry'))
    expect(() => decodeSealed('eidx\u0000e\u0000a\u0000anm', sealed, 'entry', 'store', false)).toThrow(CorruptionError)
    for (let i = 1; i < sealed.length; i++) {
      const changed = Buffer.from(sealed)
      changed[i]! ^= 0x01
      expect(() => decodeSealed('eidx\u0000e\u0000a\u0000ann', changed, 'entry', 'store', false), `byte ${i}`).toThrow(CorruptionError)
    }
  })
})
