// The model the PostgreSQL benches write (postgres.ts, postgres-worker.ts, postgres-layout.ts), and
// the properties of member i. A module of its own: the worker runs its task when imported.
import { defineModel, Indexing, StoredObject, Types } from '../src/index.js'

export class Member extends StoredObject {
  declare email: string
  declare name: string
  declare score: number
}

export const MemberModel = defineModel(Member, {
  collection: 'members',
  properties: { email: Types.STRING, name: Types.STRING, score: Types.INTEGER },
  indexes: { email: { property: 'email', fn: Indexing.normalize, unique: true }, name: { property: 'name' } },
})

export const member = (i: number) => ({ email: `member${i}@example.com`, name: `Member ${i % 1000}`, score: i })
