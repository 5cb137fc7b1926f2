/**
 * Kysely (a typed query builder, the layer an ORM-style app puts over SQL) on better-sqlite3: the same
 * schema and pragmas as ./sqlite.ts; each batch one `insertInto().values(rows)` in a transaction.
 */
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { Kysely, SqliteDialect, type Generated, type Selectable } from 'kysely'
import { openSqlite } from './sqlite.js'
import type { ArticleData, Id, PeerStore } from './workload.js'

interface Articles { id: Generated<number>; title: string; author: string; status: string; tags: string; score: number; body: string }
interface Schema { articles: Articles }
const toArticle = (r: Selectable<Articles>) => ({ ...r, tags: JSON.parse(r.tags) as string[] })

export async function open(dir: string): Promise<PeerStore> {
  mkdirSync(join(dir, 'kysely'), { recursive: true })
  const db = new Kysely<Schema>({ dialect: new SqliteDialect({ database: openSqlite(join(dir, 'kysely', 'articles.db')) }) })
  return {
    insert: (batch: ArticleData[]): Promise<Id[]> =>
      db.transaction().execute(async (trx) => {
        const rows = await trx
          .insertInto('articles')
          .values(batch.map((a) => ({ ...a, tags: JSON.stringify(a.tags) })))
          .returning('id')
          .execute()
        return rows.map((r) => r.id)
      }),
    async get(id) {
      const row = await db.selectFrom('articles').selectAll().where('id', '=', Number(id)).executeTakeFirst()
      return row && toArticle(row)
    },
    byAuthor: async (author) => (await db.selectFrom('articles').selectAll().where('author', '=', author).execute()).map(toArticle).length,
    scoreRange: async (gte, lt) =>
      (await db.selectFrom('articles').selectAll().where('score', '>=', gte).where('score', '<', lt).execute()).map(toArticle).length,
    close: () => db.destroy(),
  }
}
