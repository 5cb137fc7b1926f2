import { randomFillSync } from 'node:crypto'

/**
 * Object ids: 26 characters, a ULID in lower-case Crockford base32. The first 10 characters are the
 * creation time in ms, the last 16 are random (80 bits), and ids made in the same millisecond by one
 * process increase monotonically. So ids sort by creation time, are unique across processes, and are
 * safe as file names (even on case-insensitive file systems) and URL segments.
 */
const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz'
const OID = /^[0-9abcdefghjkmnpqrstvwxyz]{26}$/

let lastTime = -1
let lastTimeText = ''
let lastRandom: number[] = []
let lastRandomText = ''

export function newOid(now = Date.now()): string {
  if (now <= lastTime) {
    // Only the digits from the first one that changed are written again (usually just the last).
    const from = incrementRandom(lastRandom)
    let tail = ''
    for (let i = from; i < 16; i++) tail += ALPHABET[lastRandom[i]!]
    lastRandomText = lastRandomText.slice(0, from) + tail
  } else {
    lastTime = now
    lastRandom = randomDigits()
    lastTimeText = ''
    for (let i = 0, t = now; i < 10; i++, t = Math.floor(t / 32)) lastTimeText = ALPHABET[t % 32] + lastTimeText
    lastRandomText = ''
    for (let i = 0; i < 16; i++) lastRandomText += ALPHABET[lastRandom[i]!]
  }
  return lastTimeText + lastRandomText
}

export function isOid(value: unknown): value is string {
  return typeof value === 'string' && OID.test(value)
}

/** The creation time (ms epoch) encoded in an oid. */
export function oidTime(oid: string): number {
  let t = 0
  for (let i = 0; i < 10; i++) t = t * 32 + ALPHABET.indexOf(oid[i]!)
  return t
}

/**
 * Random bytes drawn 4 KiB at a time: a call into the system's generator per millisecond of
 * creates cost about 2 µs of each create when objects are saved one at a time.
 */
const pool = Buffer.alloc(4096)
let poolAt = pool.length

function randomDigits(): number[] {
  if (poolAt + 16 > pool.length) {
    randomFillSync(pool)
    poolAt = 0
  }
  const digits = new Array<number>(16)
  for (let i = 0; i < 16; i++) digits[i] = pool[poolAt + i]! & 31
  poolAt += 16
  return digits
}

/** Adds one to the base-32 digits; returns the index of the first digit that changed. */
function incrementRandom(digits: number[]): number {
  for (let i = digits.length - 1; i >= 0; i--) {
    if (digits[i]! < 31) {
      digits[i]!++
      return i
    }
    digits[i] = 0
  }
  return 0
}

let nextOid: string | undefined

/** Runs fn (which constructs one model instance) so that the instance takes `oid` instead of a fresh one. */
export function withOid<T>(oid: string, fn: () => T): T {
  nextOid = oid
  try {
    return fn()
  } finally {
    nextOid = undefined
  }
}

/** The oid for a new instance: the one given to `withOid`, else a fresh one. */
export function oidForNewObject(): string {
  const oid = nextOid
  nextOid = undefined
  return oid ?? newOid()
}
