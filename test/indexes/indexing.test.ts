import { describe, expect, it } from 'vitest'
import { Indexing, INDEX_SIGNATURE } from '../../src/indexes/indexing.js'
import { Index } from '../../src/indexes/index-decorator.js'
import { declarationsOf } from '../../src/model/meta.js'
import { declareQueued, ownMetadata } from '../../src/model/standard-decorators.js'
import { ArgumentError, ModelDefinitionError } from '../../src/errors.js'

describe('Indexing helpers', () => {
  it('value passes the value through (arrays give one key per element)', () => {
    expect(Indexing.value('A b')).toBe('A b')
    expect(Indexing.value(['x', 'y'])).toEqual(['x', 'y'])
    expect(Indexing.value(undefined)).toBeUndefined()
  })

  it('normalize lower-cases, trims and collapses inner white space', () => {
    expect(Indexing.normalize('  Ada \t\n LOVELACE  ')).toBe('ada lovelace')
    expect(Indexing.normalize('\u00a0Émile\u2003Zola ')).toBe('émile zola') // Unicode spaces too
    expect(Indexing.normalize(['A ', ' B'])).toEqual(['a', 'b'])
    expect(Indexing.normalize(undefined)).toBeUndefined()
    expect(Indexing.normalize(null)).toBeUndefined()
    expect(Indexing.normalize(42)).toBe(42)
    const d = new Date(5)
    expect(Indexing.normalize(d)).toBe(d)
  })

  it('noAccents removes accents and keeps case, spacing and other scripts', () => {
    expect(Indexing.noAccents('Émile')).toBe('Emile')
    expect(Indexing.noAccents('Crème Brûlée, naïve façade')).toBe('Creme Brulee, naive facade')
    expect(Indexing.noAccents('e\u0301')).toBe('e') // already decomposed
    expect(Indexing.noAccents('한국어')).toBe('한국어') // Hangul is recomposed after NFD
    expect(Indexing.noAccents('हिन्दी')).toBe('हिन्दी') // Indic vowel signs are letters' parts, not accents
    expect(Indexing.noAccents(['Ü', undefined, 'ø'])).toEqual(['U', 'ø'])
    expect(Indexing.noAccents(null)).toBeUndefined()
  })

  it('keyword gives one normalized, accent-free key', () => {
    expect(Indexing.keyword('  Émile   ZOLA ')).toBe('emile zola')
    expect(Indexing.keyword(['Äb', 'C'])).toEqual(['ab', 'c'])
    expect(Indexing.keyword(undefined)).toBeUndefined()
  })

  it('keywords gives the distinct words of texts, normalized, accent-free, short ones dropped', () => {
    expect(Indexing.keywords('The quick brown fox, the QUICK dog! An ox.')).toEqual(['the', 'quick', 'brown', 'fox', 'dog'])
    expect(Indexing.keywords(['Émile Zola', undefined, 'zola écrit'])).toEqual(['emile', 'zola', 'ecrit'])
    expect(Indexing.keywords('a bb ccc dddd', 4)).toEqual(['dddd'])
    expect(Indexing.keywords('a bb ccc', 1)).toEqual(['a', 'bb', 'ccc'])
    expect(Indexing.keywords("l'été 2026 año")).toEqual(['ete', '2026', 'ano'])
    expect(Indexing.keywords('Привет мир, Ωmega')).toEqual(['привет', 'мир', 'ωmega'])
    expect(Indexing.keywords('😀😀😀 abc')).toEqual(['abc']) // emoji are not letters
    expect(Indexing.keywords(undefined)).toEqual([])
    expect(Indexing.keywords([null, 12345, { a: 'xyz' }])).toEqual(['12345'])
    expect(Indexing.keywords('x'.repeat(201) + ' word')).toEqual(['word'])
    // Used directly as an index function, the second argument is the object, not minLength.
    expect(Indexing.keywords('ab abc', {} as any)).toEqual(['abc'])
    expect(() => Indexing.keywords('x', -1)).toThrow(ArgumentError)
  })

  it('updateTime gives the object last change time whatever the value', () => {
    expect(Indexing.updateTime('anything', { getUpdateTime: () => 1234 })).toBe(1234)
    expect(Indexing.updateTime(undefined, undefined)).toBeUndefined()
  })

  it('paths gives every ancestor and the path itself', () => {
    expect(Indexing.paths('/')('a/b/c')).toEqual(['a', 'a/b', 'a/b/c'])
    expect(Indexing.paths()('a')).toEqual(['a'])
    expect(Indexing.paths('.')('x.y')).toEqual(['x', 'x.y'])
    expect(Indexing.paths('::')('a::b::c')).toEqual(['a', 'a::b', 'a::b::c'])
    expect(Indexing.paths('/')('/a//b/')).toEqual(['/a', '/a//b', '/a//b/'])
    expect(Indexing.paths('/')(['a/b', 'a/c'])).toEqual(['a', 'a/b', 'a', 'a/c'])
    expect(Indexing.paths('/')(undefined)).toBeUndefined()
    expect(Indexing.paths('/')('')).toEqual([])
    expect(() => Indexing.paths('')).toThrow(ArgumentError)
  })

  it('gives every helper a signature, paths one per separator', () => {
    expect((Indexing.normalize as any)[INDEX_SIGNATURE]).toBe('Indexing.normalize')
    expect((Indexing.paths('/') as any)[INDEX_SIGNATURE]).not.toBe((Indexing.paths('.') as any)[INDEX_SIGNATURE])
  })
})

/** The declarations decorators made on exactly this class (standard ones wait in its metadata for @Model). */
function declared(ctor: Function) {
  declareQueued(ctor, ownMetadata(ctor))
  return declarationsOf(ctor)
}

describe('@Index', () => {
  it('declares property indexes with defaults, names and unique', () => {
    class A {
      @Index() status?: string
      @Index(Indexing.normalize, { unique: true }) email?: string
      @Index(Indexing.keywords, { name: 'words' }) title?: string
      @Index({ unique: true }) code?: string
    }
    expect(declared(A).indexes).toEqual([
      { name: 'status', fn: Indexing.value, property: 'status', unique: false },
      { name: 'email', fn: Indexing.normalize, property: 'email', unique: true },
      { name: 'words', fn: Indexing.keywords, property: 'title', unique: false },
      { name: 'code', fn: Indexing.value, property: 'code', unique: true },
    ])
  })

  it('keeps declarations of a subclass apart from its base', () => {
    class Base {
      @Index() a?: string
    }
    class Sub extends Base {
      @Index() b?: string
    }
    expect(declared(Base).indexes.map((i) => i.name)).toEqual(['a'])
    expect(declared(Sub).indexes.map((i) => i.name)).toEqual(['b'])
  })

  it('refuses bad arguments when the class is declared', () => {
    expect(() => Index('nope' as any)).toThrow(ModelDefinitionError)
    expect(() => Index(Indexing.value, { unique: 'yes' } as any)).toThrow(/unique must be a boolean/)
    expect(() => Index(Indexing.value, { name: '' })).toThrow(/non-empty string/)
    expect(() => Index(Indexing.value, { uniq: true } as any)).toThrow(/Unknown @Index\(\) option "uniq"/)
    expect(() => Index(Indexing.value, 5 as any)).toThrow(ModelDefinitionError)
    expect(() => (Index() as any)(undefined, { kind: 'field', name: 'x', metadata: undefined })).toThrow(/no metadata object/)
    expect(() => {
      class C {
        @Index() static s?: string
      }
      return declared(C)
    }).toThrow(/static member/)
  })
})
