/**
 * The Electron example without Electron: `npm run build && node dist/examples/electron/demo.js`.
 * The store service runs in this process, as it would in Electron's main process; two child
 * processes and a worker thread play renderers and send it requests at the same time.
 * Data goes to STOWAGE_DATA, or to a temporary directory removed at the end.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Database } from '../../src/index.js'
import { models, Note } from './models.js'
import { childRenderer, workerRenderer } from './stand-ins.js'
import { NotesService } from './store-service.js'

const path = process.env.STOWAGE_DATA ?? (await mkdtemp(join(tmpdir(), 'stowage-electron-demo-')))
const PER_RENDERER = 25

const db = await Database.open({ path, models })
const service = new NotesService(db)
console.log(`Store open in ${path} with ${await Note.count()} notes; starting 3 renderers.`)

const started = Date.now()
const renderers = [childRenderer(service, 'alpha', PER_RENDERER), childRenderer(service, 'beta', PER_RENDERER), workerRenderer(service, 'gamma', PER_RENDERER)]
const reports = await Promise.all(renderers.map((r) => r.report))
console.log(`All renderers done in ${Date.now() - started} ms.`)

for (const [i, report] of reports.entries()) {
  const { kind, id } = renderers[i]!
  const refusals = Object.entries(report.refusals).map(([what, r]) => `${what} ${r.code}${r.property ? ` (${r.property})` : ''}`)
  console.log(`${report.name} (${kind} ${id}):`)
  console.log(`  created ${report.created.length} notes concurrently; dates and oids arrived typed: ${report.typed}`)
  console.log(`  found ${report.foundByTag} by tag and ${report.foundByText} by text; renamed one to "${report.updatedTitle}"; the removed one is gone: ${report.removedIsGone}`)
  console.log(`  refused: ${refusals.join(', ')}`)
  console.log(`  still served afterwards: ${report.stillServing}`)
}

const total = await Note.count()
await service.close()
const reopened = await Database.open({ path, models })
console.log(`Closed with ${total} notes; reopened: ${await Note.count()} notes, ${await Note.index('tags').count('shared')} tagged "shared".`)
await reopened.close()
if (process.env.STOWAGE_DATA === undefined) await rm(path, { recursive: true, force: true })
