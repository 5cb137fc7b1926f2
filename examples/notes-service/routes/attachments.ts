import type { Database } from '../../../src/index.js'
import { isOid } from '../../../src/index.js'
import { requireOwner } from '../caller.js'
import { HttpError, notFound } from '../http/http-error.js'
import { sendJson, streamOut } from '../http/respond.js'
import type { Router } from '../http/router.js'
import { Attachment } from '../models.js'
import { attachmentView } from '../views.js'
import type { ServiceOptions } from '../server.js'
import { loadNote } from './notes.js'

export function attachmentRoutes(router: Router, db: Database, options: ServiceOptions): void {
  // PUT /notes/:oid/attachments?name=report.pdf, the body being the file and content-type its type.
  router.on('PUT', '/notes/:oid/attachments', async ({ req, res, url, params }) => {
    const note = await loadNote(params.oid)
    await requireOwner(req, note)
    const length = req.headers['content-length']
    if (length === undefined) throw new HttpError(411, 'LENGTH_REQUIRED', 'An upload needs a Content-Length header')
    if (Number(length) > options.maxAttachmentBytes) {
      throw new HttpError(413, 'PAYLOAD_TOO_LARGE', `The file has ${length} bytes; the most is ${options.maxAttachmentBytes}`)
    }
    const meta: Record<string, unknown> = {}
    const name = url.searchParams.get('name')
    if (name !== null) meta.name = name
    const type = req.headers['content-type']
    if (type !== undefined) meta.contentType = type // else Stowage recognises common types from the first bytes
    // The request is a Readable: it is streamed into the store (Node's HTTP parser stops it at
    // Content-Length), then the attachment and the note's new link commit in one atomic write.
    // If the client goes away mid-upload, create() rejects and nothing is stored.
    const att = await db.transaction(async () => {
      const created = await Attachment.create(req, meta)
      note.attachments.add(created)
      return created
    })
    sendJson(res, 201, attachmentView(att), { location: `/attachments/${att.oid}` })
  })

  router.on('GET', '/attachments/:oid', async ({ res, params }) => {
    const att = isOid(params.oid) ? await Attachment.get(params.oid) : undefined
    if (att === undefined) throw notFound(`Attachment ${params.oid}`)
    res.writeHead(200, {
      'content-type': att.contentType ?? 'application/octet-stream',
      'content-length': String(att.size ?? 0),
      // Served as a download, never rendered in the page: an uploaded HTML file must not run here.
      'content-disposition': contentDisposition(att.name ?? att.oid),
      'x-content-type-options': 'nosniff',
    })
    await streamOut(res, att.data(64 * 1024))
  })
}

function contentDisposition(name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]|["\\]/g, '_')
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`
}
