/**
 * Runs the notes service: `npm run example:notes`, then e.g.
 *   curl -X POST localhost:3000/accounts -H 'content-type: application/json' -d '{"email":"ann@example.com","name":"Ann"}'
 * Data lives in NOTES_DATA (default ./data/notes, a LevelDB store); PORT defaults to 3000.
 */
import { Database } from '../../src/index.js'
import { models } from './models.js'
import { createNotesServer } from './server.js'

const path = process.env.NOTES_DATA ?? './data/notes'
const port = Number(process.env.PORT ?? 3000)

const db = await Database.open({ path, models })
const server = createNotesServer(db)
server.listen(port, () => console.log(`Notes service on http://localhost:${port} (data in ${path})`))

let stopping = false
async function stop(signal: string): Promise<void> {
  if (stopping) process.exit(1) // a second Ctrl-C: do not wait
  stopping = true
  console.log(`${signal}: closing`)
  server.close() // stop accepting; requests in flight finish
  server.closeIdleConnections()
  await new Promise<void>((resolve) => server.once('close', () => resolve()))
  await db.close() // flushes every write
  // Nothing is left to run: the process ends by itself.
}
process.on('SIGINT', (s) => void stop(s))
process.on('SIGTERM', (s) => void stop(s))
