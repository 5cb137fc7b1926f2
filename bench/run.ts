/**
 * `npm run bench [name]`: runs one named bench, or all of them in order.
 * To add a bench, add a line to BENCHES: a module with `export async function run(): Promise<void>`.
 */
type Bench = { run(): Promise<void> }

const BENCHES: Record<string, () => Promise<Bench>> = {
  codec: () => import('./codec.js'),
  'raw-chunks': () => import('./raw-chunks.js'),
  engines: () => import('./engines.js'),
  models: () => import('./models.js'),
  indexes: () => import('./indexes.js'),
  reads: () => import('./reads.js'),
  raw: () => import('./raw.js'),
  relations: () => import('./relations.js'),
  peers: () => import('./peers/index.js'),
  builds: () => import('./builds.js'),
  'builds-reads': () => import('./builds-reads.js'),
  'builds-queries': () => import('./builds-queries.js'),
  'load-memory': () => import('./load-memory.js'),
  queries: () => import('./queries.js'),
  migrations: () => import('./migrations.js'),
  'live-queries': () => import('./live-queries.js'),
  encryption: () => import('./encryption.js'),
  compression: () => import('./compression.js'),
  tools: () => import('./tools.js'),
  postgres: () => import('./postgres.js'),
  startup: () => import('./startup.js'),
  'single-saves': () => import('./single-saves.js'),
  'lmdb-layout': () => import('./lmdb-layout.js'),
  'concurrent-saves': () => import('./concurrent-saves.js'),
  'unique-indexes': () => import('./unique-indexes.js'),
}

const name = process.argv[2]
if (name !== undefined && !(name in BENCHES)) {
  console.error(`Unknown bench ${JSON.stringify(name)}; known: ${Object.keys(BENCHES).join(', ')}`)
  process.exit(2)
}
for (const [benchName, load] of Object.entries(BENCHES)) {
  if (name !== undefined && benchName !== name) continue
  console.log(`\n## ${benchName}\n`)
  await (await load()).run()
}
