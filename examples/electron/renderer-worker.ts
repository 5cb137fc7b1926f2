/** A worker thread standing in for a renderer: it gets a MessagePort to the store in workerData. */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads'
import { channelSender, portChannel } from './channel.js'
import { exerciseStore } from './renderer-task.js'

const { port, name, count } = workerData as { port: MessagePort; name: string; count: number }
const sender = channelSender(portChannel(port))
try {
  parentPort!.postMessage({ report: await exerciseStore(sender.send, name, count) })
} catch (err) {
  parentPort!.postMessage({ failed: err instanceof Error ? err.stack : String(err) })
} finally {
  sender.close()
  port.close()
}
