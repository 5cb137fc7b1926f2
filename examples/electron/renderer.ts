/**
 * Renderer code (bundled into the page that main.ts loads). It talks to the store only through the
 * preload's bridge and gets typed values back: Dates as Dates, errors as StoreError with a code.
 */
import { NotesClient } from './client.js'
import type { StoreBridge } from './electron-ipc.js'
import { StoreError } from './protocol.js'

declare const window: { stowage: StoreBridge }

const notes = new NotesClient((request) => window.stowage.invoke(request))

export async function showRecentNotes(): Promise<string[]> {
  const recent = await notes.list({ limit: 20 })
  return recent.map((note) => `${note.created.toLocaleDateString()} ${note.title} [${note.tags.join(', ')}]`)
}

export async function addNote(title: string, body: string, tags: string[]): Promise<string | undefined> {
  try {
    const note = await notes.create({ title, body, tags })
    return note.oid
  } catch (err) {
    if (err instanceof StoreError && err.code === 'VALIDATION') {
      // Show each field's problem next to the field.
      for (const problem of err.errors ?? []) console.warn(`${problem.property}: ${problem.reason}`)
      return undefined
    }
    throw err
  }
}

export async function findByTag(tag: string): Promise<number> {
  return (await notes.search({ tag })).length
}
