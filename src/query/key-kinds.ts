import { INDEX_SIGNATURE, Indexing } from '../indexes/indexing.js'
import type { KeyKind } from '../indexes/key-codec.js'
import type { IndexKey, IndexMeta, ModelMeta } from '../model/meta.js'
import type { Type } from '../types/type.js'

/** The keys a name can have, when the model's declarations tell: their kinds, and for an ENUM its values. */
export interface KeyDomain {
  kinds: ReadonlySet<KeyKind>
  values?: ReadonlySet<IndexKey>
}

const NUMBER_TYPES = new Set(['INTEGER', 'POSITIVE', 'FLOAT', 'NUMBER'])
const STRING_TYPES = new Set(['STRING', 'LINE', 'EMAIL', 'PASSWORD', 'URL', 'HTML', 'MARKDOWN', 'RICHTEXT', 'TIME'])
const DATE_TYPES = new Set(['DATE', 'DATETIME'])
/** Functions that keep a value's kind (strings stay strings, others pass through). */
const KIND_KEEPING = new Set<unknown>([Indexing.value, Indexing.normalize, Indexing.noAccents, Indexing.keyword])
const STRING_FNS = new Set<unknown>([Indexing.keywords])

/**
 * The domain of the keys under `name` (an index, else a property), or undefined when any key may
 * occur (computed indexes, custom functions, ANY properties): then only the key rules apply.
 */
export function keyDomain(meta: ModelMeta, name: string, index: IndexMeta | undefined): KeyDomain | undefined {
  if (index !== undefined) {
    if (index.fn === Indexing.updateTime) return { kinds: new Set(['number']) }
    if (index.property === undefined) return undefined
    if (STRING_FNS.has(index.fn) || String((index.fn as { [INDEX_SIGNATURE]?: string })[INDEX_SIGNATURE]).startsWith('Indexing.paths(')) {
      return { kinds: new Set(['string']) }
    }
    if (!KIND_KEEPING.has(index.fn)) return undefined
    const domain = propertyDomain(meta, index.property)
    // normalize & co. change strings, so an ENUM's values no longer bound the keys.
    return domain !== undefined && index.fn !== Indexing.value ? { kinds: domain.kinds } : domain
  }
  return propertyDomain(meta, name)
}

function propertyDomain(meta: ModelMeta, property: string): KeyDomain | undefined {
  if (meta.relations.has(property)) return { kinds: new Set(['string']) }
  const type = meta.properties.get(property)?.type
  return type === undefined ? undefined : typeDomain(type)
}

function typeDomain(type: Type): KeyDomain | undefined {
  const item = (type as { item?: unknown }).item
  if (item !== undefined && /^(LIST|SET)\(/.test(type.name)) return typeDomain(item as Type)
  const values = (type as { values?: unknown }).values
  if (Array.isArray(values) && type.name.startsWith('ENUM(')) {
    return { kinds: new Set(values.map((v) => (typeof v === 'number' ? 'number' : 'string'))), values: new Set(values) }
  }
  if (type.name === 'BOOL') return { kinds: new Set(['boolean']) }
  if (NUMBER_TYPES.has(type.name)) return { kinds: new Set(['number']) }
  if (STRING_TYPES.has(type.name)) return { kinds: new Set(['string']) }
  if (DATE_TYPES.has(type.name)) return { kinds: new Set(['date']) }
  return undefined
}

/** Whether an object has at most one key in this index, so a scan over several keys gives it once. */
export function singleKeyed(meta: ModelMeta, index: IndexMeta): boolean {
  if (index.fn === Indexing.updateTime) return true
  if (index.property === undefined || !KIND_KEEPING.has(index.fn)) return false
  const relation = meta.relations.get(index.property)
  if (relation !== undefined) return !relation.many
  const type = meta.properties.get(index.property)?.type
  return type !== undefined && typeDomain(type) !== undefined && !/^(LIST|SET)\(/.test(type.name)
}
