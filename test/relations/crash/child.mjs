// Changes relations in a loop until killed, reporting each write on stdout:
//   B <json>  a write begins: { id, after } where after is every comment's links once it is done
//             ({ [oid]: { author: oid | null, replies: [oid...] } })
//   A <id>    it was acknowledged; the live instances show exactly `after`
//   X <text>  something unexpected: the test fails
// Usage: node child.mjs <dist dir> <level|directory|lmdb> <store path>
import { pathToFileURL } from 'node:url'
import { join } from 'node:path'
import { defineModels } from './model.mjs'
import { crashEngine } from '../../helpers/crash-engines.mjs'

const [dist, kind, location] = process.argv.slice(2)
const load = (p) => import(pathToFileURL(join(dist, 'src', p)).href)
const lib = await load('index.js')
const { Account, Comment } = defineModels(lib)
const engine = crashEngine(lib, kind, location)
const db = await lib.Database.open({ engine, models: [Account, Comment] })

// Resolves once the line is in the pipe: a 'B' line must reach the test before the write it
// announces can commit, even when the pipe is full and the kill comes next.
const say = (line) => new Promise((flushed) => process.stdout.write(line + '\n', flushed))
const comments = []
const accounts = []
for await (const c of Comment.all()) comments.push(c)
for await (const a of Account.all()) accounts.push(a)
const pick = (a) => a[Math.floor(Math.random() * a.length)]
const some = (a, max) => a.filter(() => Math.random() < max / Math.max(a.length, 1))

/** Every live comment's links as the app sees them (unsaved changes included), less removed objects. */
function links(removed = new Set()) {
  const out = {}
  for (const c of comments) {
    if (removed.has(c.oid)) continue
    const author = c.author.oid
    out[c.oid] = {
      author: author === undefined || removed.has(author) ? null : author,
      replies: c.replies.toJSON().map((r) => r.oid).filter((oid) => !removed.has(oid)),
    }
  }
  return out
}

function newComment() {
  const c = new Comment({ n: Math.floor(Math.random() * 100) })
  comments.push(c)
  return c
}

function change(c) {
  const r = Math.random()
  if (r < 0.1) c.replies.clear()
  c.replies.remove(...some(comments, 1.5))
  c.replies.add(...some(comments, 2.5).filter((x) => x !== c || Math.random() < 0.5))
  if (Math.random() < 0.2) c.replies.add(newComment())
  if (Math.random() < 0.3) c.author.set(Math.random() < 0.2 || accounts.length === 0 ? undefined : pick(accounts))
  if (Math.random() < 0.1) {
    const a = new Account({ name: 'new' })
    accounts.push(a)
    c.author.set(a) // unsaved: saved with c
  }
}

say('S')
for (let id = 0; ; id++) {
  const r = Math.random()
  try {
    const removed = new Set()
    let write
    if (r < 0.3 || comments.length < 6) {
      const c = newComment()
      change(c)
      write = () => c.save()
    } else if (r < 0.6) {
      const c = pick(comments)
      change(c)
      write = () => c.save()
    } else if (r < 0.72) {
      const c = comments.splice(Math.floor(Math.random() * comments.length), 1)[0]
      removed.add(c.oid)
      write = () => c.remove()
    } else if (r < 0.78 && accounts.length > 2) {
      const a = accounts.splice(Math.floor(Math.random() * accounts.length), 1)[0]
      removed.add(a.oid)
      write = () => a.remove()
    } else {
      // A transaction: two owners changed (no save() needed), one created, one removed.
      const [a, b] = [pick(comments), pick(comments)]
      const gone = comments.splice(Math.floor(Math.random() * comments.length), 1)[0]
      removed.add(gone.oid)
      let predicted
      await db.transaction(async () => {
        change(a)
        change(b)
        change(newComment())
        predicted = links(removed)
        await say('B ' + JSON.stringify({ id, after: predicted }))
        await gone.remove()
      })
      const seen = links()
      if (JSON.stringify(seen) !== JSON.stringify(predicted)) say('X live instances differ from the prediction: ' + JSON.stringify({ predicted, seen }))
      say('A ' + id + ' ' + JSON.stringify(seen))
      continue
    }
    const after = links(removed)
    await say('B ' + JSON.stringify({ id, after }))
    await write()
    const seen = links()
    if (JSON.stringify(seen) !== JSON.stringify(after)) say('X live instances differ from the prediction: ' + JSON.stringify({ after, seen }))
    say('A ' + id + ' ' + JSON.stringify(seen))
  } catch (err) {
    say('X ' + (err && err.stack ? err.stack.replace(/\n/g, ' | ') : String(err)))
    process.exit(1)
  }
}
