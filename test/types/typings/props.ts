// Props<T>: what the constructor, create, ensure and update accept.
import { expectTypeOf } from 'vitest'
import type { Database, Props } from '../../../src/index.js'
import { Account, Comment, Image, Reply } from './models.js'

declare const db: Database
declare const account: Account
declare const comment: Comment
declare const reply: Reply

// The data members, each optional; no methods, getters or Stowage members.
expectTypeOf<Props<Account>>().toEqualTypeOf<{
  email?: string
  name?: string | undefined
  age?: number | undefined
  roles?: string[]
  joined?: Date | undefined
  status?: 'active' | 'closed'
  admin?: boolean
  settings?: { theme: string } | undefined
}>()
// Relations take what assigning them takes: the object(s), not the handle.
expectTypeOf<Props<Comment>>().toEqualTypeOf<{
  text?: string
  author?: Account | undefined | null
  replies?: Iterable<Comment> | undefined | null
}>()
expectTypeOf<Props<Reply>>().toHaveProperty('hidden')
expectTypeOf<Props<Reply>>().toHaveProperty('text')
// A raw model's size, sha256 and contentType are getters, not props.
expectTypeOf<keyof Props<Image>>().toEqualTypeOf<'width' | 'caption'>()

// create
expectTypeOf(Account.create({ email: 'ann@example.com', roles: ['editor'] })).toEqualTypeOf<Promise<Account>>()
Account.create()
Account.create({})
// @ts-expect-error misspelled key
Account.create({ emial: 'ann@example.com' })
// @ts-expect-error wrong value type
Account.create({ email: 5 })
// @ts-expect-error wrong value type in a list
Account.create({ roles: [1] })
// @ts-expect-error not a value of the literal union
Account.create({ status: 'open' })
// @ts-expect-error a getter
Account.create({ label: 'Ann' })
// @ts-expect-error a method
Account.create({ greet: () => 'hi' })
// @ts-expect-error Stowage's own member
Account.create({ oid: '01hzzzzzzzzzzzzzzzzzzzzzzz' })
// @ts-expect-error Stowage's own member
Account.create({ type: 'Account' })
// @ts-expect-error reserved
Account.create({ updates: {} })
// @ts-expect-error not an object
Account.create('ann@example.com')

// relations
Comment.create({ author: account, replies: [comment] })
Comment.create({ author: undefined, replies: new Set([comment, reply]) })
Comment.create({ author: null, replies: null })
// @ts-expect-error an object of another model
Comment.create({ author: comment })
// @ts-expect-error an oid is not accepted where the object is
Comment.create({ author: account.oid })
// @ts-expect-error a Many takes an iterable, not one object
Comment.create({ replies: comment })
// @ts-expect-error a Many of another model
Comment.create({ replies: [account] })
// @ts-expect-error the handle of another object
Comment.create({ author: comment.author })

// ensure
expectTypeOf(Account.ensure('ann', { email: 'ann@example.com' })).toEqualTypeOf<Promise<Account>>()
Account.ensure('ann')
// @ts-expect-error misspelled key
Account.ensure('ann', { emial: 'ann@example.com' })
// @ts-expect-error wrong relation target
Comment.ensure('c', { author: comment })

// update, on the instance and on the database
expectTypeOf(account.update({ name: 'Ann' })).toEqualTypeOf<Promise<Account>>()
comment.update({ author: account, replies: [] })
reply.update({ hidden: true, text: 'x' })
db.update(account, { age: 3 })
// @ts-expect-error misspelled key
account.update({ nmae: 'Ann' })
// @ts-expect-error wrong value type
account.update({ age: '3' })
// @ts-expect-error wrong relation target
comment.update({ author: reply })
// @ts-expect-error misspelled key
db.update(account, { nmae: 'Ann' })
// @ts-expect-error a key of another model
db.update(comment, { email: 'x@example.com' })

// Generic code over any model still compiles.
export async function touch<T extends Account>(obj: T, props: Props<T>): Promise<T> {
  return obj.update(props)
}
