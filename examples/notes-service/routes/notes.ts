import { isOid, type Database } from '../../../src/index.js'
import { requireOwner, callerOf } from '../caller.js'
import { notFound } from '../http/http-error.js'
import { readJsonObject } from '../http/json-body.js'
import { sendEmpty, sendJson } from '../http/respond.js'
import type { Router } from '../http/router.js'
import { Note } from '../models.js'
import { CREATE_FIELDS, noteProps, UPDATE_FIELDS } from '../note-input.js'
import { findNotes, parseNoteQuery, tagCounts } from '../note-search.js'
import { noteSummary, noteView } from '../views.js'
import type { ServiceOptions } from '../server.js'

export async function loadNote(oid: string): Promise<Note> {
  const note = isOid(oid) ? await Note.get(oid) : undefined
  if (note === undefined) throw notFound(`Note ${oid}`)
  return note
}

export function noteRoutes(router: Router, db: Database, options: ServiceOptions): void {
  router.on('POST', '/notes', async ({ req, res }) => {
    const owner = await callerOf(req)
    const note = new Note(noteProps(await readJsonObject(req, options.maxJsonBytes), CREATE_FIELDS))
    note.owner.set(owner)
    await note.save()
    sendJson(res, 201, await noteView(note), { location: `/notes/${note.oid}` })
  })

  // GET /notes?q=words&tag=x&tag=y&from=date&to=date&owner=oid&sort=-created&offset=0&limit=50
  router.on('GET', '/notes', async ({ res, url }) => {
    const notes = []
    for await (const note of findNotes(parseNoteQuery(url.searchParams))) notes.push(noteSummary(note))
    sendJson(res, 200, notes)
  })

  router.on('GET', '/notes/:oid', async ({ res, params }) => {
    sendJson(res, 200, await noteView(await loadNote(params.oid)))
  })

  router.on('PATCH', '/notes/:oid', async ({ req, res, params }) => {
    const note = await loadNote(params.oid)
    await requireOwner(req, note)
    const props = noteProps(await readJsonObject(req, options.maxJsonBytes), UPDATE_FIELDS)
    await note.update(props) // a refused update leaves the shared live instance as it was
    sendJson(res, 200, await noteView(note))
  })

  // Attachments belong to their note: deleting the note deletes them, in the same atomic write.
  router.on('DELETE', '/notes/:oid', async ({ req, res, params }) => {
    const note = await loadNote(params.oid)
    await requireOwner(req, note)
    await db.transaction(async () => {
      for await (const att of note.attachments) await att.remove()
      await note.remove()
    })
    sendEmpty(res)
  })

  router.on('GET', '/tags', async ({ res }) => {
    sendJson(res, 200, await tagCounts())
  })
}
