import { expect, it } from 'vitest'
import { writeKeysRecord } from '../../src/indexes/index-writes.js'
import { compareKeys } from '../../src/query/key-order.js'
import { keysIn } from '../../src/query/keys-record.js'

it('compares keys in code point order, as engines store them, not UTF-16 order', () => {
  const keys = ['😀', '\ue000', 'z', 'a', 'ab', '', '\u00e9']
  const byBytes = [...keys].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)))
  expect([...keys].sort(compareKeys)).toEqual(byBytes)
  expect(byBytes).toEqual(['', 'a', 'ab', 'z', '\u00e9', '\ue000', '😀'])
})

it('finds the keys of one index in a stored keys record without confusing names that share a prefix', () => {
  const record = writeKeysRecord({ tag: ['sa', 'sb'], tags: ['sx'], 'na\x00me': ['n1'], t: ['b1'] })
  expect(keysIn(record, 'tag')).toEqual(['sa', 'sb'])
  expect(keysIn(record, 'tags')).toEqual(['sx'])
  expect(keysIn(record, 'na\x00me')).toEqual(['n1'])
  expect(keysIn(record, 't')).toEqual(['b1'])
  expect(keysIn(record, 'ta')).toBeUndefined()
  expect(keysIn('', 'tag')).toBeUndefined()
  expect(keysIn(undefined, 'tag')).toBeUndefined()
})
