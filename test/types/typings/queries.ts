// Model.find(options): names, conditions typed by key type, results.
import { expectTypeOf } from 'vitest'
import type { Query, QueryExplanation } from '../../../src/index.js'
import { Account, Comment, Reply, Visit } from './models.js'

// Results are typed by the model.
expectTypeOf(Account.find()).toEqualTypeOf<Query<Account>>()
expectTypeOf(Account.find({ where: { age: 3 } }).first()).toEqualTypeOf<Promise<Account | undefined>>()
expectTypeOf(Account.find().count()).toEqualTypeOf<Promise<number>>()
expectTypeOf(Account.find().oids()).toEqualTypeOf<Promise<string[]>>()
expectTypeOf(Account.find().explain()).toEqualTypeOf<Promise<QueryExplanation>>()
expectTypeOf(Account.find()).toMatchTypeOf<AsyncIterable<Account>>()
expectTypeOf(Reply.find()).toEqualTypeOf<Query<Reply>>()

// Conditions: a key, { in }, ranges, prefix; on indexes, computed indexes and properties without one.
Account.find({ where: { email: 'ann@example.com', age: { gte: 18, lt: 65 }, status: { in: ['active'] }, admin: true } })
Account.find({ where: { joined: { gt: new Date(0) }, roles: 'editor', name: { prefix: 'An' } } })
Comment.find({ where: { words: { prefix: 'sto' }, edited: { gte: 0 }, author: 'some-oid' } })
Account.find({ where: { roles: { all: ['editor', 'admin'] } } })
Visit.find({ where: { at: { lt: 5 } } }) // the declared key type
Account.find({ or: [{ age: 1 }, { status: 'closed' }], filter: (a) => a.age !== undefined, orderBy: { joined: 'desc' }, offset: 10, limit: 20 })
Account.find({ orderBy: { name: 'asc' } }) // a property without an index

// @ts-expect-error no such index or property
Account.find({ where: { nope: 1 } })
// @ts-expect-error a getter
Account.find({ where: { label: 'x' } })
// @ts-expect-error a method
Account.find({ orderBy: { greet: 'asc' } })
// @ts-expect-error Stowage's own member
Account.find({ where: { oid: 'x' } })
// @ts-expect-error a Many relation
Comment.find({ where: { replies: 'x' } })
// @ts-expect-error a computed index the model does not declare
Account.find({ where: { words: 'x' } })
// @ts-expect-error a string key for a number index
Account.find({ where: { age: '3' } })
// @ts-expect-error a string bound for a number index
Account.find({ where: { age: { gte: 1, lt: 'x' } } })
// @ts-expect-error not a value of the literal union
Account.find({ where: { status: 'open' } })
// @ts-expect-error not a value of the literal union
Account.find({ where: { status: { in: ['active', 'open'] } } })
// @ts-expect-error a range on a boolean
Account.find({ where: { admin: { gt: false } } })
// @ts-expect-error prefix on number keys
Account.find({ where: { age: { prefix: '1' } } })
// @ts-expect-error a Date index queried with a number
Account.find({ where: { joined: 0 } })
// @ts-expect-error the declared key type, not the member's
Visit.find({ where: { at: new Date() } })
// @ts-expect-error a direction is 'asc' or 'desc'
Account.find({ orderBy: { age: 'up' } })
// @ts-expect-error or takes conditions objects
Account.find({ or: { age: 1 } })
// @ts-expect-error filter receives the model's instances
Account.find({ filter: (a: Comment) => a.text === '' })
// @ts-expect-error limit is a number
Account.find({ limit: '10' })
// @ts-expect-error no such option
Account.find({ sort: { age: 'asc' } })
// @ts-expect-error all takes keys of the index's type
Account.find({ where: { roles: { all: [1] } } })
