import { describeValue } from '../engine/engine.js'
import { QueryError } from '../errors.js'
import { describeKey, encodeKey, encodePrefix, kindBounds, kindOf, keyProblem, type KeyKind } from '../indexes/key-codec.js'
import type { IndexKey, IndexMeta, ModelMeta } from '../model/meta.js'
import { keyDomain, type KeyDomain } from './key-kinds.js'
import { compareKeys } from './key-order.js'

/**
 * Which encoded keys a condition accepts: listed points, a prefix, or a range (always bounded on both
 * sides: a one-sided range stays within its bound's kind, as in `index().list()`).
 */
export type KeyTest =
  | { kind: 'points'; points: string[]; set: ReadonlySet<string> }
  | { kind: 'prefix'; prefix: string }
  | { kind: 'range'; lower: string; lowerInclusive: boolean; upper: string; upperInclusive: boolean }

/** One condition of a query, checked and encoded. */
export interface ParsedCondition {
  /** The index or property it is on. */
  name: string
  /** Where it was given, for messages: `where.status`, `or[1].tags`. */
  at: string
  /** The index deciding it; undefined for a property without one (checked on objects). */
  index?: IndexMeta
  test: KeyTest
  /** The condition in words, for `explain()`. */
  text: string
}

export function keyMatches(test: KeyTest, key: string): boolean {
  switch (test.kind) {
    case 'points':
      return test.set.has(key)
    case 'prefix':
      return key.startsWith(test.prefix)
    case 'range': {
      const lo = compareKeys(key, test.lower)
      if (lo < 0 || (lo === 0 && !test.lowerInclusive)) return false
      const hi = compareKeys(key, test.upper)
      return hi < 0 || (hi === 0 && test.upperInclusive)
    }
  }
}

/** Whether any of the keys passes. */
export function anyKeyMatches(test: KeyTest, keys: readonly string[] | undefined): boolean {
  if (keys === undefined) return false
  for (const key of keys) if (keyMatches(test, key)) return true
  return false
}

const OPERATORS = new Set(['in', 'gt', 'gte', 'lt', 'lte', 'prefix'])
const RANGE_OPERATORS = ['gt', 'gte', 'lt', 'lte'] as const

/** Checks and encodes `where[name] = condition`; a QueryError names the model and the condition. */
export function parseCondition(meta: ModelMeta, at: string, name: string, condition: unknown): ParsedCondition {
  const model = meta.ctor.name
  const fail = (why: string) => new QueryError(`${model}.find(): ${at}: ${why}`)
  const index = meta.indexes.get(name)
  if (index === undefined && !meta.properties.has(name) && !(meta.relations.has(name) && !meta.relations.get(name)!.many)) {
    const names = [...new Set([...meta.indexes.keys(), ...meta.properties.keys(), ...[...meta.relations.values()].filter((r) => !r.many).map((r) => r.name)])]
    throw fail(`${model} has no index or property named ${JSON.stringify(name)}; it has: ${names.join(', ') || '(none)'}`)
  }
  const domain = keyDomain(meta, name, index)
  const key = (value: unknown, role: string): string => {
    const problem = value === undefined || value === null ? `${describeValue(value)} is not a key to query` : keyProblem(value)
    if (problem !== undefined) throw fail(`${role}: ${problem}`)
    checkDomain(domain, value as IndexKey, role, fail)
    try {
      return encodeKey(value as IndexKey)
    } catch (err) {
      throw fail(`${role}: ${(err as Error).message}`)
    }
  }
  // Objects of one shape (no spread: V8 gives each object a spread makes before more properties a shape of its own).
  const parsed = (test: KeyTest, text: string): ParsedCondition => (index === undefined ? { name, at, test, text } : { name, at, index, test, text })

  if (!isOperatorObject(condition)) {
    const k = key(condition, 'the key')
    return parsed({ kind: 'points', points: [k], set: new Set([k]) }, `${name} = ${describeKey(condition as IndexKey)}`)
  }
  const ops = Object.keys(condition)
  for (const op of ops) if (!OPERATORS.has(op)) throw fail(`unknown operator ${JSON.stringify(op)}; the operators are in, all, gt, gte, lt, lte, prefix (or give a key for equality)`)
  if (ops.length === 0) throw fail('an empty condition; give a key, { in }, { all }, { gt, gte, lt, lte } or { prefix }')
  const c = condition as Record<string, unknown>
  if (ops.includes('in')) {
    if (ops.length > 1) throw fail(`"in" cannot be combined with ${ops.filter((o) => o !== 'in').join(', ')}`)
    if (!Array.isArray(c.in)) throw fail(`"in" takes an array of keys, got ${describeValue(c.in)}`)
    const points = [...new Set(c.in.map((v, i) => key(v, `in[${i}]`)))].sort(compareKeys)
    return parsed({ kind: 'points', points, set: new Set(points) }, `${name} in [${c.in.map((v) => describeKey(v as IndexKey)).join(', ')}]`)
  }
  if (ops.includes('prefix')) {
    if (ops.length > 1) throw fail(`"prefix" cannot be combined with ${ops.filter((o) => o !== 'prefix').join(', ')}`)
    if (typeof c.prefix !== 'string') throw fail(`"prefix" takes a string, got ${describeValue(c.prefix)}`)
    if (domain !== undefined && !domain.kinds.has('string')) throw fail(`"prefix" selects string keys, and ${name} has ${[...domain.kinds].join(' and ')} keys`)
    let prefix: string
    try {
      prefix = encodePrefix(c.prefix)
    } catch (err) {
      throw fail(`prefix: ${(err as Error).message}`)
    }
    return parsed({ kind: 'prefix', prefix }, `${name} starts with ${describeValue(c.prefix)}`)
  }
  const range = parseRange(name, c, domain, key, fail)
  return parsed(range.test, range.text)
}

function parseRange(
  name: string,
  c: Record<string, unknown>,
  domain: KeyDomain | undefined,
  key: (value: unknown, role: string) => string,
  fail: (why: string) => QueryError,
): Pick<ParsedCondition, 'test' | 'text'> {
  if (domain !== undefined && domain.kinds.size === 1 && domain.kinds.has('boolean')) throw fail(`a range on ${name}, whose keys are booleans; give true or false`)
  const given = RANGE_OPERATORS.filter((op) => c[op] !== undefined)
  if (given.length === 0) throw fail('every bound is undefined')
  const kinds = new Set<KeyKind>()
  const encoded: Partial<Record<(typeof RANGE_OPERATORS)[number], string>> = {}
  for (const op of given) {
    encoded[op] = key(c[op], op)
    kinds.add(kindOf(c[op] as IndexKey))
  }
  if (kinds.size > 1) throw fail(`bounds of different kinds (${given.map((op) => `${op} ${describeKey(c[op] as IndexKey)}`).join(', ')}) select nothing`)
  const bounds = kindBounds([...kinds][0]!)
  // The tighter of gt/gte and of lt/lte.
  let lower = bounds.start
  let lowerInclusive = true
  if (encoded.gte !== undefined) lower = encoded.gte
  if (encoded.gt !== undefined && (encoded.gte === undefined || compareKeys(encoded.gt, encoded.gte) >= 0)) {
    lower = encoded.gt
    lowerInclusive = false
  }
  let upper = bounds.end
  let upperInclusive = false
  if (encoded.lte !== undefined) {
    upper = encoded.lte
    upperInclusive = true
  }
  if (encoded.lt !== undefined && (encoded.lte === undefined || compareKeys(encoded.lt, encoded.lte) <= 0)) {
    upper = encoded.lt
    upperInclusive = false
  }
  const order = compareKeys(lower, upper)
  if (order > 0 || (order === 0 && !(lowerInclusive && upperInclusive))) {
    throw fail(`conflicting bounds: ${given.map((op) => `${op} ${describeKey(c[op] as IndexKey)}`).join(', ')} select nothing`)
  }
  const symbols = { gt: '>', gte: '>=', lt: '<', lte: '<=' }
  return {
    test: { kind: 'range', lower, lowerInclusive, upper, upperInclusive },
    text: given.map((op) => `${name} ${symbols[op]} ${describeKey(c[op] as IndexKey)}`).join(' and '),
  }
}

function checkDomain(domain: KeyDomain | undefined, value: IndexKey, role: string, fail: (why: string) => QueryError): void {
  if (domain === undefined) return
  const kind = kindOf(value)
  if (!domain.kinds.has(kind)) throw fail(`${role}: ${describeKey(value)} is a ${kind}, and the keys here are ${[...domain.kinds].map((k) => `${k}s`).join(' or ')}`)
  if (domain.values !== undefined && !role.match(/^(gt|gte|lt|lte)$/) && !domain.values.has(value)) {
    throw fail(`${role}: ${describeKey(value)} is not one of the values ${[...domain.values].map((v) => describeKey(v)).join(', ')}`)
  }
}

/** A plain object of operators, as opposed to a key (a Date is a key). */
function isOperatorObject(value: unknown): value is object {
  return typeof value === 'object' && value !== null && !(value instanceof Date) && !Array.isArray(value)
}
