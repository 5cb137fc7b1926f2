// What `new Model(props)` checks. A constructor parameter cannot be typed by the subclass (`this`
// is not allowed there), so it is checked when the class names itself as StoredObject's type
// argument or declares a constructor; otherwise it takes any object, as before.
import { expectTypeOf } from 'vitest'
import { Account, Comment, Guest, Image, Member } from './models.js'

declare const account: Account

// extends StoredObject<Member>
expectTypeOf(new Member({ email: 'ann@example.com', sponsor: account })).toEqualTypeOf<Member>()
new Member()
// @ts-expect-error misspelled key
new Member({ emial: 'ann@example.com' })
// @ts-expect-error wrong value type
new Member({ email: 5 })
// @ts-expect-error wrong relation target
new Member({ sponsor: new Member() })
// @ts-expect-error Stowage's own member
new Member({ oid: 'x' })

// a declared constructor
new Guest({ name: 'Ann' })
// @ts-expect-error misspelled key
new Guest({ nmae: 'Ann' })

// plain `extends StoredObject`: any object, not a primitive
new Account({ email: 'ann@example.com' })
new Account({ emial: 'unchecked' })
new Comment({ author: account })
new Image({ width: 3 })
// @ts-expect-error not an object
new Account('ann@example.com')
