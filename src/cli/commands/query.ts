import { checkName } from '../../engine/engine.js'
import { fromJsonValue } from '../../engine/directory/json-codec.js'
import { decodeKey } from '../../indexes/key-codec.js'
import { collectionEntriesPrefix, entryPrefix } from '../../indexes/layout.js'
import type { Database } from '../../model/database.js'
import type { StoredObject } from '../../model/stored-object.js'
import type { Query } from '../../query/query.js'
import { EXIT, UsageError } from '../exit-codes.js'
import { openDatabase, openEngine, using } from '../open-store.js'
import { json, print, say } from '../output.js'
import { keyRange, parseKey } from '../query-args.js'

export interface QueryOptions {
  json?: boolean
  limit?: number
  offset?: number
  models?: string
  where?: string
  or?: string
  order?: string
  explain?: boolean
}

/**
 * `stowage query`: with `--models`, `Model.find()` of the collection's model (an index and key or
 * range, `--where`, `--or`, `--order`, `--offset`, `--limit`), printing each object's oid and values
 * (`--json`: its export, update times included); without,
 * the entries one index holds under a key or range, read from the store as they are.
 */
export async function query(store: string, collection: string, index: string | undefined, key: string | undefined, options: QueryOptions): Promise<number> {
  checkName('collection', collection)
  if (index !== undefined && key === undefined) throw new UsageError(`give a key or a range low..high for index ${index}`)
  if (options.models !== undefined) return find(store, collection, index, key, options)
  const needModels = (['where', 'or', 'order', 'offset', 'explain'] as const).filter((o) => options[o] !== undefined)
  if (needModels.length > 0) throw new UsageError(`--${needModels[0]} runs Model.find(): give --models <module>`)
  if (index === undefined || key === undefined) throw new UsageError('give an index and a key or range (or --models and --where)')
  return indexEntries(store, collection, index, key, options)
}

async function find(store: string, collection: string, index: string | undefined, key: string | undefined, options: QueryOptions): Promise<number> {
  const where = options.where === undefined ? {} : conditions('--where', options.where)
  if (Array.isArray(where)) throw new UsageError('--where takes a JSON object of conditions')
  if (index !== undefined) {
    if (index in where) throw new UsageError(`${index} is given twice: as an argument and in --where`)
    where[index] = condition(key!)
  }
  const or = options.or === undefined ? undefined : conditions('--or', options.or)
  if (or !== undefined && !Array.isArray(or)) throw new UsageError('--or takes a JSON array of condition objects')
  return using(await openDatabase(store, options.models), async (db) => {
    const model = modelOf(db, collection)
    const q = model.find({
      where,
      ...(or === undefined ? {} : { or }),
      ...(options.order === undefined ? {} : { orderBy: order(options.order) }),
      ...(options.offset === undefined ? {} : { offset: options.offset }),
      ...(options.limit === undefined ? {} : { limit: options.limit }),
    } as never) as Query<StoredObject>
    if (options.explain) {
      const explained = await q.explain()
      await print(options.json ? json(explained) : explained.plan)
      return EXIT.OK
    }
    if (options.json) {
      const found: unknown[] = []
      for await (const obj of q) found.push(obj.toJSON())
      await print(json(found))
    } else {
      for await (const obj of q) {
        const { oid, type: _type, updates: _updates, ...values } = obj.toJSON()
        await print(`${oid}\t${json(values, false)}`)
      }
    }
    return EXIT.OK
  })
}

/** The model the loaded modules give for `collection`. */
function modelOf(db: Database, collection: string): { find(options: unknown): unknown } {
  const meta = db.model(collection)
  if (meta === undefined) throw new UsageError(`the models give no model for collection ${collection}`)
  return meta.ctor as unknown as { find(options: unknown): unknown }
}

/** JSON conditions, with dates and other values in the dump's tags (`{"$date": "..."}`). */
function conditions(option: string, text: string): Record<string, unknown> | unknown[] {
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (err) {
    throw new UsageError(`${option} is not JSON: ${(err as Error).message}`)
  }
  if (parsed === null || typeof parsed !== 'object') throw new UsageError(`${option} takes JSON conditions, got ${text}`)
  return fromJsonValue(parsed, option) as Record<string, unknown> | unknown[]
}

/** A key, or an inclusive range `low..high` (either end may be left out), as a find() condition. */
function condition(text: string): unknown {
  let low: string | undefined
  let high: string | undefined
  const dots = text.indexOf('..')
  try {
    JSON.parse(text)
  } catch {
    if (dots >= 0) {
      low = text.slice(0, dots)
      high = text.slice(dots + 2)
    }
  }
  if (low === undefined || high === undefined) return parseKey(text)
  return { ...(low === '' ? {} : { gte: parseKey(low) }), ...(high === '' ? {} : { lte: parseKey(high) }) }
}

/** `name`, `name:asc` or `name:desc`. */
function order(text: string): Record<string, 'asc' | 'desc'> {
  const [name, direction = 'asc', ...rest] = text.split(':')
  if (name === '' || rest.length > 0 || (direction !== 'asc' && direction !== 'desc')) throw new UsageError(`--order takes name, name:asc or name:desc, got ${text}`)
  return { [name!]: direction }
}

/** The entries of one index under a key or range, from the store without models. */
async function indexEntries(store: string, collection: string, index: string, key: string, options: QueryOptions): Promise<number> {
  const range = keyRange(collection, index, key)
  const { engine } = await openEngine(store)
  return using(engine, async () => {
    const exists = await first(engine.keys({ prefix: collectionEntriesPrefix(collection) }))
    if (!exists) say(`note: ${collection} has no index entries (no index, or not built yet: indexes are built at a model's first use)`)
    const prefix = entryPrefix(collection, index)
    const found: Array<{ key: unknown; oid: string }> = []
    const limit = options.limit ?? Infinity
    for await (const entry of engine.keys({ ...range, limit })) {
      const nul = entry.lastIndexOf('\x00')
      const hit = { key: decodeKey(entry.slice(prefix.length, nul)), oid: entry.slice(nul + 1) }
      if (options.json) found.push(hit)
      else await print(`${hit.oid}\t${typeof hit.key === 'string' ? hit.key : json(hit.key, false)}`)
    }
    if (options.json) await print(json(found))
    return EXIT.OK
  })
}

async function first(keys: AsyncIterable<string>): Promise<boolean> {
  for await (const _ of keys) return true
  return false
}
