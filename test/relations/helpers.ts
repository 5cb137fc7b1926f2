import { expect } from 'vitest'
import type { Database } from '../../src/model/database.js'
import { RELATIONS_ROOT } from '../../src/relations/layout.js'
import { isManyInfo, isRef, linksOfRecord } from '../../src/relations/stored-links.js'

/**
 * Asserts that the stored relation data agree: every link has its reverse entry (with its position)
 * and every reverse entry a link; every linked object is stored; each owner's record
 * counts (and for small relations lists) exactly its link entries, and holds its One links.
 * Works from the engine alone (no model class needed).
 */
export async function checkLinks(db: Database): Promise<void> {
  const engine = db.engine
  const links = new Map<string, [string, string]>() // `${owner}\0${rel}\0${pos}` -> target
  const reverse = new Map<string, unknown>()
  for await (const [key, value] of engine.entries({ prefix: RELATIONS_ROOT })) {
    const parts = key.slice(RELATIONS_ROOT.length).split('\x00')
    const kind = parts.shift()
    if (kind === 'm') {
      expect(parts.length, key).toBe(4)
      expect(isRef(value), key).toBe(true)
      links.set(parts.join('\x00'), value as [string, string])
    } else if (kind === 'r') {
      expect(parts.length, key).toBe(5)
      reverse.set(parts.join('\x00'), value)
    } else throw new Error(`unexpected relation entry ${JSON.stringify(key)}`)
  }
  const expectedReverse = new Map<string, unknown>()
  const counts = new Map<string, string[]>()
  for (const [k, [tc, to]] of links) {
    const [oc, oo, rel, pos] = k.split('\x00') as [string, string, string, string]
    expectedReverse.set([tc, to, oc, oo, rel].join('\x00'), parseInt(pos, 36))
    const ck = [oc, oo, rel].join('\x00')
    counts.set(ck, [...(counts.get(ck) ?? []), to])
    expect(await engine.getRecord(tc, to), `linked ${tc}/${to} from ${oc}/${oo}.${rel}`).toBeDefined()
    expect(await engine.getRecord(oc, oo), `owner ${oc}/${oo}`).toBeDefined()
  }
  // Records: counts and One links.
  const collections = new Set<string>([...links.keys()].map((k) => k.split('\x00')[0]!))
  for (const meta of db.models()) collections.add(meta.collection)
  for (const collection of collections) {
    for await (const [oid, record] of engine.records(collection)) {
      const recordLinks = linksOfRecord(record as never) ?? {}
      for (const [rel, v] of Object.entries(recordLinks)) {
        if (isRef(v)) {
          expectedReverse.set([v[0], v[1], collection, oid, rel].join('\x00'), null)
          expect(await engine.getRecord(v[0], v[1]), `${collection}/${oid}.${rel} -> ${v[1]}`).toBeDefined()
        } else {
          expect(isManyInfo(v), `${collection}/${oid}.${rel}`).toBe(true)
          const ck = [collection, oid, rel].join('\x00')
          const listed = counts.get(ck) ?? []
          expect((v as { n: number }).n, `size of ${collection}/${oid}.${rel}`).toBe(listed.length)
          if ((v as { o?: string[] }).o !== undefined) expect((v as { o: string[] }).o).toEqual(listed)
          counts.delete(ck)
        }
      }
    }
  }
  expect([...counts.keys()], 'links without a count in their owner record').toEqual([])
  expect(reverse).toEqual(expectedReverse)
}
