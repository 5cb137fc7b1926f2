/**
 * The messages renderers and the store service exchange. This module is shared by both sides and
 * holds no Stowage code at run time (only `import type`), so a renderer bundle that imports it
 * stays free of LevelDB's native addon.
 *
 * Every message is structured-cloneable: Electron's IPC, worker_threads ports and child processes
 * forked with `serialization: 'advanced'` all carry Dates and Uint8Arrays as they are.
 */
import type { PropertyError } from '../../src/index.js'

/** The Electron IPC channel of the store. preload.ts repeats it (a sandboxed preload imports nothing). */
export const STORE_CHANNEL = 'stowage:notes'

/** A note as renderers see it: plain data, no live instance. */
export interface NoteView {
  oid: string
  title: string
  body: string
  tags: string[]
  created: Date
  /** When the note was last saved. */
  updated: Date
}

export interface NoteInput {
  title: string
  body?: string
  tags?: string[]
  /** Defaults to now. */
  created?: Date
}

export type NoteChanges = Partial<Pick<NoteInput, 'title' | 'body' | 'tags'>>

/** Every operation: its arguments and its result. */
export interface Operations {
  'notes.create': { args: NoteInput; result: NoteView }
  'notes.get': { args: { oid: string }; result: NoteView | null }
  /** Newest first. */
  'notes.list': { args: { offset?: number; limit?: number }; result: NoteView[] }
  /** By the tag index or the keyword index (every word of `text`), newest first. */
  'notes.search': { args: { tag?: string; text?: string; limit?: number }; result: NoteView[] }
  'notes.update': { args: { oid: string; changes: NoteChanges }; result: NoteView }
  'notes.remove': { args: { oid: string }; result: true }
  'notes.count': { args: Record<string, never>; result: number }
}

export type Operation = keyof Operations
export type Args<O extends Operation> = Operations[O]['args']
export type Result<O extends Operation> = Operations[O]['result']

export const OPERATIONS: readonly Operation[] = ['notes.create', 'notes.get', 'notes.list', 'notes.search', 'notes.update', 'notes.remove', 'notes.count']

export type Request<O extends Operation = Operation> = { [K in O]: { op: K; args: Args<K> } }[O]

/**
 * The codes an answer's error carries: a StowageError's own code (VALIDATION, NOT_FOUND, CLOSED,
 * ARGUMENT, ...), the protocol's (BAD_REQUEST: not a request at all; UNKNOWN_OPERATION) and
 * INTERNAL for anything unexpected, whose details stay in the service's log. A client adds
 * TRANSPORT (the message could not be delivered) and BAD_RESPONSE.
 */
export type ErrorCode =
  | 'VALIDATION'
  | 'NOT_FOUND'
  | 'CONSTRAINT'
  | 'CONFLICT'
  | 'ARGUMENT'
  | 'INVALID_KEY'
  | 'ENCODING'
  | 'CLOSED'
  | 'BAD_REQUEST'
  | 'UNKNOWN_OPERATION'
  | 'INTERNAL'
  | 'TRANSPORT'
  | 'BAD_RESPONSE'
  | (string & {}) // any other StowageError code

/** An error as it crosses the boundary: class instances do not survive structured cloning, codes do. */
export interface WireError {
  code: ErrorCode
  message: string
  /** The failing properties of a VALIDATION error. */
  errors?: PropertyError[]
}

export type Response<O extends Operation = Operation> = { ok: true; value: Result<O> } | { ok: false; error: WireError }

/**
 * How a request travels over a message channel that is not request/response by itself (a child
 * process, a MessagePort): tagged, so that other messages on a shared channel are left alone, and
 * numbered, so that concurrent answers find their request.
 */
export interface RequestEnvelope {
  stowage: number
  request: unknown
}
export interface ResponseEnvelope {
  /** null when the envelope itself was unreadable (no usable number). */
  stowage: number | null
  response: Response
}

/** The error a client rejects with: the service's code and message, and a validation's property errors. */
export class StoreError extends Error {
  readonly code: ErrorCode
  readonly errors?: PropertyError[]
  constructor(error: WireError) {
    super(error.message)
    this.name = 'StoreError'
    this.code = error.code
    if (error.errors !== undefined) this.errors = error.errors
  }
}

export function isResponse(value: unknown): value is Response {
  if (typeof value !== 'object' || value === null) return false
  const r = value as { ok?: unknown; value?: unknown; error?: { code?: unknown; message?: unknown } }
  if (r.ok === true) return 'value' in r
  return r.ok === false && typeof r.error === 'object' && r.error !== null && typeof r.error.code === 'string' && typeof r.error.message === 'string'
}
