/** Stowage with its defaults (an LRU of 1,000 objects), on LevelDB (its default engine) or LMDB. */
import { join } from 'node:path'
import type * as Stowage from '../../src/index.js'
import { STATUSES, type ArticleData, type Id, type Peer, type PeerStore } from './workload.js'

/**
 * The package as an app loads it, through its entry point (the bundle `npm run build` writes to
 * dist/lib), so that load time and memory are what users get. Named through a constant so that
 * TypeScript takes the types from the sources.
 */
const PACKAGE = 'stowage'
export const lib = (await import(PACKAGE)) as typeof Stowage
const { Database, Index, LevelEngine, LmdbEngine, Model, Property, StoredObject, Types } = lib

@Model({ collection: 'articles' })
class Article extends StoredObject {
  @Property(Types.STRING) title!: string
  @Property(Types.STRING) @Index() author!: string
  @Property(Types.ENUM(...STATUSES)) @Index() status!: string
  @Property(Types.LIST(Types.STRING)) tags!: string[]
  @Property(Types.INTEGER) @Index() score!: number
  @Property(Types.STRING) body!: string
}

/** The same workload code on whichever engine `engine` makes for the store's directory. */
export function onEngine(engine: (dir: string) => Stowage.Engine): Peer {
  return {
    async open(dir: string): Promise<PeerStore> {
      const db = await Database.open({ engine: engine(dir), models: [Article] })
      return {
        async insert(batch: ArticleData[]) {
          const ids: Id[] = []
          await db.transaction(() => {
            for (const a of batch) ids.push(new Article(a).oid)
          })
          return ids
        },
        get: (id) => Article.get(String(id)),
        async byAuthor(author) {
          let n = 0
          for await (const _ of Article.index('author').get(author)) n++
          return n
        },
        async scoreRange(gte, lt) {
          let n = 0
          for await (const _ of Article.index('score').list({ gte, lt })) n++
          return n
        },
        close: () => db.close(),
      }
    },
  }
}

export const level = onEngine((dir) => new LevelEngine(join(dir, 'stowage')))
export const lmdb = onEngine((dir) => new LmdbEngine(join(dir, 'stowage.lmdb')))
