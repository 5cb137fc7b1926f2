import { describeValue } from '../engine/engine.js'
import { QueryError } from '../errors.js'
import type { IndexMeta, ModelMeta } from '../model/meta.js'
import { parseCondition, type ParsedCondition } from './conditions.js'

/** A `find()` query, checked: conditions encoded, paging and order validated. */
export interface ParsedQuery {
  meta: ModelMeta
  where: ParsedCondition[]
  /** Alternatives, at least one of which must hold; undefined when no `or` was given. */
  or?: ParsedCondition[][]
  filter?: (obj: any) => boolean
  /** Undefined: oid (creation) order. */
  orderBy?: { name: string; index?: IndexMeta; desc: boolean }
  offset: number
  limit: number
}

const OPTIONS = new Set(['where', 'or', 'filter', 'orderBy', 'offset', 'limit'])

export function parseQuery(meta: ModelMeta, options: unknown): ParsedQuery {
  const model = meta.ctor.name
  const fail = (why: string) => new QueryError(`${model}.find(): ${why}`)
  if (options === undefined) options = {}
  if (options === null || typeof options !== 'object' || Array.isArray(options)) throw fail(`takes an options object, got ${describeValue(options)}`)
  const o = options as Record<string, unknown>
  for (const key of Object.keys(o)) {
    if (!OPTIONS.has(key)) throw fail(`unknown option ${JSON.stringify(key)}; the options are ${[...OPTIONS].join(', ')}`)
  }
  const query: ParsedQuery = { meta, where: parseWhere(meta, 'where', o.where), offset: 0, limit: Infinity }
  if (o.or !== undefined) {
    if (!Array.isArray(o.or) || o.or.length === 0) throw fail(`or takes a non-empty array of conditions objects, got ${describeValue(o.or)}`)
    query.or = o.or.map((w, i) => {
      if (w === undefined) throw fail(`or[${i}] is undefined; give an object of conditions`)
      return parseWhere(meta, `or[${i}]`, w)
    })
  }
  if (o.filter !== undefined) {
    if (typeof o.filter !== 'function') throw fail(`filter must be a function (obj) => boolean, got ${describeValue(o.filter)}`)
    query.filter = o.filter as (obj: unknown) => boolean
  }
  if (o.orderBy !== undefined) query.orderBy = parseOrder(meta, o.orderBy, fail)
  for (const name of ['offset', 'limit'] as const) {
    const value = o[name]
    if (value === undefined) continue
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) throw fail(`${name} must be a non-negative integer, got ${describeValue(value)}`)
    query[name] = value
  }
  return query
}

function parseWhere(meta: ModelMeta, at: string, where: unknown): ParsedCondition[] {
  if (where === undefined) return []
  if (where === null || typeof where !== 'object' || Array.isArray(where)) {
    throw new QueryError(`${meta.ctor.name}.find(): ${at} takes an object of conditions by index or property name, got ${describeValue(where)}`)
  }
  const out: ParsedCondition[] = []
  for (const [name, condition] of Object.entries(where)) {
    if (condition === undefined) continue // an optional condition left out
    const all = allKeys(meta, `${at}.${name}`, condition)
    // Every key must be held: one condition per key, which the planner orders like any others.
    if (all !== undefined) all.forEach((key, i) => out.push(parseCondition(meta, `${at}.${name}.all[${i}]`, name, key)))
    else out.push(parseCondition(meta, `${at}.${name}`, name, condition))
  }
  return out
}

/** The keys of an `{ all: keys }` condition, or undefined for another condition. */
function allKeys(meta: ModelMeta, at: string, condition: unknown): unknown[] | undefined {
  if (condition === null || typeof condition !== 'object' || !Object.hasOwn(condition, 'all')) return undefined
  const fail = (why: string) => new QueryError(`${meta.ctor.name}.find(): ${at}: ${why}`)
  const others = Object.keys(condition).filter((op) => op !== 'all')
  if (others.length > 0) throw fail(`"all" cannot be combined with ${others.join(', ')}`)
  const keys = (condition as { all: unknown }).all
  if (!Array.isArray(keys) || keys.length === 0) throw fail(`"all" takes a non-empty array of keys, got ${describeValue(keys)}`)
  keys.forEach((key, i) => {
    if (typeof key === 'object' && key !== null && !(key instanceof Date)) throw fail(`all[${i}]: ${describeValue(key)} is not a key`)
  })
  return keys
}

function parseOrder(meta: ModelMeta, orderBy: unknown, fail: (why: string) => QueryError): ParsedQuery['orderBy'] {
  const entries = orderBy !== null && typeof orderBy === 'object' && !Array.isArray(orderBy) ? Object.entries(orderBy) : undefined
  if (entries === undefined || entries.length !== 1) throw fail(`orderBy takes one { name: 'asc' | 'desc' }, got ${describeValue(orderBy)}`)
  const [name, direction] = entries[0]!
  if (direction !== 'asc' && direction !== 'desc') throw fail(`orderBy.${name} must be 'asc' or 'desc', got ${describeValue(direction)}`)
  const index = meta.indexes.get(name)
  if (index === undefined && !meta.properties.has(name) && !(meta.relations.has(name) && !meta.relations.get(name)!.many)) {
    throw fail(`orderBy: ${meta.ctor.name} has no index or property named ${JSON.stringify(name)}`)
  }
  return index === undefined ? { name, desc: direction === 'desc' } : { name, index, desc: direction === 'desc' }
}
