import type { IncomingMessage } from 'node:http'
import { badRequest, HttpError } from './http-error.js'

const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i

/**
 * Reads a JSON request body of at most `limit` bytes. A declared Content-Length over the limit is
 * refused before reading; an undeclared (chunked) body is counted as it arrives. Once refused, the
 * rest of the body is read and dropped so that the client can read the 413.
 */
export async function readJson(req: IncomingMessage, limit: number): Promise<unknown> {
  const type = req.headers['content-type']
  if (type !== undefined && !JSON_TYPE.test(type)) {
    throw new HttpError(415, 'UNSUPPORTED_MEDIA_TYPE', `Expected a JSON body (content-type application/json), got ${JSON.stringify(type)}`)
  }
  const tooLarge = () => new HttpError(413, 'PAYLOAD_TOO_LARGE', `The JSON body is larger than ${limit} bytes`)
  const declared = Number(req.headers['content-length'])
  if (declared > limit) throw tooLarge()

  const text = await new Promise<string>((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    const cleanup = () => {
      req.off('data', onData)
      req.off('end', onEnd)
      req.off('error', onError)
    }
    const onData = (chunk: Buffer) => {
      size += chunk.length
      if (size <= limit) return void chunks.push(chunk)
      cleanup()
      req.resume() // keep draining, dropping the data
      reject(tooLarge())
    }
    const onEnd = () => {
      cleanup()
      resolve(Buffer.concat(chunks).toString('utf8'))
    }
    const onError = (err: Error) => {
      cleanup()
      reject(err)
    }
    req.on('data', onData)
    req.on('end', onEnd)
    req.on('error', onError)
  })
  if (text.trim() === '') throw badRequest('Expected a JSON body, got an empty one')
  try {
    return JSON.parse(text)
  } catch (err) {
    throw new HttpError(400, 'BAD_JSON', `The body is not valid JSON: ${(err as Error).message}`)
  }
}

/** The body as a plain JSON object (not an array, string or null). */
export async function readJsonObject(req: IncomingMessage, limit: number): Promise<Record<string, unknown>> {
  const value = await readJson(req, limit)
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw badRequest(`Expected a JSON object, got ${value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value}`)
  }
  return value as Record<string, unknown>
}
