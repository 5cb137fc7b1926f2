import { describe, expect, it, vi } from 'vitest'
import { isOid, newOid, oidTime } from '../../src/model/oid.js'

describe('object ids', () => {
  it('are unique, time-ordered, and safe as file names and URL segments', () => {
    const start = Date.now()
    const oids = Array.from({ length: 100_000 }, () => newOid())
    expect(new Set(oids).size).toBe(oids.length)
    expect([...oids].sort()).toEqual(oids) // creation order, also within one millisecond
    for (const oid of oids.slice(0, 1000)) {
      expect(isOid(oid)).toBe(true)
      expect(oid).toMatch(/^[0-9a-z]{26}$/)
      expect(encodeURIComponent(oid)).toBe(oid)
    }
    expect(oidTime(oids[0]!)).toBeGreaterThanOrEqual(start)
    expect(oidTime(oids.at(-1)!)).toBeLessThanOrEqual(Date.now())
  })

  it('made in one millisecond, count up by one in their random part, carries included', () => {
    const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz'
    const random = (oid: string) => [...oid.slice(10)].reduce((n, c) => n * 32n + BigInt(ALPHABET.indexOf(c)), 0n)
    const t = 1_800_000_000_000
    const oids = Array.from({ length: 2000 }, () => newOid(t)) // 2,000 steps carry into the third-last digit
    for (let i = 1; i < oids.length; i++) {
      expect(oids[i]!.slice(0, 10)).toBe(oids[0]!.slice(0, 10))
      expect(random(oids[i]!) - random(oids[i - 1]!)).toBe(1n)
    }
  })

  it('sort by time across milliseconds', () => {
    const a = newOid(1_700_000_000_000)
    const b = newOid(1_700_000_000_001)
    const c = newOid(2_000_000_000_000)
    expect(a < b && b < c).toBe(true)
    expect(oidTime(c)).toBe(2_000_000_000_000)
  })

  it('do not collide between two generators in the same millisecond (another process)', async () => {
    vi.resetModules()
    const other = (await import('../../src/model/oid.js')) as typeof import('../../src/model/oid.js')
    expect(other.newOid).not.toBe(newOid)
    const now = 3_000_000_000_000 // later than any time used above: this generator is monotonic
    const mine = Array.from({ length: 1000 }, () => newOid(now))
    const theirs = Array.from({ length: 1000 }, () => other.newOid(now))
    expect(new Set([...mine, ...theirs]).size).toBe(2000)
    expect(mine[0]!.slice(0, 10)).toBe(theirs[0]!.slice(0, 10)) // same time part, different random part
  })

  it('draw fresh random digits for every millisecond, past the generator\'s pool of random bytes', () => {
    // 16 bytes per millisecond from a pool of 4 KiB: 1,000 milliseconds use the pool about four times over.
    const parts = Array.from({ length: 1000 }, (_, i) => newOid(4_000_000_000_000 + i).slice(10))
    expect(new Set(parts).size).toBe(parts.length)
    const digits = parts.join('')
    for (const c of '0123456789abcdefghjkmnpqrstvwxyz') expect(digits.split(c).length - 1).toBeGreaterThan(300) // 16,000 digits, 500 of each on average
  })
})
