// Streams raw data into a store until killed. Prints "S <oid>" once the object to be written exists
// in the process (and, in "replace" mode, after the first object was stored), then "M" every few MiB.
// Usage: node child.mjs <dist dir> <level|directory|lmdb> <store path> <create|replace>
import { pathToFileURL } from 'node:url'
import { join } from 'node:path'
import { crashEngine } from '../../helpers/crash-engines.mjs'

const [dist, kind, location, mode] = process.argv.slice(2)
const load = (p) => import(pathToFileURL(join(dist, 'src', p)).href)
const lib = await load('index.js')
const Blob = lib.Model({ collection: 'blobs' })(class Blob extends lib.StoredRaw {})
const engine = crashEngine(lib, kind, location)
await lib.Database.open({ engine, models: [Blob] })

const say = (line) => process.stdout.write(line + '\n')
async function* endless() {
  for (let i = 0; ; i++) {
    yield new Uint8Array(256 * 1024).fill(i & 0xff)
    if (i % 16 === 0) say('M')
  }
}

if (mode === 'replace') {
  const first = await Blob.create(new Uint8Array(100_000).fill(7), { v: 1 })
  say(`S ${first.oid}`)
  await first.setData(endless()).setMeta({ v: 2 }).save()
} else {
  const blob = new Blob()
  say(`S ${blob.oid}`)
  await blob.setData(endless()).save()
}
