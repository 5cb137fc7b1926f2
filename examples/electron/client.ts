/**
 * The renderer's side: a typed, promise-based client over any transport that can carry a request
 * and bring back its answer. Like protocol.ts it holds no Stowage code at run time.
 */
import { isResponse, StoreError, type Args, type NoteChanges, type NoteInput, type NoteView, type Operation, type Request, type Result } from './protocol.js'

/** Carries one request to the store and resolves with whatever came back. */
export type Send = (request: Request) => Promise<unknown>

export class NotesClient {
  readonly #send: Send

  /**
   * In an Electron renderer: `new NotesClient((request) => window.stowage.invoke(request))`.
   * Over a MessagePort or a child process's channel: `new NotesClient(channelSender(channel).send)`.
   */
  constructor(send: Send) {
    this.#send = send
  }

  /** Resolves with the operation's result, or rejects with a StoreError carrying the store's code. */
  async call<O extends Operation>(op: O, args: Args<O>): Promise<Result<O>> {
    let reply: unknown
    try {
      reply = await this.#send({ op, args } as Request)
    } catch (err) {
      if (err instanceof StoreError) throw err
      throw new StoreError({ code: 'TRANSPORT', message: `${op}: the request did not reach the store: ${err instanceof Error ? err.message : String(err)}` })
    }
    if (!isResponse(reply)) throw new StoreError({ code: 'BAD_RESPONSE', message: `${op}: the store's answer is not a response` })
    if (!reply.ok) throw new StoreError(reply.error)
    return reply.value as Result<O>
  }

  create(input: NoteInput): Promise<NoteView> {
    return this.call('notes.create', input)
  }
  get(oid: string): Promise<NoteView | null> {
    return this.call('notes.get', { oid })
  }
  list(page: { offset?: number; limit?: number } = {}): Promise<NoteView[]> {
    return this.call('notes.list', page)
  }
  search(query: { tag?: string; text?: string; limit?: number }): Promise<NoteView[]> {
    return this.call('notes.search', query)
  }
  update(oid: string, changes: NoteChanges): Promise<NoteView> {
    return this.call('notes.update', { oid, changes })
  }
  remove(oid: string): Promise<true> {
    return this.call('notes.remove', { oid })
  }
  count(): Promise<number> {
    return this.call('notes.count', {})
  }
}
