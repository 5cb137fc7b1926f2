/**
 * Listing and searching notes. One index drives the scan (the most selective one the query names)
 * and the other criteria filter what it gives, so a search never reads the whole collection unless
 * the query names nothing at all. Results come newest first.
 */
import { Indexing, isOid, type IndexView } from '../../src/index.js'
import { badRequest } from './http/http-error.js'
import { Note } from './models.js'

export interface NoteQuery {
  /** Every one of these keywords (normalized like the index) in the title or body. */
  words: string[]
  /** This tag (normalized like the index). */
  tag?: string
  /** Created at or after. */
  from?: Date
  /** Created before. */
  to?: Date
  owner?: string
  offset: number
  limit: number
}

const DEFAULT_LIMIT = 50
const MAX_LIMIT = 500

/** Reads `?q=&tag=&from=&to=&owner=&offset=&limit=`; 400 on a malformed value. */
export function parseNoteQuery(params: URLSearchParams): NoteQuery {
  const known = new Set(['q', 'tag', 'from', 'to', 'owner', 'offset', 'limit'])
  for (const key of params.keys()) if (!known.has(key)) throw badRequest(`Unknown query parameter ${JSON.stringify(key)}; use ${[...known].join(', ')}`)
  const query: NoteQuery = { words: [], offset: integer(params, 'offset', 0, Infinity), limit: integer(params, 'limit', DEFAULT_LIMIT, MAX_LIMIT) }
  const q = params.get('q')
  if (q !== null) {
    query.words = Indexing.keywords(q)
    if (query.words.length === 0) throw badRequest(`q=${JSON.stringify(q)} has no word of 3 letters or more to search for`)
  }
  const tag = params.get('tag')
  if (tag !== null) query.tag = Indexing.keyword(tag) as string
  query.from = date(params, 'from')
  query.to = date(params, 'to')
  if (query.from !== undefined && query.to !== undefined && query.from > query.to) throw badRequest('from must not be after to')
  const owner = params.get('owner')
  if (owner !== null) {
    if (!isOid(owner)) throw badRequest(`owner=${JSON.stringify(owner)} is not an account id`)
    query.owner = owner
  }
  return query
}

export async function findNotes(query: NoteQuery): Promise<Note[]> {
  const found: Note[] = []
  let skipped = 0
  for await (const note of await candidates(query)) {
    if (!matches(note, query)) continue
    if (skipped++ < query.offset) continue
    found.push(note)
    if (found.length >= query.limit) break // leaving the loop ends the index scan
  }
  return found
}

/** The notes of the most selective index the query names, newest first. */
async function candidates(query: NoteQuery): Promise<AsyncIterable<Note>> {
  const exactly = (view: IndexView<Note>, key: string) => view.list({ gte: key, lte: key, reverse: true })
  if (query.words.length > 0) {
    // The rarest word: counting reads index keys only, never notes.
    const byWord = Note.index('keywords')
    const counts = await Promise.all(query.words.map((w) => byWord.count(w)))
    const rarest = query.words[counts.indexOf(Math.min(...counts))]!
    return exactly(byWord, rarest)
  }
  if (query.tag !== undefined) return exactly(Note.index('tags'), query.tag)
  if (query.owner !== undefined && query.from === undefined && query.to === undefined) return exactly(Note.index('owner'), query.owner)
  return Note.index('created').list({
    ...(query.from !== undefined ? { gte: query.from } : {}),
    ...(query.to !== undefined ? { lt: query.to } : {}),
    reverse: true,
  })
}

function matches(note: Note, query: NoteQuery): boolean {
  if (query.words.length > 0) {
    const words = new Set(Indexing.keywords([note.title, note.body]))
    if (!query.words.every((w) => words.has(w))) return false
  }
  if (query.tag !== undefined && !(Indexing.keyword(note.tags) as string[]).includes(query.tag)) return false
  if (query.from !== undefined && note.created < query.from) return false
  if (query.to !== undefined && note.created >= query.to) return false
  if (query.owner !== undefined && note.owner.oid !== query.owner) return false
  return true
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
