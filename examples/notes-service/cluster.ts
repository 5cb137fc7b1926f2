/**
 * The notes service as several processes behind one port (Node's cluster), sharing one PostgreSQL
 * store: each process has its own database, and Stowage keeps them consistent (see the README,
 * "PostgreSQL: one store, many processes"). Run e.g.
 *   NOTES_POSTGRES_URL=postgres://app@127.0.0.1:5432/app NOTES_WORKERS=4 npm run build --silent && node dist/examples/notes-service/cluster.js
 * NOTES_SCHEMA names the store's schema (default notes); PORT defaults to 3000 (0: a free port).
 */
import cluster from 'node:cluster'
import type { AddressInfo } from 'node:net'
import { Database, PostgresEngine } from '../../src/index.js'
import { models } from './models.js'
import { createNotesServer } from './server.js'

const url = process.env.NOTES_POSTGRES_URL
const schema = process.env.NOTES_SCHEMA ?? 'notes'
const port = Number(process.env.PORT ?? 3000)
const workers = Number(process.env.NOTES_WORKERS ?? 2)

if (url === undefined) {
  console.error('Set NOTES_POSTGRES_URL to the PostgreSQL server to use (postgres://user:password@host:port/database)')
  process.exit(2)
}

if (cluster.isPrimary) {
  let listening = 0
  for (let i = 0; i < workers; i++) {
    cluster.fork().on('message', (message: { port?: number }) => {
      if (message.port !== undefined && ++listening === workers) console.log(`Notes service on http://127.0.0.1:${message.port} (${workers} processes, schema ${schema})`)
    })
  }
  // A worker that dies is replaced: the others go on meanwhile, the store stays whole.
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) return
    console.error(`worker ${worker.process.pid} ended (${signal ?? code}): starting another`)
    cluster.fork()
  })
  let stopping = false
  const stop = () => {
    stopping = true
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGTERM')
  }
  process.on('SIGINT', stop)
  process.on('SIGTERM', stop)
} else {
  const db = await Database.open({ engine: new PostgresEngine({ connectionString: url, schema }), models })
  const server = createNotesServer(db)
  // Which process answered: shows the requests spread over the workers.
  server.prependListener('request', (_req, res) => res.setHeader('x-served-by', String(process.pid)))
  server.listen(port, '127.0.0.1', () => process.send?.({ port: (server.address() as AddressInfo).port }))
  const stop = async () => {
    server.close()
    server.closeIdleConnections()
    await new Promise<void>((resolve) => server.once('close', () => resolve()))
    await db.close()
    process.exit(0)
  }
  process.on('SIGTERM', () => void stop())
  process.on('SIGINT', () => {}) // the primary stops the workers
}
