/**
 * Starting the Node stand-ins for renderers and serving the store to them: a child process over
 * its IPC channel, a worker thread over a MessagePort. `dir` is where the compiled
 * renderer-process.js and renderer-worker.js are (by default next to this module).
 */
import { fork } from 'node:child_process'
import { once } from 'node:events'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { MessageChannel, Worker } from 'node:worker_threads'
import { childChannel, portChannel, serveChannel, type RequestHandler } from './channel.js'
import type { RendererReport } from './renderer-task.js'

const here = fileURLToPath(new URL('.', import.meta.url))

export interface StandIn {
  kind: 'child process' | 'worker thread'
  /** The process id or thread id. */
  id: number
  report: Promise<RendererReport>
}

type Outcome = { report: RendererReport } | { failed: string }

export function childRenderer(service: RequestHandler, name: string, count: number, dir: string = here): StandIn {
  // 'advanced' serialization is structured cloning, as in Electron's IPC: Dates stay Dates.
  const child = fork(join(dir, 'renderer-process.js'), [name, String(count)], { serialization: 'advanced' })
  const stop = serveChannel(service, childChannel(child))
  const report = new Promise<RendererReport>((resolve, reject) => {
    child.on('message', (message: Outcome) => {
      if ('report' in message) resolve(message.report)
      else if ('failed' in message) reject(new Error(`renderer ${name} failed: ${message.failed}`))
    })
    child.once('exit', (code) => reject(new Error(`renderer ${name} exited with code ${code} before reporting`)))
    child.once('error', reject)
  }).finally(stop)
  return { kind: 'child process', id: child.pid!, report }
}

export function workerRenderer(service: RequestHandler, name: string, count: number, dir: string = here): StandIn {
  const { port1, port2 } = new MessageChannel()
  const stop = serveChannel(service, portChannel(port1))
  const worker = new Worker(join(dir, 'renderer-worker.js'), { workerData: { port: port2, name, count }, transferList: [port2] })
  const report = (async () => {
    const [message] = (await Promise.race([once(worker, 'message'), once(worker, 'exit')])) as [Outcome | number]
    if (typeof message === 'number') throw new Error(`renderer ${name} exited with code ${message} before reporting`)
    if ('failed' in message) throw new Error(`renderer ${name} failed: ${message.failed}`)
    return message.report
  })().finally(() => {
    stop()
    port1.close()
  })
  return { kind: 'worker thread', id: worker.threadId, report }
}
