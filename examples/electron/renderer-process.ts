/** A child process standing in for a renderer: `fork('renderer-process.js', [name, count])`. */
import { channelSender, processChannel } from './channel.js'
import { exerciseStore } from './renderer-task.js'

const [name = 'child', count = '10'] = process.argv.slice(2)
const sender = channelSender(processChannel())
try {
  const report = await exerciseStore(sender.send, name, Number(count))
  process.send!({ report }, undefined, {}, () => process.disconnect())
} catch (err) {
  process.send!({ failed: err instanceof Error ? err.stack : String(err) }, undefined, {}, () => process.disconnect())
} finally {
  sender.close()
}
