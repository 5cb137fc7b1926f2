import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { Database } from '../../src/index.js'
import { errorResponse } from './http/error-response.js'
import { badRequest } from './http/http-error.js'
import { sendJson } from './http/respond.js'
import { Router } from './http/router.js'
import { accountRoutes } from './routes/accounts.js'
import { attachmentRoutes } from './routes/attachments.js'
import { liveRoutes } from './routes/live.js'
import { noteRoutes } from './routes/notes.js'

export interface ServiceOptions {
  /** Largest JSON request body, in bytes (default 1 MiB). */
  maxJsonBytes: number
  /** Largest attachment, in bytes (default 100 MiB). */
  maxAttachmentBytes: number
  /** Where unexpected errors are reported (default console.error). */
  log: (message: string, err: unknown) => void
}

/**
 * The notes service over an open database whose models include `models` (see models.ts). The
 * caller listens and closes: `createNotesServer(db).listen(3000)`.
 */
export function createNotesServer(db: Database, options: Partial<ServiceOptions> = {}): Server {
  const opts: ServiceOptions = {
    maxJsonBytes: 1024 * 1024,
    maxAttachmentBytes: 100 * 1024 * 1024,
    log: (message, err) => console.error(message, err),
    ...options,
  }
  const router = new Router()
  accountRoutes(router, opts)
  noteRoutes(router, db, opts)
  attachmentRoutes(router, db, opts)
  liveRoutes(router)

  return createServer((req, res) => {
    handle(router, req, res, opts).catch((err) => opts.log('Could not answer a request', err))
  })
}

async function handle(router: Router, req: IncomingMessage, res: ServerResponse, opts: ServiceOptions): Promise<void> {
  try {
    let url: URL
    try {
      url = new URL(req.url ?? '/', 'http://localhost')
    } catch {
      throw badRequest(`Malformed request target ${JSON.stringify(req.url)}`)
    }
    await router.handle(req, res, url)
  } catch (err) {
    // The client went away (e.g. mid-upload: the store got a failing stream and kept nothing).
    if (req.destroyed && !req.complete) return void res.destroy()
    const { status, body, headers } = errorResponse(err, opts.log)
    if (!res.headersSent) sendJson(res, status, body, headers)
    else res.destroy() // mid-stream (e.g. a download whose data went missing): cut it short, visibly
  }
}
