/**
 * The store service: answers protocol requests from a Database. It runs where Stowage can run
 * (Electron's main process or a utility process) and knows nothing of the transport: adapters
 * (electron-ipc.ts, channel.ts) hand it whatever a renderer sent and send back what it answers.
 */
import { ArgumentError, ClosedError, Indexing, isOid, NotFoundError, StowageError, ValidationError, type Database } from '../../src/index.js'
import type { RequestHandler } from './channel.js'
import { Note } from './models.js'
import { OPERATIONS, type NoteView, type Operation, type Response, type Result, type WireError } from './protocol.js'

/** A request that is not a request at all, or names no known operation. */
export class ProtocolError extends StowageError {
  constructor(code: 'BAD_REQUEST' | 'UNKNOWN_OPERATION', message: string) {
    super(code, message)
  }
}

export interface NotesServiceOptions {
  /** Where unexpected errors go (default console.error); the renderer only learns 'INTERNAL'. */
  log?: (message: string, err: unknown) => void
}

const MAX_LIMIT = 500

type Handlers = { [O in Operation]: (args: Record<string, unknown>) => Promise<Result<O>> }

export class NotesService implements RequestHandler {
  readonly #db: Database
  readonly #log: (message: string, err: unknown) => void
  readonly #inFlight = new Set<Promise<Response>>()
  #closing: Promise<void> | undefined

  constructor(db: Database, options: NotesServiceOptions = {}) {
    this.#db = db
    this.#log = options.log ?? ((message, err) => console.error(message, err))
  }

  /** Answers one request. Never rejects: every failure is an `{ ok: false, error }` answer. */
  handle(request: unknown): Promise<Response> {
    if (this.#closing !== undefined) return Promise.resolve(failure(new ClosedError('The store is closing')))
    const answer = this.#answer(request)
    this.#inFlight.add(answer)
    void answer.finally(() => this.#inFlight.delete(answer))
    return answer
  }

  /**
   * Stops taking requests (later ones get CLOSED), lets those already taken finish, then closes the
   * database. Waiting for them matters: db.close() waits for writes already issued, but a request
   * may still be reading (a list, a search, the note an update changes) and would fail halfway.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await Promise.allSettled([...this.#inFlight])
      await this.#db.close()
    })()
    return this.#closing
  }

  async #answer(request: unknown): Promise<Response> {
    try {
      const { op, args } = parseRequest(request)
      const value = await this.#handlers[op](args)
      return { ok: true, value } as Response
    } catch (err) {
      if (!(err instanceof StowageError)) this.#log('Unexpected error while answering a store request', err)
      return failure(err)
    }
  }

  readonly #handlers: Handlers = {
    'notes.create': async (args) => {
      const input = fields(args, 'notes.create', { title: 'string', body: 'string?', tags: 'strings?', created: 'date?' })
      return view(await Note.create(defined(input)))
    },
    'notes.get': async (args) => {
      const note = await Note.get(oidOf(args, 'notes.get'))
      return note === undefined ? null : view(note)
    },
    'notes.list': async (args) => {
      const { offset, limit } = fields(args, 'notes.list', { offset: 'count?', limit: 'count?' })
      const notes: NoteView[] = []
      for await (const note of Note.index('created').list({ reverse: true, offset: offset ?? 0, limit: Math.min(limit ?? 50, MAX_LIMIT) })) notes.push(view(note))
      return notes
    },
    'notes.search': async (args) => {
      const query = fields(args, 'notes.search', { tag: 'string?', text: 'string?', limit: 'count?' })
      return search(query.tag, query.text, Math.min(query.limit ?? 50, MAX_LIMIT))
    },
    'notes.update': async (args) => {
      const { oid, changes } = fields(args, 'notes.update', { oid: 'string', changes: 'object' })
      const props = fields(changes, 'notes.update changes', { title: 'string?', body: 'string?', tags: 'strings?' })
      const note = await existing(oid, 'notes.update')
      return view(await note.update(defined(props)))
    },
    'notes.remove': async (args) => {
      await (await existing(oidOf(args, 'notes.remove'), 'notes.remove')).remove()
      return true
    },
    'notes.count': async (args) => {
      fields(args, 'notes.count', {})
      return Note.count()
    },
  }
}

export function failure(err: unknown): Response {
  return { ok: false, error: wireError(err) }
}

/** What a renderer learns of an error: a StowageError's code and message; of anything else, nothing. */
export function wireError(err: unknown): WireError {
  if (!(err instanceof StowageError)) return { code: 'INTERNAL', message: 'The store failed to answer; see its log' }
  const error: WireError = { code: err.code, message: err.message }
  if (err instanceof ValidationError) error.errors = err.errors.map((e) => ({ property: e.property, value: cloneable(e.value), reason: e.reason }))
  return error
}

function parseRequest(request: unknown): { op: Operation; args: Record<string, unknown> } {
  if (!isRecord(request)) throw new ProtocolError('BAD_REQUEST', `A store request is an object { op, args }, got ${describe(request)}`)
  const { op, args } = request
  if (typeof op !== 'string') throw new ProtocolError('BAD_REQUEST', `A store request names its operation in op, got ${describe(op)}`)
  if (!(OPERATIONS as readonly string[]).includes(op)) throw new ProtocolError('UNKNOWN_OPERATION', `Unknown operation ${JSON.stringify(op)}; the store answers ${OPERATIONS.join(', ')}`)
  if (!isRecord(args)) throw new ArgumentError(`${op}: args must be an object, got ${describe(args)}`)
  return { op: op as Operation, args }
}

type FieldType = 'string' | 'string?' | 'strings?' | 'date?' | 'count?' | 'object'
type FieldValue<T extends FieldType> = T extends 'string'
  ? string
  : T extends 'string?'
    ? string | undefined
    : T extends 'strings?'
      ? string[] | undefined
      : T extends 'date?'
        ? Date | undefined
        : T extends 'count?'
          ? number | undefined
          : Record<string, unknown>

/**
 * Checks a payload's fields before anything touches the store: unknown fields and wrong types
 * are refused with ArgumentError (the model then validates the values themselves on save).
 */
function fields<S extends Record<string, FieldType>>(args: Record<string, unknown>, label: string, shape: S): { [K in keyof S]: FieldValue<S[K]> } {
  const unknown = Object.keys(args).filter((key) => !Object.hasOwn(shape, key))
  if (unknown.length > 0) throw new ArgumentError(`${label}: unknown field(s) ${unknown.map((k) => JSON.stringify(k)).join(', ')}`)
  for (const [key, type] of Object.entries(shape)) {
    const value = args[key]
    if (value === undefined && type.endsWith('?')) continue
    const ok =
      type === 'string' || type === 'string?'
        ? typeof value === 'string'
        : type === 'strings?'
          ? Array.isArray(value) && value.every((v) => typeof v === 'string')
          : type === 'date?'
            ? value instanceof Date && !Number.isNaN(value.getTime())
            : type === 'count?'
              ? Number.isSafeInteger(value) && (value as number) >= 0
              : isRecord(value)
    const wanted = { string: 'a string', 'string?': 'a string', 'strings?': 'a list of strings', 'date?': 'a valid Date', 'count?': 'an integer >= 0', object: 'an object' }[type]
    if (!ok) throw new ArgumentError(`${label}: ${key} must be ${wanted}, got ${describe(value)}`)
  }
  return args as { [K in keyof S]: FieldValue<S[K]> }
}

function oidOf(args: Record<string, unknown>, label: string): string {
  const { oid } = fields(args, label, { oid: 'string' })
  if (!isOid(oid)) throw new ArgumentError(`${label}: ${JSON.stringify(oid)} is not a note id`)
  return oid
}

async function existing(oid: string, label: string): Promise<Note> {
  if (!isOid(oid)) throw new ArgumentError(`${label}: ${JSON.stringify(oid)} is not a note id`)
  const note = await Note.get(oid)
  if (note === undefined) throw new NotFoundError(`${label}: no note ${oid}`)
  return note
}

/** Notes with the tag and every word of the text, newest first; `find()` picks the index to drive it. */
async function search(tag: string | undefined, text: string | undefined, limit: number): Promise<NoteView[]> {
  const words = text === undefined ? [] : Indexing.keywords(text)
  if (text !== undefined && words.length === 0) throw new ArgumentError(`notes.search: ${JSON.stringify(text)} has no word of 3 letters or more`)
  const tagKey = tag === undefined ? undefined : (Indexing.keyword(tag) as string)
  if (tagKey === undefined && words.length === 0) throw new ArgumentError('notes.search: give a tag, a text, or both')
  const found: NoteView[] = []
  const where = { words: words.length > 0 ? { all: words } : undefined, tags: tagKey }
  for await (const note of Note.find({ where, orderBy: { created: 'desc' }, limit })) found.push(view(note))
  return found
}

/** Plain copies: a live instance's values must not cross the boundary (nor be cloned from under a writer). */
function view(note: Note): NoteView {
  return {
    oid: note.oid,
    title: note.title,
    body: note.body,
    tags: [...note.tags],
    created: new Date(note.created.getTime()),
    updated: new Date(note.getUpdateTime() ?? note.created.getTime()),
  }
}

function defined<T extends object>(props: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(props).filter(([, v]) => v !== undefined)) as { [K in keyof T]: Exclude<T[K], undefined> }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false
  const proto = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}

function cloneable(value: unknown): unknown {
  try {
    return structuredClone(value)
  } catch {
    return describe(value)
  }
}

function describe(value: unknown): string {
  if (value === null || value === undefined) return String(value)
  if (Array.isArray(value)) return 'an array'
  if (value instanceof Date) return 'a Date'
  if (typeof value === 'object') return `an object (${Object.getPrototypeOf(value)?.constructor?.name ?? 'no prototype'})`
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`
  return `${typeof value} ${String(value)}`
}
