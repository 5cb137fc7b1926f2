/**
 * The quickstart: `npm start` runs it. It writes a LevelDB store under ./data, reopens it, reads
 * the objects back, and shows validation at work.
 */
import { Database, Model, Property, StoredObject, StoredRaw, Types, ValidationError } from '../src/index.js'

@Model()
class Account extends StoredObject {
  @Property(Types.EMAIL, { required: true }) email!: string
  @Property(Types.STRING) name!: string
  @Property() nickname?: string
  @Property(Types.LIST(Types.STRING)) roles: string[] = []
}

@Model({ collection: 'articles' })
class Article extends StoredObject {
  @Property(Types.LINE, { required: true }) title!: string
  @Property(Types.MARKDOWN) content = ''
  @Property(Types.ENUM('draft', 'published', 'archived')) status = 'draft'
  @Property(Types.DATE) date?: Date
  @Property(Types.REFERENCE(() => Account)) author?: string
}

@Model()
class Attachment extends StoredRaw {
  @Property(Types.LINE) name?: string
}

const path = process.env.STOWAGE_DATA ?? './data'
const models = [Account, Article, Attachment]

let db = await Database.open({ path, models })
console.log(`Opened the LevelDB store in ${path}: ${await Account.count()} accounts, ${await Article.count()} articles already there.`)

const ann = await Account.create({ email: 'ann@example.com', name: 'Ann', roles: ['editor'] })
await db.transaction(async () => {
  for (const [title, status] of [['Hello, Stowage', 'published'], ['Typed objects on LevelDB', 'draft']] as const) {
    new Article({ title, status, date: new Date(), author: ann.oid, content: `# ${title}` }) // saved when the transaction commits
  }
})
console.log(`Created account ${ann.oid} (${ann.email}) and 2 articles in one transaction.`)

// Raw data is streamed in (here from an async generator: 3 MB never held at once) and out.
async function* pages() {
  for (let i = 0; i < 48; i++) yield new Uint8Array(64 * 1024).fill(i)
}
const report = await Attachment.create(pages(), { format: 'bin', name: 'report.bin', pages: 48 })
let streamed = 0
for await (const chunk of report.data(256 * 1024)) streamed += chunk.length
console.log(`Stored attachment ${report.meta('name')}: ${report.size} bytes (sha256 ${report.sha256!.slice(0, 12)}...), read back ${streamed} bytes.`)

const bad = new Account({ email: 'not-an-email', name: 'Bob' })
try {
  await bad.save()
} catch (err) {
  if (!(err instanceof ValidationError)) throw err
  console.log(`Refused an invalid account: ${err.errors.map((e) => `${e.property} ${JSON.stringify(e.value)} ${e.reason}`).join('; ')}`)
}

await db.close()
db = await Database.open({ path, models })
const again = await Account.get(ann.oid)
console.log(`After reopening: ${again?.name} <${again?.email}>, roles ${JSON.stringify(again?.roles)}, saved at ${new Date(again!.getUpdateTime()!).toISOString()}`)
for (const article of await Article.list({ start: 0, count: 5 })) {
  console.log(`  article ${article.oid}: "${article.title}" [${article.status}] by ${article.author}`)
}
console.log(`The store now holds ${await Account.count()} accounts, ${await Article.count()} articles and ${await Attachment.count()} attachments.`)
await db.close()
