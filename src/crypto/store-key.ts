import { createCipheriv, createDecipheriv, randomBytes, scryptSync, timingSafeEqual } from 'node:crypto'
import { ArgumentError, KeyError } from '../errors.js'

/**
 * The key of an encrypted store. The data is encrypted with a random 256-bit data key; the store
 * keeps only that key wrapped (AES-256-GCM) by a key-encryption key derived from the user's key, in
 * a key slot. Changing the user's key (`rekey`) rewraps the data key: instant, whatever the store's
 * size. A user key is either 32 bytes (used as the key-encryption key) or a passphrase, stretched
 * with scrypt at the slot's parameters and its own random salt.
 */
export interface KeySlot {
  format: 'stowage-key'
  version: 1
  /** How the key-encryption key comes from the user's key. */
  kdf: { name: 'raw' } | { name: 'scrypt'; salt: string; N: number; r: number; p: number }
  /** The data key wrapped: base64 of IV (12 bytes) | ciphertext (32) | GCM tag (16). */
  wrapped: string
  /** The first byte of values sealed with the data key: 1 (absent) or 2, alternating with each re-encryption. */
  mark?: Mark
  /** While a re-encryption (`db.reencrypt()`) is unfinished: the new data key, wrapped by the same user key, and its mark. */
  next?: { wrapped: string; mark: Mark }
}

export type Mark = 1 | 2

/** scrypt parameters for passphrases: N = 2^17, r = 8, p = 1 (about 128 MiB and 0.3 s here; OWASP's minimum is N = 2^17). */
export const SCRYPT = { N: 2 ** 17, r: 8, p: 1 } as const

export type UserKey = Uint8Array | string

const WRAP_AAD = Buffer.from('stowage data key v1')

/** A new key slot for a new random data key (or the given one), wrapped by `key`. */
export function newKeySlot(key: UserKey, dataKey: Uint8Array = randomBytes(32), scrypt: { N: number; r: number; p: number } = SCRYPT): { slot: KeySlot; dataKey: Buffer } {
  return { slot: makeSlot(key, dataKey, scrypt).slot, dataKey: Buffer.from(dataKey) }
}

function makeSlot(key: UserKey, dataKey: Uint8Array, scrypt: { N: number; r: number; p: number }): { slot: KeySlot; kek: Buffer } {
  const kdf: KeySlot['kdf'] = typeof key === 'string' ? { name: 'scrypt', salt: randomBytes(16).toString('base64'), ...scrypt } : { name: 'raw' }
  const kek = keyEncryptionKey(checkedKey(key), kdf)
  return { slot: { format: 'stowage-key', version: 1, kdf, wrapped: wrap(kek, dataKey) }, kek }
}

/** The data keys a slot holds: the data key, and during a re-encryption the next one. */
export interface SlotKeys {
  dataKey: Buffer
  mark: Mark
  next?: { dataKey: Buffer; mark: Mark }
}

/** The data key of a slot; `KeyError` (`WRONG_KEY`) when `key` is not the one that wrapped it, or the slot is damaged. */
export function openKeySlot(key: UserKey, slot: unknown): Buffer {
  return openSlotKeys(key, slot).dataKey
}

/** Every data key of a slot (one key derivation for them all). */
export function openSlotKeys(key: UserKey, slot: unknown): SlotKeys {
  const s = checkedSlot(slot)
  const kek = keyEncryptionKey(checkedKey(key), s.kdf)
  const dataKey = unwrap(kek, s.wrapped)
  if (s.next === undefined) return { dataKey, mark: s.mark ?? 1 }
  let next: Buffer
  try {
    next = unwrap(kek, s.next.wrapped)
  } catch {
    throw new KeyError('CORRUPTED_KEY', 'the store\'s wrapped next data key (of an unfinished re-encryption) is damaged: it cannot be opened')
  }
  return { dataKey, mark: s.mark ?? 1, next: { dataKey: next, mark: s.next.mark } }
}

/** The slot with a new random next data key added, wrapped by the same user key (a re-encryption begins): one key derivation. */
export function withNextKey(key: UserKey, slot: unknown): { slot: KeySlot; keys: SlotKeys } {
  const s = checkedSlot(slot)
  const kek = keyEncryptionKey(checkedKey(key), s.kdf)
  const mark = s.mark ?? 1
  const next = { dataKey: randomBytes(32), mark: (mark === 1 ? 2 : 1) as Mark }
  return { slot: { ...s, next: { wrapped: wrap(kek, next.dataKey), mark: next.mark } }, keys: { dataKey: unwrap(kek, s.wrapped), mark, next } }
}

/** The same data key (and the next one, during a re-encryption) wrapped by another user key (`db.rekey()`): the data is not touched. */
export function rewrapSlot(oldKey: UserKey, slot: KeySlot, newKey: UserKey, scrypt?: { N: number; r: number; p: number }): KeySlot {
  const keys = openSlotKeys(oldKey, slot)
  return slotOf(newKey, keys, scrypt ?? paramsOf(slot))
}

/** The slot for these data keys wrapped by `key` (a new salt for a passphrase). */
export function slotOf(key: UserKey, keys: SlotKeys, scrypt: { N: number; r: number; p: number } = SCRYPT): KeySlot {
  const { slot: made, kek } = makeSlot(key, keys.dataKey, scrypt)
  return { ...made, ...(keys.mark !== 1 && { mark: keys.mark }), ...(keys.next !== undefined && { next: { wrapped: wrap(kek, keys.next.dataKey), mark: keys.next.mark } }) }
}

/** The scrypt parameters of a slot (the default for a raw key's slot). */
export function paramsOf(slot: KeySlot): { N: number; r: number; p: number } {
  return slot.kdf.name === 'scrypt' ? { N: slot.kdf.N, r: slot.kdf.r, p: slot.kdf.p } : SCRYPT
}

function wrap(kek: Buffer, dataKey: Uint8Array): string {
  const iv = randomBytes(12)
  const cipher = createCipheriv('aes-256-gcm', kek, iv)
  cipher.setAAD(WRAP_AAD)
  const body = Buffer.concat([cipher.update(dataKey), cipher.final()])
  return Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64')
}

function unwrap(kek: Buffer, wrapped: string): Buffer {
  const bytes = Buffer.from(wrapped, 'base64')
  if (bytes.length !== 12 + 32 + 16) throw new KeyError('CORRUPTED_KEY', 'the store\'s wrapped data key is damaged (wrong length): it cannot be opened with any key')
  const decipher = createDecipheriv('aes-256-gcm', kek, bytes.subarray(0, 12))
  decipher.setAAD(WRAP_AAD)
  decipher.setAuthTag(bytes.subarray(44))
  try {
    return Buffer.concat([decipher.update(bytes.subarray(12, 44)), decipher.final()])
  } catch {
    throw new KeyError('WRONG_KEY', 'the key does not open this store (or its wrapped data key is damaged)')
  }
}

/** Whether two slots wrap the same data key under the same user key (for tests and tools). */
export function sameDataKey(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b)
}

function keyEncryptionKey(key: UserKey, kdf: KeySlot['kdf']): Buffer {
  if (kdf.name === 'raw') {
    if (typeof key === 'string') throw new KeyError('WRONG_KEY', 'this store was encrypted with a 32-byte key, not a passphrase')
    return Buffer.from(key)
  }
  if (typeof key !== 'string') throw new KeyError('WRONG_KEY', 'this store was encrypted with a passphrase, not a 32-byte key')
  return scryptSync(key.normalize('NFC'), Buffer.from(kdf.salt, 'base64'), 32, { N: kdf.N, r: kdf.r, p: kdf.p, maxmem: 256 * kdf.N * kdf.r + 2 ** 20 })
}

function checkedKey(key: unknown): UserKey {
  if (typeof key === 'string') {
    if (key.length === 0) throw new ArgumentError('encryption key: an empty passphrase protects nothing; give a passphrase or a 32-byte key')
    return key
  }
  if (key instanceof Uint8Array) {
    if (key.length !== 32) throw new ArgumentError(`encryption key: a key given as bytes must be 32 bytes (256 bits), got ${key.length}`)
    return key
  }
  throw new ArgumentError(`encryption key: give a 32-byte Uint8Array or a passphrase string, got ${key === null ? 'null' : typeof key}`)
}

function checkedSlot(slot: unknown): KeySlot {
  const s = slot as KeySlot
  const kdfOk =
    s?.kdf?.name === 'raw' ||
    (s?.kdf?.name === 'scrypt' && typeof s.kdf.salt === 'string' && [s.kdf.N, s.kdf.r, s.kdf.p].every((n) => Number.isInteger(n) && n > 0))
  const markOk = (m: unknown) => m === 1 || m === 2
  const nextOk = s?.next === undefined || (typeof s.next?.wrapped === 'string' && markOk(s.next.mark) && s.next.mark !== (s.mark ?? 1))
  if (s === null || typeof s !== 'object' || s.format !== 'stowage-key' || s.version !== 1 || !kdfOk || typeof s.wrapped !== 'string' || !(s.mark === undefined || markOk(s.mark)) || !nextOk) {
    throw new KeyError('CORRUPTED_KEY', 'the store\'s key slot is damaged or of an unknown format: it cannot be opened')
  }
  return s
}
