/**
 * lowdb: a plain array in memory, written whole as JSON by `db.write()`. It has no indexes and no ids:
 * ids are crypto.randomUUID(), reads are `find` and `filter` over the array, as its README shows.
 */
import { randomUUID } from 'node:crypto'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { JSONFilePreset } from 'lowdb/node'
import type { ArticleData, Id, PeerStore } from './workload.js'

type Row = ArticleData & { id: string }

export async function open(dir: string): Promise<PeerStore> {
  mkdirSync(join(dir, 'lowdb'), { recursive: true })
  const db = await JSONFilePreset<{ articles: Row[] }>(join(dir, 'lowdb', 'db.json'), { articles: [] })
  return {
    insert(batch: ArticleData[]): Id[] {
      const rows = batch.map((a) => ({ id: randomUUID(), ...a }))
      db.data.articles.push(...rows)
      return rows.map((r) => r.id)
    },
    flush: () => db.write(),
    get: (id) => db.data.articles.find((a) => a.id === id),
    byAuthor: (author) => db.data.articles.filter((a) => a.author === author).length,
    scoreRange: (gte, lt) => db.data.articles.filter((a) => a.score >= gte && a.score < lt).length,
    close: () => undefined,
  }
}
