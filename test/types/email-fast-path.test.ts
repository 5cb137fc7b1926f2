import isEmailModule from 'validator/lib/isEmail.js'
import { expect, it } from 'vitest'
import { COMMON_EMAIL } from '../../src/types/scalar-types.js'
import { Types } from '../../src/index.js'

// The validator function EMAIL uses (the one class-validator's isEmail calls): the fast path must agree with it.
const isEmail: (value: string) => boolean = isEmailModule.default

const ATOM = "abcxyzABCXYZ0129!#$%&'*+/=?^_`{|}~-"
const LABEL = 'abcxyzABC0129-'

function pick(chars: string, min: number, max: number, rnd: () => number): string {
  const n = min + Math.floor(rnd() * (max - min + 1))
  let s = ''
  for (let i = 0; i < n; i++) s += chars[Math.floor(rnd() * chars.length)]
  return s
}

it('accepts by its fast path only addresses that isEmail accepts too (random addresses)', () => {
  let seed = 12345
  const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x80000000)
  let matched = 0
  for (let i = 0; i < 20_000; i++) {
    const local = Array.from({ length: 1 + Math.floor(rnd() * 3) }, () => pick(ATOM, 1, 12, rnd)).join('.')
    const host = Array.from({ length: 1 + Math.floor(rnd() * 3) }, () => pick(LABEL, 1, 10, rnd)).join('.')
    const tld = pick('abcdefghijklmnopqrstuvwxyz', 1, 6, rnd)
    const address = `${local}@${host}.${tld}`
    const fast = address.length <= 254 && address.indexOf('@') <= 64 && COMMON_EMAIL.test(address)
    if (!fast) continue
    matched++
    expect([address, isEmail(address)]).toEqual([address, true])
    expect(Types.EMAIL.validate(address)).toBeUndefined()
  }
  expect(matched).toBeGreaterThan(5_000)
})

it('still refuses what isEmail refuses, and accepts what only isEmail knows', () => {
  for (const bad of ['a..b@example.com', '.a@example.com', 'a@-example.com', 'a@example', 'a@example.c0m', 'a b@example.com', `${'x'.repeat(65)}@example.com`]) {
    expect(Types.EMAIL.validate(bad)).toMatch(/not a valid email/)
  }
  expect(Types.EMAIL.validate('"quoted local"@example.com')).toBe(isEmail('"quoted local"@example.com') ? undefined : expect.any(String))
  expect(Types.EMAIL.validate('jörg@exämple.de')).toBeUndefined()
})
