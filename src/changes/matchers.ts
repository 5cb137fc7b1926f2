import type { Range } from '../engine/engine.js'
import { utf8Compare } from '../indexes/index-view.js'
import type { KeysRecord } from '../indexes/layout.js'
import { anyKeyMatches, type ParsedCondition } from '../query/conditions.js'
import type { ParsedQuery } from '../query/parse-query.js'
import type { KeyedChange } from './change-feed.js'
import type { ChangeMatcher } from './live-query.js'

/**
 * For an index view's results (`get(key)`, `list(range)`): a change matters when the object had or
 * has a key of the index whose entry falls in the view's range (`entries`: a range of entry keys,
 * `prefix` the index's entry prefix). `key`: the encoded key of a `get()`.
 */
export function indexRangeMatcher(index: string, prefix: string, entries: Range, key?: string): ChangeMatcher {
  const inRange = (entry: string): boolean =>
    (entries.prefix === undefined || entry.startsWith(entries.prefix)) &&
    (entries.gte === undefined || utf8Compare(entry, entries.gte) >= 0) &&
    (entries.gt === undefined || utf8Compare(entry, entries.gt) > 0) &&
    (entries.lte === undefined || utf8Compare(entry, entries.lte) <= 0) &&
    (entries.lt === undefined || utf8Compare(entry, entries.lt) < 0)
  const had = (record: KeysRecord | undefined, oid: string): boolean => (record?.[index] ?? []).some((k) => inRange(prefix + k + '\x00' + oid))
  return {
    hints: key === undefined ? undefined : [[index, key]],
    matters: (c) => c.old === undefined || had(c.old, c.oid) || had(c.next, c.oid),
  }
}

/**
 * For a `find()` query: a change matters when the object, before or after it, passes every
 * condition the indexes decide (`where`, and one of the `or` branches): the others (properties
 * without an index, `filter`) are assumed to pass. An equality or `in` condition gives hints.
 */
export function queryMatcher(q: ParsedQuery): ChangeMatcher {
  const passes = (conditions: ParsedCondition[], record: KeysRecord): boolean =>
    conditions.every((c) => c.index === undefined || anyKeyMatches(c.test, record[c.index.name]))
  const state = (record: KeysRecord | undefined): boolean =>
    record === undefined || (passes(q.where, record) && (q.or === undefined || q.or.some((branch) => passes(branch, record))))
  const pointed = q.where.find((c) => c.index !== undefined && c.test.kind === 'points')
  return {
    hints: pointed === undefined || pointed.test.kind !== 'points' ? undefined : pointed.test.points.map((k) => [pointed.index!.name, k]),
    matters: (c: KeyedChange) => c.old === undefined || state(c.old) || (!c.removed && state(c.next)),
  }
}
