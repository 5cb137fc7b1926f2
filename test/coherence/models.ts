import { Database, defineModel, Indexing, PostgresEngine, StoredObject, Types, type Many, type One } from '../../src/index.js'

/** The models the processes of the multi-process tests share: a unique index, a plain one, and a relation with its reverse. */
class AccountClass extends StoredObject {
  declare email: string
  declare name: string
  declare visits: number
  declare posts: Many<PostClass>
}
class PostClass extends StoredObject {
  declare title: string
  declare author: One<AccountClass>
}

export const Account: typeof AccountClass = defineModel(AccountClass, {
  collection: 'accounts',
  properties: { email: Types.STRING, name: Types.STRING, visits: Types.INTEGER },
  relations: { posts: (): [typeof PostClass] => [Post] },
  indexes: { email: { property: 'email', fn: Indexing.normalize, unique: true }, name: { property: 'name' } },
})
export const Post: typeof PostClass = defineModel(PostClass, {
  collection: 'posts',
  properties: { title: Types.STRING },
  relations: { author: (): typeof AccountClass => Account },
  indexes: { title: { property: 'title' } },
})

export type Account = AccountClass
export type Post = PostClass

export function openShared(url: string, schema: string): Promise<Database> {
  return Database.open({ engine: new PostgresEngine({ connectionString: url, schema, poolSize: 3 }), models: [Account, Post] })
}
