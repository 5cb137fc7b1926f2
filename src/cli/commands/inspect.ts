import { checkName } from '../../engine/engine.js'
import { databaseStats, engineStats, type StoreStats } from '../../tools/stats.js'
import { diskBytes } from '../disk-usage.js'
import { EXIT } from '../exit-codes.js'
import { openDatabase, openEngine, using } from '../open-store.js'
import { bytes, json, print, say, table } from '../output.js'

export interface JsonOption {
  json?: boolean
}

export async function info(store: string, options: JsonOption): Promise<number> {
  const { engine, kind } = await openEngine(store)
  return using(engine, async () => {
    const collections: Array<{ collection: string; objects: number }> = []
    for await (const collection of engine.collections()) collections.push({ collection, objects: await engine.countRecords(collection) })
    const out = { store, engine: kind, describe: engine.describe(), bytesOnDisk: diskBytes(store), collections }
    if (options.json) await print(json(out))
    else {
      await print(`${engine.describe()}: ${kind} store, ${bytes(out.bytesOnDisk)} on disk`)
      if (collections.length > 0) await print(table([['collection', 'objects'], ...collections.map((c) => [c.collection, c.objects])]))
      else await print('no objects')
    }
    return EXIT.OK
  })
}

export async function stats(store: string, options: JsonOption & { models?: string }): Promise<number> {
  let result: StoreStats
  if (options.models !== undefined) {
    result = await using(await openDatabase(store, options.models), (db) => databaseStats(db))
  } else {
    const { engine } = await openEngine(store)
    result = await using(engine, () => engineStats(engine))
  }
  if (options.json) await print(json(result))
  else {
    await print(`${result.engine}: ${result.totals.objects} objects, about ${bytes(result.totals.bytes)}`)
    await print(
      table([
        ['collection', 'objects', 'records', 'indexes', 'links', 'raw data'],
        ...result.collections.map((c) => [c.collection, c.objects, bytes(c.bytes.records), bytes(c.bytes.indexes), bytes(c.bytes.links), `${c.rawObjects} (${bytes(c.bytes.raw)})`]),
      ]),
    )
    const indexes = result.collections.flatMap((c) => c.indexes.map((i) => [`${c.collection}.${i.name}`, i.entries, i.keys]))
    if (indexes.length > 0) await print('\n' + table([['index', 'entries', 'keys'], ...indexes]))
  }
  return EXIT.OK
}

export async function ls(store: string, collection: string, options: JsonOption & { limit?: number; after?: string }): Promise<number> {
  checkName('collection', collection)
  const limit = options.limit ?? Infinity
  const { engine } = await openEngine(store)
  return using(engine, async () => {
    const ids = engine.recordIds(collection, { limit, ...(options.after === undefined ? {} : { gt: options.after }) })
    if (options.json) {
      const all: string[] = []
      for await (const id of ids) all.push(id)
      await print(JSON.stringify(all))
    } else for await (const id of ids) await print(id)
    return EXIT.OK
  })
}

export async function get(store: string, collection: string, oid: string, options: JsonOption): Promise<number> {
  checkName('collection', collection)
  checkName('id', oid)
  const { engine } = await openEngine(store)
  return using(engine, async () => {
    const record = await engine.getRecord(collection, oid)
    if (record === undefined) {
      say(`no object ${collection}/${oid} in ${store}`)
      return EXIT.PROBLEMS
    }
    await print(options.json ? json({ collection, oid, record }, false) : json(record))
    return EXIT.OK
  })
}
