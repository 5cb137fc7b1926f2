import type { ServerResponse } from 'node:http'

export function sendJson(res: ServerResponse, status: number, data: unknown, headers: Record<string, string> = {}): void {
  const body = JSON.stringify(data)
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': String(Buffer.byteLength(body)), ...headers })
  res.end(body)
}

export function sendEmpty(res: ServerResponse, status = 204): void {
  res.writeHead(status)
  res.end()
}

/**
 * Writes chunks to the response, waiting for 'drain' whenever the socket's buffer is full (so a
 * slow client never makes us read the whole file into memory). Stops early, without error, when
 * the client goes away.
 */
export async function streamOut(res: ServerResponse, chunks: AsyncIterable<Uint8Array>): Promise<void> {
  for await (const chunk of chunks) {
    if (res.destroyed) return // leaving the loop closes the data iterator
    if (!res.write(chunk) && !(await drained(res))) return
  }
  res.end()
}

/** Resolves true on 'drain', false if the response is closed first. */
function drained(res: ServerResponse): Promise<boolean> {
  return new Promise((resolve) => {
    const done = (ok: boolean) => {
      res.off('drain', onDrain)
      res.off('close', onClose)
      resolve(ok)
    }
    const onDrain = () => done(true)
    const onClose = () => done(false)
    res.on('drain', onDrain)
    res.on('close', onClose)
  })
}
