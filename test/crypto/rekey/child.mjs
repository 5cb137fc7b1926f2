// Rekeys an encrypted LevelDB store back and forth between two 32-byte keys (A: all 1s, B: all 2s)
// until killed, saying
// "K <n>" once the n-th rekey resolved (n even: key A is current, odd: key B).
// Usage: node child.mjs <dist dir> <store path>
import { pathToFileURL } from 'node:url'
import { join } from 'node:path'

const [dist, location] = process.argv.slice(2)
const lib = await import(pathToFileURL(join(dist, 'src', 'index.js')).href)
const say = (line) => new Promise((flushed) => process.stdout.write(line + '\n', flushed))
const A = new Uint8Array(32).fill(1)
const B = new Uint8Array(32).fill(2)
const db = await lib.Database.open({ engine: new lib.LevelEngine(location), models: [], encryption: { key: A } })
await say('S')
for (let n = 1; ; n++) {
  await db.rekey(n % 2 === 1 ? B : A)
  await say(`K ${n}`)
}
