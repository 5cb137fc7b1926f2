import type { IncomingMessage, ServerResponse } from 'node:http'
import { HttpError } from './http-error.js'

export interface RequestContext {
  req: IncomingMessage
  res: ServerResponse
  url: URL
  /** The `:name` segments of the route's pattern. */
  params: Record<string, string>
}

export type Handler = (ctx: RequestContext) => Promise<void>

interface Route {
  method: string
  pattern: RegExp
  names: string[]
  handler: Handler
}

/** A minimal router: `/notes/:oid` patterns, 404 for unknown paths, 405 (with Allow) for known paths. */
export class Router {
  readonly #routes: Route[] = []

  on(method: string, path: string, handler: Handler): this {
    const names: string[] = []
    const source = path.replace(/:(\w+)/g, (_, name: string) => {
      names.push(name)
      return '([^/]+)'
    })
    this.#routes.push({ method, pattern: new RegExp(`^${source}$`), names, handler })
    return this
  }

  async handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const allowed: string[] = []
    for (const route of this.#routes) {
      const match = route.pattern.exec(url.pathname)
      if (match === null) continue
      if (route.method !== req.method) {
        allowed.push(route.method)
        continue
      }
      const params: Record<string, string> = {}
      route.names.forEach((name, i) => (params[name] = match[i + 1]!))
      return route.handler({ req, res, url, params })
    }
    if (allowed.length > 0) {
      throw new HttpError(405, 'METHOD_NOT_ALLOWED', `${req.method} is not allowed on ${url.pathname}; allowed: ${allowed.join(', ')}`, {
        headers: { allow: allowed.join(', ') },
      })
    }
    throw new HttpError(404, 'NOT_FOUND', `No route for ${url.pathname}`)
  }
}
