// Fills a store (records and raw data) and backs it up to a file; once the backup has begun writing,
// rewrites a record and its raw data (which a Directory snapshot keeps links to), then prints "B".
// The parent SIGKILLs it during the backup. Arguments: dist folder, engine kind, store path, backup file.
import { join } from 'node:path'
const [dist, kind, path, file] = process.argv.slice(2)
const lib = await import(join(dist, 'src', 'index.js'))
const { engineAt } = await import(join(dist, 'src', 'tools', 'store-path.js'))
const db = await lib.Database.open({ engine: engineAt(path, kind) })
const chunk = new Uint8Array(1024 * 1024).fill(7)
for (let i = 0; i < 30; i++) {
  const staged = await db.engine.stageRaw('files', `f${i}`, [chunk])
  await db.engine.batch([{ type: 'putRecord', collection: 'files', id: `f${i}`, value: { n: i } }, { type: 'putRaw', collection: 'files', id: `f${i}`, staged }])
}
let told = false
await db.backup(file, {
  onProgress() {
    if (told) return
    told = true
    void db.engine
      .stageRaw('files', 'f29', [chunk.subarray(0, 10)])
      .then((staged) => db.engine.batch([{ type: 'putRecord', collection: 'files', id: 'f29', value: { n: 'after' } }, { type: 'putRaw', collection: 'files', id: 'f29', staged }]))
      .then(() => process.stdout.write('B\n'))
  },
})
process.stdout.write('D\n')
await db.close()
