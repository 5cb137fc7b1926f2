// A process of the multi-process tests: opens the shared store and runs the commands it reads on
// stdin (one JSON object a line), answering each with one JSON line { id, ok, value | error }.
import { createInterface } from 'node:readline'
import { Account, openShared, Post } from './models.js'

const [url, schema] = process.argv.slice(2) as [string, string]
const db = await openShared(url, schema)
const held = new Map<string, Account>()
const answer = (line: object) => process.stdout.write(JSON.stringify(line) + '\n')

const byEmail = async (email: string): Promise<Account> => {
  const found = await Account.index('email').one(email)
  if (!found) throw new Error(`no account ${email}`)
  return found as Account
}

const commands: Record<string, (args: any) => Promise<unknown>> = {
  async create({ accounts }: { accounts: { email: string; name: string }[] }) {
    // Each create on its own, all at once: report each outcome.
    return Promise.all(
      accounts.map((a) =>
        Account.create({ email: a.email, name: a.name, visits: 0 } as never).then(
          (acc) => ({ ok: true, oid: acc.oid }),
          (err) => ({ ok: false, code: err.code ?? String(err) }),
        ),
      ),
    )
  },
  async hold({ email }: { email: string }) {
    const acc = await byEmail(email)
    held.set(email, acc)
    return { name: acc.name, visits: acc.visits }
  },
  /** Holds each of these accounts (by email). */
  async holdAll({ emails }: { emails: string[] }) {
    for (const email of emails) held.set(email, await byEmail(email))
    return emails.length
  },
  /** Removes each held account, all at once, each again after a ConflictError: reports each outcome. */
  async removeAll({ emails }: { emails: string[] }) {
    const remove = async (acc: Account): Promise<{ ok: boolean; conflicted?: boolean; code?: string }> => {
      try {
        await acc.remove()
        return { ok: true }
      } catch (err: any) {
        if (err.code !== 'CONFLICT') return { ok: false, code: err.code ?? String(err) }
        await acc.remove()
        return { ok: true, conflicted: true }
      }
    }
    return Promise.all(emails.map((email) => remove(held.get(email)!)))
  },
  /** Sets properties of each held account and saves it, all at once: reports each outcome. */
  async changeAll({ changes }: { changes: Array<{ email: string; set: Record<string, unknown> }> }) {
    return Promise.all(
      changes.map(({ email, set }) => {
        const acc = held.get(email)!
        Object.assign(acc, set)
        return acc.save().then(() => ({ ok: true }), (err) => ({ ok: false, code: err.code ?? String(err) }))
      }),
    )
  },
  /** Creates `each` posts linked to each held account, all at once: reports each outcome. */
  async linkPosts({ emails, each }: { emails: string[]; each: number }) {
    const link = async (email: string, k: number): Promise<{ ok: boolean; code?: string }> => {
      try {
        const post = new Post({ title: `${email} ${k}` } as never)
        post.author.set(held.get(email)!)
        await post.save()
        return { ok: true }
      } catch (err: any) {
        return { ok: false, code: err.code ?? String(err) }
      }
    }
    return Promise.all(emails.flatMap((email) => Array.from({ length: each }, (_, k) => link(email, k))))
  },
  /** Sets the name of every account in one transaction. */
  async renameAll({ name }: { name: string }) {
    let n = 0
    await db.transaction(async () => {
      for await (const acc of Account.all()) {
        acc.name = name
        n++
      }
    })
    return n
  },
  /** Changes a held instance and saves it; a ConflictError is reported, and with retry the save runs again. */
  async change({ email, set, retry }: { email: string; set: Record<string, unknown>; retry?: boolean }) {
    const acc = held.get(email)!
    Object.assign(acc, set)
    try {
      await acc.save()
      return { saved: true }
    } catch (err: any) {
      if (!retry || err.code !== 'CONFLICT') return { saved: false, code: err.code }
      await acc.save()
      return { saved: true, conflicted: true }
    }
  },
  /** Adds posts to an account's relation, each in its own save, retrying on conflict. */
  async addPosts({ email, titles }: { email: string; titles: string[] }) {
    let conflicts = 0
    for (const title of titles) {
      for (;;) {
        try {
          await db.transaction(async () => {
            const acc = await byEmail(email)
            const post = new Post({ title } as never)
            post.author.set(acc)
            acc.posts.add(post)
          })
          break
        } catch (err: any) {
          if (err.code !== 'CONFLICT') throw err
          conflicts++
        }
      }
    }
    return { conflicts }
  },
  /** Writes transactions until killed, announcing each before (B n) and after (A n) it commits. */
  async churn({ email, prefix }: { email: string; prefix: string }) {
    for (let n = 0; ; n++) {
      process.stdout.write(`B ${n}\n`)
      try {
        await db.transaction(async () => {
          const acc = await byEmail(email)
          const post = new Post({ title: `${prefix}${n}` } as never)
          post.author.set(acc)
          acc.posts.add(post)
          acc.visits = (acc.visits ?? 0) + 1
        })
        process.stdout.write(`A ${n}\n`)
      } catch (err: any) {
        process.stdout.write(`E ${n} ${err.code ?? 'none'} ${err.retryable === true}\n`)
        await new Promise((r) => setTimeout(r, 20))
      }
    }
  },
  async get({ email }: { email: string }) {
    await db.catchUp()
    const acc = await byEmail(email)
    return { name: acc.name, visits: acc.visits, posts: acc.posts.size }
  },
}

createInterface({ input: process.stdin }).on('line', async (line) => {
  const { id, op, ...args } = JSON.parse(line)
  try {
    answer({ id, ok: true, value: await commands[op]!(args) })
  } catch (err: any) {
    answer({ id, ok: false, error: { code: err.code, message: err.message } })
  }
})
process.stdin.on('end', async () => {
  await db.close()
  process.exit(0)
})
answer({ ready: true })
