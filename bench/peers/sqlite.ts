/**
 * better-sqlite3 with prepared statements: one table, tags as a JSON column, SQL indexes on author,
 * status and score, one transaction per batch; WAL with synchronous=NORMAL (as better-sqlite3's docs
 * advise: a commit survives a crash of the process, like LevelDB's unsynced batches). Rows are
 * made into the same objects as the others (tags parsed).
 */
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import Sqlite from 'better-sqlite3'
import type { ArticleData, Id, PeerStore } from './workload.js'

export const SCHEMA = [
  'CREATE TABLE IF NOT EXISTS articles (id INTEGER PRIMARY KEY, title TEXT NOT NULL, author TEXT NOT NULL, status TEXT NOT NULL, tags TEXT NOT NULL, score INTEGER NOT NULL, body TEXT NOT NULL)',
  'CREATE INDEX IF NOT EXISTS articles_author ON articles (author)',
  'CREATE INDEX IF NOT EXISTS articles_status ON articles (status)',
  'CREATE INDEX IF NOT EXISTS articles_score ON articles (score)',
]

export function openSqlite(file: string): Sqlite.Database {
  const db = new Sqlite(file)
  db.pragma('journal_mode = WAL')
  db.pragma('synchronous = NORMAL')
  for (const sql of SCHEMA) db.exec(sql)
  return db
}

interface Row { id: number; title: string; author: string; status: string; tags: string; score: number; body: string }
const toArticle = (r: Row) => ({ ...r, tags: JSON.parse(r.tags) as string[] })

export async function open(dir: string): Promise<PeerStore> {
  mkdirSync(join(dir, 'sqlite'), { recursive: true })
  const db = openSqlite(join(dir, 'sqlite', 'articles.db'))
  const insertOne = db.prepare('INSERT INTO articles (title, author, status, tags, score, body) VALUES (?, ?, ?, ?, ?, ?)')
  const insertMany = db.transaction((batch: ArticleData[]) =>
    batch.map((a) => insertOne.run(a.title, a.author, a.status, JSON.stringify(a.tags), a.score, a.body).lastInsertRowid as number),
  )
  const byId = db.prepare<[number], Row>('SELECT * FROM articles WHERE id = ?')
  const byAuthor = db.prepare<[string], Row>('SELECT * FROM articles WHERE author = ?')
  const byScore = db.prepare<[number, number], Row>('SELECT * FROM articles WHERE score >= ? AND score < ?')
  return {
    insert: (batch: ArticleData[]): Id[] => insertMany(batch),
    get(id) {
      const row = byId.get(Number(id))
      return row && toArticle(row)
    },
    byAuthor: (author) => byAuthor.all(author).map(toArticle).length,
    scoreRange: (gte, lt) => byScore.all(gte, lt).map(toArticle).length,
    close: () => void db.close(),
  }
}
