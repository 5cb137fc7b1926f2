// Model.index(name): names and query keys.
import { expectTypeOf } from 'vitest'
import type { IndexResults, IndexView, LiveQuery } from '../../../src/index.js'
import { Account, Comment, Image, Reply, Visit } from './models.js'

// Property indexes: named after the member, keyed by its values' type.
expectTypeOf(Account.index('email')).toEqualTypeOf<IndexView<Account, string>>()
expectTypeOf(Account.index('age')).toEqualTypeOf<IndexView<Account, number>>()
expectTypeOf(Account.index('roles')).toEqualTypeOf<IndexView<Account, string>>() // one key per element
expectTypeOf(Account.index('joined')).toEqualTypeOf<IndexView<Account, Date>>()
expectTypeOf(Account.index('status')).toEqualTypeOf<IndexView<Account, 'active' | 'closed'>>()
expectTypeOf(Account.index('admin')).toEqualTypeOf<IndexView<Account, boolean>>()
expectTypeOf(Account.index('settings')).toEqualTypeOf<IndexView<Account, string | number | boolean | Date>>() // not a key type
expectTypeOf(Comment.index('author')).toEqualTypeOf<IndexView<Comment, string>>() // a One relation: the linked oid

// @ts-expect-error no such member
Account.index('nope')
// @ts-expect-error a getter
Account.index('label')
// @ts-expect-error a method
Account.index('greet')
// @ts-expect-error Stowage's own member
Account.index('oid')
// @ts-expect-error a Many relation cannot be indexed
Comment.index('replies')

// Query keys.
Account.index('age').get(3)
Account.index('age').list({ gte: 1, lt: 10, reverse: true })
Account.index('email').list({ prefix: 'ann' })
Account.index('joined').list({ gte: new Date(0) })
Account.index('status').one('active')
// @ts-expect-error a string key for a number index
Account.index('age').list({ gte: 1, lte: 'x' })
// @ts-expect-error a string key for a number index
Account.index('age').get('3')
// @ts-expect-error a number key for a string index
Account.index('email').count(5)
// @ts-expect-error not a value of the literal union
Account.index('status').has('open')
// @ts-expect-error a Date index queried with a number
Account.index('joined').one(0)
// @ts-expect-error prefix is a string whatever the index
Account.index('age').list({ prefix: 1 })

// What queries give.
expectTypeOf(Account.index('age').get(3)).toEqualTypeOf<IndexResults<Account>>()
expectTypeOf(Account.index('age').get(3)).toMatchTypeOf<AsyncIterable<Account>>()
expectTypeOf(Account.index('age').list({ gte: 3 }).watch()).toEqualTypeOf<LiveQuery<Account>>()
expectTypeOf(Account.index('age').one(3)).toEqualTypeOf<Promise<Account | undefined>>()
expectTypeOf(Account.index('age').keys()).toEqualTypeOf<AsyncGenerator<number>>()
expectTypeOf(Account.index('status').duplicates()).resolves.items.toHaveProperty('key').toEqualTypeOf<'active' | 'closed'>()

// Computed and renamed indexes: names and key types from `declare static indexes`.
expectTypeOf(Comment.index('words')).toEqualTypeOf<IndexView<Comment, string>>()
expectTypeOf(Comment.index('edited')).toEqualTypeOf<IndexView<Comment, number>>()
expectTypeOf(Image.index('touched')).toEqualTypeOf<IndexView<Image, number>>()
expectTypeOf(Image.index('width')).toEqualTypeOf<IndexView<Image, number>>()
expectTypeOf(Visit.index('at')).toEqualTypeOf<IndexView<Visit, number>>() // the declaration wins over the member's type
Comment.index('words').list({ prefix: 'sto' })
// @ts-expect-error the declared key type, not the member's
Visit.index('at').get(new Date())
// @ts-expect-error a number key for a string index
Comment.index('words').get(1)
// @ts-expect-error a computed index the model does not declare
Account.index('words')

// A subclass inherits its base's members and declaration.
expectTypeOf(Reply.index('words')).toEqualTypeOf<IndexView<Reply, string>>()
expectTypeOf(Reply.index('hidden')).toEqualTypeOf<IndexView<Reply, boolean>>()

// IndexView's defaults are unchanged.
expectTypeOf<IndexView<Account>>().toEqualTypeOf<IndexView<Account, string | number | boolean | Date>>()
