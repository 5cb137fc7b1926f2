/**
 * The data and the queries every system gets, the same for all (seeded, so two runs and two systems
 * see identical articles and keys), and the interface a system implements to be measured.
 */

export interface ArticleData {
  title: string
  author: string
  status: string
  tags: string[]
  score: number
  body: string
}

export type Id = string | number

/**
 * One system opened on one directory. Reads return what the system naturally returns (objects, rows
 * made into objects); the counts let the runner check that every system found the same articles.
 */
export interface PeerStore {
  /** Stores one batch (one transaction where the system has them) and returns the ids it got, in order. */
  insert(batch: ArticleData[]): Promise<Id[]> | Id[]
  /** After the last batch: systems that persist by rewriting a whole file write it here. */
  flush?(): Promise<void> | void
  get(id: Id): Promise<unknown> | unknown
  /** Every article by that author, materialized; returns how many. */
  byAuthor(author: string): Promise<number> | number
  /** Every article with gte <= score < lt, materialized; returns how many. */
  scoreRange(gte: number, lt: number): Promise<number> | number
  close(): Promise<void> | void
}

export interface Peer {
  /** Opens (creating if needed) the system's store under dir, with its indexes on author, status and score. */
  open(dir: string): Promise<PeerStore>
}

export const BATCH = 1000
export const GETS = 10_000
export const LOOKUPS = 1000
export const RANGES = 100
export const SCORE_MAX = 1_000_000
/** 1% of the scores. */
export const SPAN = SCORE_MAX / 100

const FIRST = ['Ada', 'Alan', 'Barbara', 'Brian', 'Claude', 'Dennis', 'Donald', 'Edsger', 'Frances', 'Grace',
  'Guido', 'Hedy', 'Ivan', 'John', 'Ken', 'Leslie', 'Linus', 'Margaret', 'Niklaus', 'Radia',
  'Richard', 'Robin', 'Shafi', 'Sophie', 'Tim', 'Tony', 'Vint', 'Whitfield', 'Yukihiro', 'Zhores',
  'Anita', 'Bjarne', 'Carol', 'Dana', 'Erich', 'Fran', 'Gilles', 'Hal', 'Jean', 'Kathleen']
const LAST = ['Lovelace', 'Turing', 'Liskov', 'Kernighan', 'Shannon', 'Ritchie', 'Knuth', 'Dijkstra', 'Allen', 'Hopper',
  'Rossum', 'Lamarr', 'Sutherland', 'McCarthy', 'Thompson', 'Lamport', 'Torvalds', 'Hamilton', 'Wirth', 'Perlman',
  'Stallman', 'Milner', 'Goldwasser', 'Wilson', 'Berners-Lee']
/** 1,000 distinct names (40 first names x 25 last names). */
export const AUTHORS = Array.from({ length: 1000 }, (_, k) => `${FIRST[k % 40]} ${LAST[Math.floor(k / 40)]}`)
export const STATUSES = ['draft', 'review', 'published', 'archived']
const TAGS = Array.from({ length: 50 }, (_, k) => `tag${k}`)
const WORDS = 'lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore et dolore magna aliqua enim ad minim veniam quis nostrud exercitation ullamco laboris nisi aliquip ex ea commodo consequat'.split(' ')

/** A small fast PRNG (mulberry32); `rng(seed)()` gives floats in [0, 1). */
export function rng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** The articles of the batch that starts at `start` (BATCH of them, fewer at the end of n). */
export function articleBatch(start: number, n: number): ArticleData[] {
  const batch: ArticleData[] = []
  for (let i = start; i < Math.min(n, start + BATCH); i++) batch.push(article(i))
  return batch
}

/** Article number i, the same in every process. */
export function article(i: number): ArticleData {
  const r = rng(Math.imul(i + 1, 2654435761))
  const pick = <T>(list: readonly T[]) => list[Math.floor(r() * list.length)]!
  let body = `Article ${i}.`
  while (body.length < 150) body += ' ' + pick(WORDS)
  return {
    title: `On ${pick(WORDS)} and ${pick(WORDS)}, part ${i}`,
    author: pick(AUTHORS),
    status: pick(STATUSES),
    tags: [pick(TAGS), pick(TAGS), pick(TAGS)],
    score: Math.floor(r() * SCORE_MAX),
    body: body.slice(0, 150),
  }
}

/** The queries, drawn once from a fixed seed for a given n. */
export function queries(n: number) {
  const r = rng(12345)
  const int = (m: number) => Math.floor(r() * m)
  return {
    gets: Array.from({ length: GETS }, () => int(n)),
    authors: Array.from({ length: LOOKUPS }, () => AUTHORS[int(AUTHORS.length)]!),
    ranges: Array.from({ length: RANGES }, () => int(SCORE_MAX - SPAN)),
    /** The article the reopened store reads first. */
    first: Math.floor(n / 2),
  }
}
