/**
 * lmdb (lmdb-js defaults: msgpackr with shared structures, synchronous-to-disk commits), the record in
 * one database and hand-rolled index entries in a dupSort database: key [index, value], values the ids.
 */
import { join } from 'node:path'
import { open as openLmdb } from 'lmdb'
import { newOid } from '../../src/model/oid.js'
import type { ArticleData, Id, PeerStore } from './workload.js'

export async function open(dir: string): Promise<PeerStore> {
  const root = openLmdb({ path: join(dir, 'lmdb') })
  const articles = root.openDB<ArticleData, string>({ name: 'articles' })
  const idx = root.openDB<string, [string, string | number]>({ name: 'idx', dupSort: true, encoding: 'ordered-binary' })
  const load = (ids: Iterable<string>) => {
    let n = 0
    for (const id of ids) if (articles.get(id)) n++
    return n
  }
  return {
    async insert(batch: ArticleData[]) {
      const ids: Id[] = []
      await root.transaction(() => {
        for (const a of batch) {
          const oid = newOid()
          ids.push(oid)
          articles.put(oid, a)
          idx.put(['author', a.author], oid)
          idx.put(['status', a.status], oid)
          idx.put(['score', a.score], oid)
        }
      })
      return ids
    },
    get: (id) => articles.get(String(id)),
    byAuthor: (author) => load(idx.getValues(['author', author])),
    scoreRange: (gte, lt) => load(idx.getRange({ start: ['score', gte], end: ['score', lt] }).map(({ value }) => value)),
    close: () => root.close(),
  }
}
