// Opens an LmdbEngine on argv[2], writes entry 'held' = pid, says 'ready' and holds the store
// until stdin ends (then closes) or it is killed.
import { LmdbEngine } from '../../../src/engine/lmdb/lmdb-engine.js'

const engine = new LmdbEngine(process.argv[2]!)
await engine.open()
await engine.put('held', process.pid)
console.log('ready')
process.stdin.on('data', () => {})
process.stdin.on('end', () => void engine.close())
