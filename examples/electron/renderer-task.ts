/**
 * What each stand-in renderer does (demo.ts, the tests): a burst of concurrent creates, searches
 * by index, an update, a remove, then requests the store must refuse, each with its code, and a
 * last create showing that it still serves. Runs on the renderer's side of any transport.
 */
import { NotesClient, type Send } from './client.js'
import { isResponse, StoreError, type NoteView } from './protocol.js'

export interface RendererReport {
  name: string
  /** The notes as the renderer received them. */
  created: NoteView[]
  /** Every result had Date values and oids, as sent, when it reached the renderer. */
  typed: boolean
  foundByTag: number
  foundByText: number
  updatedTitle: string
  removedIsGone: boolean
  /** The code of each refusal, and whether the client threw a StoreError for it. */
  refusals: Record<string, { code: string; storeError: boolean; property?: string }>
  stillServing: boolean
}

const OID = /^[0-9a-hjkmnp-tv-z]{26}$/

export async function exerciseStore(send: (request: unknown) => Promise<unknown>, name: string, count: number): Promise<RendererReport> {
  const notes = new NotesClient(send as Send)
  const dates = Array.from({ length: count }, (_, i) => new Date(Date.UTC(2024, 0, 1, 12, 0, i, 7)))
  const created = await Promise.all(
    dates.map((created, i) => notes.create({ title: `${name} note ${i}`, body: `Written by the ${name} renderer.`, tags: [name, 'shared'], created })),
  )
  const typed = created.every(
    (note, i) => OID.test(note.oid) && note.created instanceof Date && note.created.getTime() === dates[i]!.getTime() && note.updated instanceof Date,
  )

  const foundByTag = (await notes.search({ tag: name.toUpperCase(), limit: 500 })).length
  const foundByText = (await notes.search({ text: `the ${name} renderer`, limit: 500 })).length
  const updated = await notes.update(created[0]!.oid, { title: `${name} note 0 (edited)` })
  const removed = created.at(-1)!
  await notes.remove(removed.oid)
  const removedIsGone = (await notes.get(removed.oid)) === null

  const refusals: RendererReport['refusals'] = {}
  const refused = async (key: string, attempt: () => Promise<unknown>) => {
    try {
      await attempt()
      refusals[key] = { code: 'NONE', storeError: false }
    } catch (err) {
      if (!(err instanceof StoreError)) throw err
      refusals[key] = { code: err.code, storeError: true, ...(err.errors?.[0] ? { property: err.errors[0].property } : {}) }
    }
  }
  // Through the typed client: errors thrown by Stowage in the service.
  await refused('invalid', () => notes.create({ title: 'two\nlines' }))
  await refused('removed', () => notes.update(removed.oid, { title: 'again' }))
  // What a buggy or hostile renderer could send, bypassing the client's types.
  const raw = async (key: string, request: unknown) => {
    const reply = await send(request)
    if (!isResponse(reply)) throw new Error(`${key}: not a response`)
    refusals[key] = reply.ok ? { code: 'NONE', storeError: false } : { code: reply.error.code, storeError: false }
  }
  await raw('unknownOperation', { op: 'notes.explode', args: {} })
  await raw('wrongType', { op: 'notes.create', args: { title: 42 } })
  await raw('unknownField', { op: 'notes.create', args: { title: 'x', colour: 'red' } })
  await raw('badOid', { op: 'notes.get', args: { oid: '../../etc/passwd' } })
  await raw('notARequest', 'hello')
  await raw('noArgs', { op: 'notes.list' })

  const last = await notes.create({ title: `${name} note ${count}`, body: `Written by the ${name} renderer.`, tags: [name, 'shared'] })
  return { name, created, typed, foundByTag, foundByText, updatedTitle: updated.title, removedIsGone, refusals, stillServing: OID.test(last.oid) }
}
