/**
 * Store requests over a message channel: a worker_threads MessagePort, or the IPC channel of a
 * child process (both sides). These stand in for renderers when there is no Electron, and show
 * what any message-passing transport needs: numbered envelopes, answers matched to requests, and
 * pending requests failed when the other side goes away. Holds no Stowage code at run time, so a
 * renderer-side bundle can import it.
 */
import type { ChildProcess } from 'node:child_process'
import type { MessagePort } from 'node:worker_threads'
import { StoreError, type RequestEnvelope, type Response, type ResponseEnvelope } from './protocol.js'

/** Both ends of a message channel look like this to the store and its clients. */
export interface Channel {
  /** Posts a message; throws if it cannot be cloned or the other side is gone. */
  send(message: unknown): void
  /** Returns a function that stops listening. */
  onMessage(listener: (message: unknown) => void): () => void
  /** Calls the listener once the other side is gone. */
  onClose(listener: () => void): () => void
}

/** Anything that answers requests (the store service). */
export interface RequestHandler {
  handle(request: unknown): Promise<Response>
}

/** One end of a worker_threads MessageChannel (or a worker's parentPort). */
export function portChannel(port: MessagePort): Channel {
  return {
    send: (message) => port.postMessage(message),
    onMessage(listener) {
      port.on('message', listener)
      return () => void port.off('message', listener)
    },
    onClose(listener) {
      port.once('close', listener)
      return () => void port.off('close', listener)
    },
  }
}

/**
 * The parent's end of a forked child's IPC channel. Fork with `serialization: 'advanced'`: the
 * default, JSON, would turn every Date into a string.
 */
export function childChannel(child: ChildProcess): Channel {
  return {
    send(message) {
      if (!child.connected) throw new Error('the child process has disconnected')
      // Errors of a channel closing meanwhile come here; the 'disconnect' listener fails what is pending.
      child.send(message as object, () => {})
    },
    onMessage(listener) {
      child.on('message', listener)
      return () => void child.off('message', listener)
    },
    onClose(listener) {
      child.once('disconnect', listener)
      return () => void child.off('disconnect', listener)
    },
  }
}

/** A forked child's end of its IPC channel with the parent. */
export function processChannel(proc: NodeJS.Process = process): Channel {
  if (proc.send === undefined) throw new Error('This process has no IPC channel: start it with child_process.fork()')
  return {
    send(message) {
      if (!proc.connected) throw new Error('the parent process has disconnected')
      proc.send!(message, undefined, {}, () => {})
    },
    onMessage(listener) {
      proc.on('message', listener)
      return () => void proc.off('message', listener)
    },
    onClose(listener) {
      proc.once('disconnect', listener)
      return () => void proc.off('disconnect', listener)
    },
  }
}

/**
 * Serves store requests arriving on a channel; returns a function that stops. Messages without a
 * `stowage` field belong to someone else on a shared channel and are left alone; an envelope
 * without a usable number is answered with BAD_REQUEST (under `stowage: null`). Each request is
 * answered when it is done, so a slow one holds up no other.
 */
export function serveChannel(service: RequestHandler, channel: Channel, log: (message: string, err: unknown) => void = console.error): () => void {
  const reply = (id: number | null, response: Response) => {
    try {
      channel.send({ stowage: id, response } satisfies ResponseEnvelope)
    } catch (err) {
      // Either the answer could not be cloned (a bug in the service: say so, typed) or the other
      // side is gone (nobody to tell).
      try {
        channel.send({ stowage: id, response: { ok: false, error: { code: 'INTERNAL', message: 'The store could not send its answer; see its log' } } } satisfies ResponseEnvelope)
        log('Could not send a store answer', err)
      } catch {}
    }
  }
  return channel.onMessage((message) => {
    if (typeof message !== 'object' || message === null || !Object.hasOwn(message, 'stowage') || Object.hasOwn(message, 'response')) return
    const { stowage: id, request } = message as Partial<RequestEnvelope>
    if (typeof id !== 'number' || !Number.isSafeInteger(id)) {
      return reply(null, { ok: false, error: { code: 'BAD_REQUEST', message: `A store envelope is { stowage: <request number>, request }, got stowage: ${typeof id}` } })
    }
    void service.handle(request).then((response) => reply(id, response))
  })
}

/**
 * The client side of a channel: `new NotesClient(channelSender(channel).send)`. Requests may be
 * sent concurrently; `close()` stops listening and fails what is still pending.
 */
export function channelSender(channel: Channel): { send: (request: unknown) => Promise<unknown>; close(): void } {
  let next = 1
  const pending = new Map<number, { resolve: (response: unknown) => void; reject: (err: Error) => void }>()
  const failAll = (message: string) => {
    for (const { reject } of pending.values()) reject(new StoreError({ code: 'TRANSPORT', message }))
    pending.clear()
  }
  const stopMessages = channel.onMessage((message) => {
    if (typeof message !== 'object' || message === null || !Object.hasOwn(message, 'response')) return
    const { stowage: id, response } = message as ResponseEnvelope
    const waiting = typeof id === 'number' ? pending.get(id) : undefined
    if (waiting === undefined) return
    pending.delete(id!)
    waiting.resolve(response)
  })
  const stopClose = channel.onClose(() => failAll('The store went away before answering'))
  return {
    send: (request) =>
      new Promise((resolve, reject) => {
        const id = next++
        pending.set(id, { resolve, reject })
        try {
          channel.send({ stowage: id, request } satisfies RequestEnvelope)
        } catch (err) {
          pending.delete(id)
          reject(err)
        }
      }),
    close() {
      stopMessages()
      stopClose()
      failAll('The client was closed before the store answered')
    },
  }
}
