/**
 * The systems bench/queries.ts compares on the same articles (bench/peers/workload.ts) and the same four
 * queries: Stowage's find(), the hand-written plans a careful user writes over index() views today,
 * better-sqlite3 with the same indexes, and NeDB's find(). Every query returns the matching articles
 * as objects (rows and documents made into objects as each system gives them).
 */
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import Sqlite from 'better-sqlite3'
import nedb from '@seald-io/nedb'
import { Database, Index, Model, Property, StoredObject, Types, type Engine } from '../src/index.js'
import { STATUSES, type ArticleData } from './peers/workload.js'

/** The queries' parameters. */
export interface Params {
  author: string
  status: string
  tag: string
  gte: number
  lt: number
}

/** A result as the checker reads it: every system's objects have these. */
export interface Found {
  title: string
  score: number
}

export interface QuerySystem {
  /** author = ? AND status = ? (a rare key, ~100 articles, and a common one, 25%). */
  rareAndCommon(p: Params): Promise<Found[]> | Found[]
  /** status = ? AND tags has ? (two common keys: 25% and ~6%). */
  twoCommon(p: Params): Promise<Found[]> | Found[]
  /** gte <= score < lt (1%) AND status = ?. */
  rangeAndEquality(p: Params): Promise<Found[]> | Found[]
  /** tags has ?, by score descending (ties: newest first), the first 20. */
  topByScore(p: Params): Promise<Found[]> | Found[]
}

export type QueryName = keyof QuerySystem

export const TOP = 20

/** The article's members, declared once; each engine gets a model class of its own below. */
class ArticleFields extends StoredObject {
  @Property(Types.STRING) title!: string
  @Property(Types.STRING) @Index() author!: string
  @Property(Types.ENUM(...STATUSES)) @Index() status!: string
  @Property(Types.LIST(Types.STRING)) @Index() tags!: string[]
  @Property(Types.INTEGER) @Index() score!: number
  @Property(Types.STRING) body!: string
}

// One model class per engine: a model class belongs to one open database at a time.
@Model({ collection: 'articles' })
export class LevelArticle extends ArticleFields {}

@Model({ collection: 'articles' })
export class LmdbArticle extends ArticleFields {}

export type ArticleClass = typeof LevelArticle
type Article = LevelArticle

/**
 * Opens a Stowage database on `engine` with an LRU of 0 (every query reads what it returns from the
 * store, as a query over 100k articles mostly would), loads the articles unless already there.
 */
export async function openStowage(model: ArticleClass, engine: Engine, articles: ArticleData[]): Promise<Database> {
  const db = await Database.open({ engine, models: [model], cache: { max: 0 } })
  for (let i = 0; i < articles.length; i += 1000) {
    await db.transaction(() => {
      for (const a of articles.slice(i, i + 1000)) new model(a)
    })
  }
  return db
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = []
  for await (const x of it) out.push(x)
  return out
}

/** Stowage's find(), one query per call. */
export function stowageFind(A: ArticleClass): QuerySystem {
  return {
    rareAndCommon: (p) => collect(A.find({ where: { author: p.author, status: p.status } })),
    twoCommon: (p) => collect(A.find({ where: { status: p.status, tags: p.tag } })),
    rangeAndEquality: (p) => collect(A.find({ where: { score: { gte: p.gte, lt: p.lt }, status: p.status } })),
    topByScore: (p) => collect(A.find({ where: { tags: p.tag }, orderBy: { score: 'desc' }, limit: TOP })),
  }
}

/** The query's find() options, for explain(). */
export function findOptions(name: QueryName, p: Params) {
  switch (name) {
    case 'rareAndCommon':
      return { where: { author: p.author, status: p.status } }
    case 'twoCommon':
      return { where: { status: p.status, tags: p.tag } }
    case 'rangeAndEquality':
      return { where: { score: { gte: p.gte, lt: p.lt }, status: p.status } }
    case 'topByScore':
      return { where: { tags: p.tag }, orderBy: { score: 'desc' as const }, limit: TOP }
  }
}

/**
 * Objects read by the hand-written plans: counted for the report, and kept while `keep` is set so
 * that a run can drop them from the identity map afterwards (see `forgetting`).
 */
export const handWrittenReads = { objects: 0, keep: false, read: [] as Article[] }

/** Scans `driver`'s objects, keeping those `keep` accepts (the other conditions, checked on the object). */
async function scan(driver: AsyncIterable<Article>, keep: (a: Article) => boolean, limit = Infinity): Promise<Article[]> {
  const out: Article[] = []
  for await (const a of driver) {
    handWrittenReads.objects++
    if (handWrittenReads.keep) handWrittenReads.read.push(a)
    if (!keep(a)) continue
    out.push(a)
    if (out.length >= limit) break // leaving the loop ends the index scan
  }
  return out
}

/**
 * The hand-written plans as a careful user writes them over index() views (the notes example's
 * search before find()): for two equality conditions, count() both keys and drive by the rarer one,
 * checking the other on the objects; a narrow range drives itself; a sorted query with a limit walks
 * the sort index in order and stops at the limit. With `counted: false`, the driver is the one the
 * counts would pick, fixed in advance (a user who knows the data), so no count is paid.
 */
export function handWritten(A: ArticleClass, counted: boolean): QuerySystem {
  const byAuthor = A.index('author')
  const byStatus = A.index('status')
  const byTags = A.index('tags')
  const rarer = async (a: [() => Promise<number>, () => Promise<Article[]>], b: [() => Promise<number>, () => Promise<Article[]>]) => {
    if (!counted) return a[1]()
    const [na, nb] = await Promise.all([a[0](), b[0]()])
    return na <= nb ? a[1]() : b[1]()
  }
  return {
    rareAndCommon: (p) =>
      rarer(
        [() => byAuthor.count(p.author), () => scan(byAuthor.get(p.author), (a) => a.status === p.status)],
        [() => byStatus.count(p.status), () => scan(byStatus.get(p.status), (a) => a.author === p.author)],
      ),
    twoCommon: (p) =>
      rarer(
        [() => byTags.count(p.tag), () => scan(byTags.get(p.tag), (a) => a.status === p.status)],
        [() => byStatus.count(p.status), () => scan(byStatus.get(p.status), (a) => a.tags.includes(p.tag))],
      ),
    rangeAndEquality: (p) => scan(A.index('score').list({ gte: p.gte, lt: p.lt }), (a) => a.status === p.status),
    topByScore: (p) => scan(A.index('score').list({ reverse: true }), (a) => a.tags.includes(p.tag), TOP),
  }
}

/**
 * The system with every object its query read dropped from the identity map afterwards, so that no
 * query finds objects a previous one left in memory (weakly held until collected): every read goes
 * to the store, as for data not in memory. find() reads only the objects it returns.
 */
export function forgetting(db: Database, system: QuerySystem, handWrittenPlan: boolean): QuerySystem {
  const wrap =
    (run: (p: Params) => Promise<Found[]> | Found[]) =>
    async (p: Params): Promise<Found[]> => {
      handWrittenReads.keep = handWrittenPlan
      try {
        const out = await run(p)
        for (const obj of handWrittenPlan ? handWrittenReads.read : (out as Article[])) db.identity.delete('articles', obj.oid)
        return out
      } finally {
        handWrittenReads.keep = false
        handWrittenReads.read = []
      }
    }
  return { rareAndCommon: wrap(system.rareAndCommon), twoCommon: wrap(system.twoCommon), rangeAndEquality: wrap(system.rangeAndEquality), topByScore: wrap(system.topByScore) }
}

interface Row { id: number; title: string; author: string; status: string; tags: string; score: number; body: string }
const toArticle = (r: Row) => ({ ...r, tags: JSON.parse(r.tags) as string[] })

/**
 * better-sqlite3 as bench/peers/sqlite.ts opens it (WAL, synchronous=NORMAL), with the same indexes
 * as the Stowage model: author, status, score, and tags in a table of (tag, article) pairs indexed
 * by tag (SQL's way to index a list). ANALYZE after loading, so its planner has statistics too.
 */
export function openSqlite(dir: string, articles: ArticleData[], sample: Params): { system: QuerySystem; plans: Record<QueryName, string>; close(): void } {
  mkdirSync(join(dir, 'sqlite'), { recursive: true })
  const db = new Sqlite(join(dir, 'sqlite', 'articles.db'))
  db.pragma('journal_mode = WAL')
  db.pragma('synchronous = NORMAL')
  db.exec(`CREATE TABLE articles (id INTEGER PRIMARY KEY, title TEXT NOT NULL, author TEXT NOT NULL, status TEXT NOT NULL, tags TEXT NOT NULL, score INTEGER NOT NULL, body TEXT NOT NULL);
    CREATE TABLE article_tags (tag TEXT NOT NULL, article INTEGER NOT NULL, PRIMARY KEY (tag, article)) WITHOUT ROWID;
    CREATE INDEX articles_author ON articles (author);
    CREATE INDEX articles_status ON articles (status);
    CREATE INDEX articles_score ON articles (score);`)
  const insertArticle = db.prepare('INSERT INTO articles (title, author, status, tags, score, body) VALUES (?, ?, ?, ?, ?, ?)')
  const insertTag = db.prepare('INSERT OR IGNORE INTO article_tags (tag, article) VALUES (?, ?)')
  const insertMany = db.transaction((batch: ArticleData[]) => {
    for (const a of batch) {
      const id = insertArticle.run(a.title, a.author, a.status, JSON.stringify(a.tags), a.score, a.body).lastInsertRowid
      for (const tag of a.tags) insertTag.run(tag, id)
    }
  })
  for (let i = 0; i < articles.length; i += 1000) insertMany(articles.slice(i, i + 1000))
  db.exec('ANALYZE')
  const sql: Record<QueryName, string> = {
    rareAndCommon: 'SELECT * FROM articles WHERE author = ? AND status = ?',
    twoCommon: 'SELECT * FROM articles WHERE status = ? AND id IN (SELECT article FROM article_tags WHERE tag = ?)',
    rangeAndEquality: 'SELECT * FROM articles WHERE score >= ? AND score < ? AND status = ?',
    topByScore: `SELECT * FROM articles WHERE id IN (SELECT article FROM article_tags WHERE tag = ?) ORDER BY score DESC, id DESC LIMIT ${TOP}`,
  }
  const args: Record<QueryName, (p: Params) => unknown[]> = {
    rareAndCommon: (p) => [p.author, p.status],
    twoCommon: (p) => [p.status, p.tag],
    rangeAndEquality: (p) => [p.gte, p.lt, p.status],
    topByScore: (p) => [p.tag],
  }
  const stmt = (name: QueryName) => {
    const s = db.prepare<unknown[], Row>(sql[name])
    return (p: Params) => s.all(...args[name](p)).map(toArticle)
  }
  const plans = {} as Record<QueryName, string>
  for (const name of Object.keys(sql) as QueryName[]) {
    const rows = db.prepare<unknown[], { detail: string }>('EXPLAIN QUERY PLAN ' + sql[name]).all(...args[name](sample))
    plans[name] = rows.map((r) => r.detail).join('; ')
  }
  return {
    system: { rareAndCommon: stmt('rareAndCommon'), twoCommon: stmt('twoCommon'), rangeAndEquality: stmt('rangeAndEquality'), topByScore: stmt('topByScore') },
    plans,
    close: () => void db.close(),
  }
}

// The package is CommonJS (module.exports = Datastore) while its typings declare `export default`.
const Datastore = nedb as unknown as typeof nedb.default

/** NeDB as bench/peers/nedb.ts opens it, with ensureIndex on author, status, score and tags. */
export async function openNedb(dir: string, articles: ArticleData[]): Promise<QuerySystem> {
  const db = new Datastore<ArticleData>({ filename: join(dir, 'nedb', 'articles.db') })
  await db.loadDatabaseAsync()
  for (const fieldName of ['author', 'status', 'score', 'tags']) await db.ensureIndexAsync({ fieldName })
  for (let i = 0; i < articles.length; i += 1000) await db.insertAsync(articles.slice(i, i + 1000))
  return {
    rareAndCommon: (p) => db.findAsync({ author: p.author, status: p.status }),
    twoCommon: (p) => db.findAsync({ status: p.status, tags: p.tag }),
    rangeAndEquality: (p) => db.findAsync({ score: { $gte: p.gte, $lt: p.lt }, status: p.status }),
    topByScore: (p) => db.findAsync({ tags: p.tag }).sort({ score: -1 }).limit(TOP),
  }
}
