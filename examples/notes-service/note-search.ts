/**
 * Listing and searching notes with `Note.find()`: the criteria a request gives become one query,
 * and Stowage's planner picks the index to drive it (the rarest keyword, a tag, the owner, the date
 * range, or the sort index when the page is small and the matches are many). Results come newest
 * first unless `sort` says otherwise.
 */
import { Indexing, isOid, type Query, type SortDirection } from '../../src/index.js'
import { badRequest } from './http/http-error.js'
import { Note } from './models.js'

export interface NoteQuery {
  /** Every one of these keywords (normalized like the index) in the title or body. */
  words: string[]
  /** Any of these tags (normalized like the index). */
  tags: string[]
  /** Created at or after. */
  from?: Date
  /** Created before. */
  to?: Date
  owner?: string
  sort: { created: SortDirection } | { title: SortDirection }
  offset: number
  limit: number
}

const DEFAULT_LIMIT = 50
const MAX_LIMIT = 500
const SORTS = ['-created', 'created', 'title', '-title']

/** Reads `?q=&tag=&from=&to=&owner=&sort=&offset=&limit=` (`tag` may repeat); 400 on a malformed value. */
export function parseNoteQuery(params: URLSearchParams): NoteQuery {
  const known = new Set(['q', 'tag', 'from', 'to', 'owner', 'sort', 'offset', 'limit'])
  for (const key of params.keys()) if (!known.has(key)) throw badRequest(`Unknown query parameter ${JSON.stringify(key)}; use ${[...known].join(', ')}`)
  const query: NoteQuery = {
    words: [],
    tags: params.getAll('tag').map((tag) => Indexing.keyword(tag) as string),
    sort: { created: 'desc' },
    offset: integer(params, 'offset', 0, Infinity),
    limit: integer(params, 'limit', DEFAULT_LIMIT, MAX_LIMIT),
  }
  const q = params.get('q')
  if (q !== null) {
    query.words = Indexing.keywords(q)
    if (query.words.length === 0) throw badRequest(`q=${JSON.stringify(q)} has no word of 3 letters or more to search for`)
  }
  query.from = date(params, 'from')
  query.to = date(params, 'to')
  if (query.from !== undefined && query.to !== undefined && query.from >= query.to) throw badRequest('from must be before to')
  const owner = params.get('owner')
  if (owner !== null) {
    if (!isOid(owner)) throw badRequest(`owner=${JSON.stringify(owner)} is not an account id`)
    query.owner = owner
  }
  const sort = params.get('sort')
  if (sort !== null) {
    if (!SORTS.includes(sort)) throw badRequest(`sort=${JSON.stringify(sort)}: use one of ${SORTS.join(', ')} (- for descending)`)
    const direction: SortDirection = sort.startsWith('-') ? 'desc' : 'asc'
    query.sort = sort.endsWith('title') ? { title: direction } : { created: direction }
  }
  return query
}

/** The notes matching the query, one page of them in its order. */
export function findNotes(query: NoteQuery): Query<Note> {
  const dated = query.from !== undefined || query.to !== undefined
  return Note.find({
    where: {
      // Criteria left out are undefined, and find() leaves them out.
      keywords: query.words.length > 0 ? { all: query.words } : undefined,
      tags: query.tags.length > 0 ? { in: query.tags } : undefined,
      created: dated ? { gte: query.from, lt: query.to } : undefined,
      owner: query.owner,
    },
    orderBy: query.sort,
    offset: query.offset,
    limit: query.limit,
  })
}

function integer(params: URLSearchParams, name: string, fallback: number, max: number): number {
  const text = params.get(name)
  if (text === null) return fallback
  const n = Number(text)
  if (!/^\d+$/.test(text) || n > max) throw badRequest(`${name}=${JSON.stringify(text)} must be an integer from 0${max === Infinity ? '' : ` to ${max}`}`)
  return n
}

function date(params: URLSearchParams, name: string): Date | undefined {
  const text = params.get(name)
  if (text === null) return undefined
  const time = Date.parse(text)
  if (Number.isNaN(time)) throw badRequest(`${name}=${JSON.stringify(text)} is not a date (use ISO 8601, e.g. 2024-05-01 or 2024-05-01T12:00:00Z)`)
  return new Date(time)
}

/** Every tag in use with how many notes carry it, in tag order. */
export async function tagCounts(): Promise<Array<{ tag: string; count: number }>> {
  const byTag = Note.index('tags')
  const out: Array<{ tag: string; count: number }> = []
  for await (const tag of byTag.keys()) out.push({ tag: String(tag), count: await byTag.count(tag) })
  return out
}
