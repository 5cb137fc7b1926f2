/**
 * The quickstart: `npm start` runs it. It writes a LevelDB store under ./data, reopens it, reads
 * the objects back with their relations, queries them across indexes, and shows validation at work.
 */
import { Database, Index, Indexing, Many, Model, One, Property, Relation, StoredObject, StoredRaw, Types, ValidationError } from '../src/index.js'

@Model()
class Account extends StoredObject {
  @Property(Types.EMAIL, { required: true }) @Index(Indexing.normalize, { unique: true }) email!: string
  @Property(Types.STRING) name!: string
  @Property() nickname?: string
  @Property(Types.LIST(Types.STRING)) roles: string[] = []
}

@Model({ collection: 'articles', indexes: { words: (a: Article) => Indexing.keywords([a.title, a.content]) } })
class Article extends StoredObject {
  declare static indexes: { words: string } // the computed index's name and key type, for Article.index()
  @Property(Types.LINE, { required: true }) title!: string
  @Property(Types.MARKDOWN) content = ''
  @Property(Types.ENUM('draft', 'published', 'archived')) @Index() status = 'draft'
  @Property(Types.DATE) @Index() date?: Date
  @Relation(() => Account) author!: One<Account> // a link to one object, saved with the article
}

@Model()
class Comment extends StoredObject {
  @Property(Types.STRING) text = ''
  @Relation(() => Account) author!: One<Account>
  @Relation(() => [Comment]) replies!: Many<Comment> // an ordered list of links, here to the same model
}

@Model()
class Attachment extends StoredRaw {
  @Property(Types.LINE) name?: string
}

const path = process.env.STOWAGE_DATA ?? './data'
const models = [Account, Article, Comment, Attachment]

let db = await Database.open({ path, models })
console.log(`Opened the LevelDB store in ${path}: ${await Account.count()} accounts, ${await Article.count()} articles already there.`)

// The email index is normalized and unique: look the account up before creating it (npm start runs again and again).
const ann =
  (await Account.index('email').one(Indexing.normalize('  Ann@Example.com '))) ??
  (await Account.create({ email: 'ann@example.com', name: 'Ann', roles: ['editor'] }))
await db.transaction(async () => {
  for (const [title, status] of [['Hello, Stowage', 'published'], ['Typed objects on LevelDB', 'draft']] as const) {
    const article = new Article({ title, status, date: new Date(), content: `# ${title}` }) // saved when the transaction commits
    article.author.set(ann)
  }
})
console.log(`Created account ${ann.oid} (${ann.email}) and 2 articles in one transaction.`)

// A comment with a reply: the reply is not saved yet, so saving the comment saves it in the same write.
const comment = new Comment({ text: 'Great read!' })
comment.author.set(ann)
comment.replies.add(new Comment({ text: 'Thanks!' }))
await comment.save()
console.log(`Comment ${comment.oid} has ${comment.replies.size} reply; its author is the same instance: ${(await comment.author.one()) === ann}.`)

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
  console.log(`  article ${article.oid}: "${article.title}" [${article.status}] by ${(await article.author.one())?.name}`)
}
const found: string[] = []
for await (const a of Article.index('words').get(Indexing.keyword('LevelDB'))) found.push(a.title)
console.log(`Keyword search "LevelDB": ${found.length} article(s), e.g. "${found[0]}"; ${await Article.index('status').count('published')} published in all.`)

// Queries across indexes: find() picks a plan from index statistics (no object read to choose it).
const aboutStowage = Article.find({ where: { status: 'published', words: Indexing.keyword('Stowage') } })
console.log(`Published and about Stowage: ${await aboutStowage.count()} article(s) (counted on the indexes), the first "${(await aboutStowage.first())?.title}".`)
const since = new Date(Date.now() - 60_000)
for await (const a of Article.find({ where: { date: { gte: since } }, orderBy: { date: 'desc' }, limit: 3 })) {
  console.log(`  one of the 3 latest articles of the last minute: "${a.title}", ${a.date!.toISOString()}`)
}
const { plan, actual } = await aboutStowage.explain()
console.log(`explain(): ${plan} (read ${actual.indexEntries} index entries, ${actual.keysRecords} keys records, ${actual.objects} objects for ${actual.results} results)`)
const back = (await Comment.get(comment.oid))!
for await (const reply of back.replies) console.log(`  comment "${back.text}" has the reply "${reply.text}" (${back.replies.size} in all)`)
console.log(`The store now holds ${await Account.count()} accounts, ${await Article.count()} articles, ${await Comment.count()} comments and ${await Attachment.count()} attachments.`)
await db.close()
