// Opens the store with version 2 of the model, which migrates it, and reports progress until done:
//   S           the database is opening
//   P <done>    a batch of the migration committed
//   D           open() returned: the store is at version 2
// Usage: node child.mjs <dist dir> <level|directory|lmdb> <store path>
import { pathToFileURL } from 'node:url'
import { join } from 'node:path'
import { defineItemV2 } from './model.mjs'
import { crashEngine } from '../../helpers/crash-engines.mjs'

const [dist, kind, location] = process.argv.slice(2)
const lib = await import(pathToFileURL(join(dist, 'src', 'index.js')).href)
const say = (line) => new Promise((flushed) => process.stdout.write(line + '\n', flushed))
await say('S')
const db = await lib.Database.open({
  engine: crashEngine(lib, kind, location),
  models: [defineItemV2(lib)],
  onMigrationProgress: (p) => void say('P ' + p.done),
})
await say('D')
await db.close()
