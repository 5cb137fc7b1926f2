// Re-encrypts a store again and again, switching between two keys (A: 32 bytes of 7s, B: 32 bytes
// of 9s), until killed. Opens with whichever key opens it; says "S" once open and
// "R <key>" each time a re-encryption resolved, with the key that opens the store from then on.
// Usage: node child.mjs <dist dir> <engine kind> <store path>
import { pathToFileURL } from 'node:url'
import { join } from 'node:path'

const [dist, kind, location] = process.argv.slice(2)
const lib = await import(pathToFileURL(join(dist, 'src', 'index.js')).href)
const say = (line) => new Promise((flushed) => process.stdout.write(line + '\n', flushed))
const KEYS = { A: new Uint8Array(32).fill(7), B: new Uint8Array(32).fill(9) }
const make = () => (kind === 'directory' ? new lib.DirectoryEngine(location) : kind === 'lmdb' ? new lib.LmdbEngine(location) : new lib.LevelEngine(location))

class Letter extends lib.StoredObject {}
const Letters = lib.defineModel(Letter, {
  collection: 'letters',
  properties: { to: lib.Types.STRING, n: lib.Types.INTEGER, text: lib.Types.STRING },
  indexes: { to: { property: 'to', fn: lib.Indexing.value }, n: { property: 'n', fn: lib.Indexing.value } },
})
class Photo extends lib.StoredRaw {}
const Photos = lib.defineModel(Photo, { collection: 'photos' })

let current
let db
for (const name of ['A', 'B']) {
  try {
    db = await lib.Database.open({ engine: make(), models: [Letters, Photos], encryption: { key: KEYS[name] } })
    current = name
    break
  } catch (err) {
    if (err.code !== 'WRONG_KEY') throw err
  }
}
await say('S')
for (;;) {
  const next = current === 'A' ? 'B' : 'A'
  await db.reencrypt(KEYS[next])
  current = next
  await say(`R ${current}`)
}
