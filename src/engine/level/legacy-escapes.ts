import { fromCharCodes, objectOf } from './escaped-values.js'

/*
 * Store formats 1 and 2 escaped -0, lone surrogates and `__proto__` keys as msgpackr extensions
 * 0x30-0x32 (see escaped-values.ts for why that stopped): a `d4 <type> 00` tag followed by the
 * packed payload. msgpackr no longer knows these types and refuses such a value; this reads it,
 * parsing arrays, maps and the three tags here and handing every other item to msgpackr.
 */
const LEGACY_TAGS = new Set([0x30, 0x31, 0x32])

/** Whether msgpackr refused a value for a type that only `decodeLegacy` reads. */
export function isLegacyEscapeError(err: unknown): boolean {
  const m = /^Unknown extension (?:type )?(\d+)$/.exec((err as Error)?.message ?? '')
  return m !== null && LEGACY_TAGS.has(Number(m[1]))
}

export function decodeLegacy(bytes: Uint8Array, start: number, unpack: (item: Uint8Array) => unknown): unknown {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  let pos = start

  const need = (n: number): void => {
    if (pos + n > bytes.length) throw new Error(`the value ends early (at byte ${pos} of ${bytes.length})`)
  }
  const u8 = (): number => (need(1), bytes[pos++]!)
  const u16 = (): number => (need(2), (pos += 2), view.getUint16(pos - 2))
  const u32 = (): number => (need(4), (pos += 4), view.getUint32(pos - 4))

  function read(): unknown {
    const first = pos
    const b = u8()
    if (b >= 0x80 && b <= 0x8f) return map(b & 0x0f)
    if (b >= 0x90 && b <= 0x9f) return array(b & 0x0f)
    if (b === 0xdc) return array(u16())
    if (b === 0xdd) return array(u32())
    if (b === 0xde) return map(u16())
    if (b === 0xdf) return map(u32())
    if (b === 0xd4 && LEGACY_TAGS.has(bytes[pos]!)) return tag()
    skip(b)
    return unpack(bytes.subarray(first, pos))
  }

  function array(n: number): unknown[] {
    const out: unknown[] = []
    for (let i = 0; i < n; i++) out.push(read())
    return out
  }

  function map(n: number): Record<string, unknown> {
    const pairs: unknown[] = []
    for (let i = 0; i < 2 * n; i++) pairs.push(read())
    return objectOf(pairs, 0, (v) => v)
  }

  function tag(): unknown {
    const type = u8()
    u8() // the tag's one data byte
    const payload = read()
    if (type === 0x30) return -0
    if (!Array.isArray(payload)) throw new Error(`bad payload of extension ${type}`)
    return type === 0x31 ? fromCharCodes(payload, 0) : objectOf(payload, 0, (v) => v)
  }

  /** Moves past the rest of an item that is not a container, whose first byte `b` was read. */
  function skip(b: number): void {
    if (b <= 0x7f || b >= 0xe0 || b === 0xc0 || b === 0xc2 || b === 0xc3) return
    if (b >= 0xa0 && b <= 0xbf) return advance(b & 0x1f)
    switch (b) {
      case 0xc4: case 0xd9: return advance(u8())
      case 0xc5: case 0xda: return advance(u16())
      case 0xc6: case 0xdb: return advance(u32())
      case 0xc7: return advance(u8() + 1)
      case 0xc8: return advance(u16() + 1)
      case 0xc9: return advance(u32() + 1)
      case 0xcc: case 0xd0: return advance(1)
      case 0xcd: case 0xd1: return advance(2)
      case 0xca: case 0xce: case 0xd2: return advance(4)
      case 0xcb: case 0xcf: case 0xd3: return advance(8)
      case 0xd4: return advance(2)
      case 0xd5: return advance(3)
      case 0xd6: return advance(5)
      case 0xd7: return advance(9)
      case 0xd8: return advance(17)
      default: throw new Error(`unexpected byte 0x${b.toString(16)} at ${pos - 1}`)
    }
  }

  function advance(n: number): void {
    need(n)
    pos += n
  }

  const value = read()
  if (pos !== bytes.length) throw new Error(`${bytes.length - pos} bytes after the value`)
  return value
}
