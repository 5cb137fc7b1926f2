// Writes indexed objects in a loop until killed, reporting each write on stdout:
//   B <json>  a write begins: { id, changes: [{ oid, state | null (removed) }] }
//   A <id>    it was acknowledged (its promise resolved)
//   R <id>    it was refused with ConstraintError, as expected
//   X <text>  something unexpected: the test fails
// Usage: node child.mjs <dist dir> <level|directory|lmdb> <store path>
import { pathToFileURL } from 'node:url'
import { join } from 'node:path'
import { defineItem, stateOf } from './model.mjs'
import { crashEngine } from '../../helpers/crash-engines.mjs'

const [dist, kind, location] = process.argv.slice(2)
const load = (p) => import(pathToFileURL(join(dist, 'src', p)).href)
const lib = await load('index.js')
const Item = defineItem(lib)
const engine = crashEngine(lib, kind, location)
const db = await lib.Database.open({ engine, models: [Item] })

// Resolves once the line is in the pipe: a 'B' line must reach the test before the write it
// announces can commit, even when the pipe is full and the kill comes next.
const say = (line) => new Promise((flushed) => process.stdout.write(line + '\n', flushed))
const known = []
for await (const item of Item.all()) known.push(item)
const NAMES = ['Ann', ' ann ', 'BOB', 'Cid Ray', 'dee']
const WORDS = ['alpha', 'beta', 'gamma', 'delta', 'eps']
const pick = (a) => a[Math.floor(Math.random() * a.length)]
let counter = 0
const freshCode = () => `c-${process.pid}-${counter++}`
const randomProps = () => ({
  name: pick(NAMES),
  tags: WORDS.filter(() => Math.random() < 0.3),
  n: Math.floor(Math.random() * 20) - 10,
  title: Math.random() < 0.8 ? `${pick(WORDS)} ${pick(WORDS)} ${pick(WORDS)}` : undefined,
})
const current = (item) => ({ oid: item.oid, state: stateOf(item) })

say('S')
for (let id = 0; ; id++) {
  const r = Math.random()
  try {
    if (r < 0.35 || known.length < 3) {
      const item = new Item({ ...randomProps(), code: freshCode() })
      await say('B ' + JSON.stringify({ id, changes: [current(item)] }))
      await item.save()
      known.push(item)
    } else if (r < 0.65) {
      const item = pick(known)
      Object.assign(item, randomProps())
      await say('B ' + JSON.stringify({ id, changes: [current(item)] }))
      await item.save()
    } else if (r < 0.78) {
      const item = known.splice(Math.floor(Math.random() * known.length), 1)[0]
      await say('B ' + JSON.stringify({ id, changes: [{ oid: item.oid, state: null }] }))
      await item.remove()
    } else if (r < 0.93) {
      // A transaction: a code swap between two objects, an update, a create and a removal.
      const [a, b, c] = [...known].sort(() => Math.random() - 0.5)
      const created = new Item({ ...randomProps(), code: freshCode() })
      ;[a.code, b.code] = [b.code, a.code]
      Object.assign(a, { n: a.n === undefined ? 1 : a.n + 1 })
      const changes = [current(a), current(b), current(created), { oid: c.oid, state: null }]
      await say('B ' + JSON.stringify({ id, changes }))
      await db.transaction(async () => {
        a.save()
        b.save()
        created.save()
        await c.remove()
      })
      known.splice(known.indexOf(c), 1)
      known.push(created)
    } else {
      const holder = pick(known)
      const dup = new Item({ ...randomProps(), code: holder.code })
      await say('B ' + JSON.stringify({ id, changes: [], duplicate: true }))
      try {
        await dup.save()
        say('X duplicate code saved: ' + holder.code)
      } catch (err) {
        if (err.code !== 'CONSTRAINT') throw err
        say('R ' + id)
        continue
      }
    }
    say('A ' + id)
  } catch (err) {
    say('X ' + (err && err.stack ? err.stack.replace(/\n/g, ' | ') : String(err)))
    process.exit(1)
  }
}
