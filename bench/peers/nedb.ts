/** NeDB (@seald-io/nedb): an in-memory collection with an append-only data file; ensureIndex on each field. */
import { join } from 'node:path'
import nedb from '@seald-io/nedb'
import type { ArticleData, Id, PeerStore } from './workload.js'

// The package is CommonJS (module.exports = Datastore) while its typings declare `export default`.
const Datastore = nedb as unknown as typeof nedb.default

export async function open(dir: string): Promise<PeerStore> {
  const db = new Datastore<ArticleData>({ filename: join(dir, 'nedb', 'articles.db') })
  await db.loadDatabaseAsync()
  for (const fieldName of ['author', 'status', 'score']) await db.ensureIndexAsync({ fieldName })
  return {
    insert: async (batch: ArticleData[]): Promise<Id[]> => (await db.insertAsync(batch)).map((d) => d._id),
    get: (id) => db.findOneAsync({ _id: String(id) }),
    byAuthor: async (author) => (await db.findAsync({ author })).length,
    scoreRange: async (gte, lt) => (await db.findAsync({ score: { $gte: gte, $lt: lt } })).length,
    // NeDB has no close: every insert was appended to the data file when its promise resolved.
    close: () => undefined,
  }
}
