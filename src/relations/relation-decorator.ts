import { ModelDefinitionError, RelationError } from '../errors.js'
import { claimMember, memberName, rejectStandardDecorators } from '../model/decorators.js'
import { declarationsOf, metaOf, type RelationMeta } from '../model/meta.js'
import { STATE } from '../model/object-state.js'
import { StoredObject } from '../model/stored-object.js'
import { Many } from './many.js'
import { One } from './one.js'
import { linksOf } from './relation-state.js'
import { resolveRelation, relationLabel } from './relation-target.js'

/**
 * Declares a relation. The argument is a thunk, so a model declared later in the file (or the
 * class itself) can be named: `() => Account` for a `One<Account>`, `() => [Comment]` for a
 * `Many<Comment>`. The member reads as the relation handle; assigning to it sets the link(s):
 * `comment.author = account` is `comment.author.set(account)`, and `comment.replies = [a, b]`
 * replaces every link with a, b.
 *
 * @example
 * ```ts
 * @Model()
 * class Comment extends StoredObject {
 *   @Relation(() => Account) author!: One<Account>
 *   @Relation(() => [Comment]) replies!: Many<Comment>
 * }
 * ```
 */
export function Relation(target: () => Function | [Function]): PropertyDecorator {
  return (proto: object, key: string | symbol, context?: unknown) => {
    rejectStandardDecorators('@Relation', context)
    const ctor = (proto as { constructor: Function }).constructor
    const name = memberName(ctor, key, '@Relation')
    if (typeof target !== 'function' || isClass(target)) {
      const given = typeof target === 'function' ? `the class ${target.name}` : String(target)
      throw new ModelDefinitionError(`${ctor.name}.${name}: @Relation takes a thunk such as @Relation(() => Account) or @Relation(() => [Comment]), got ${given}`)
    }
    if (name.includes('\x00') || /\p{Surrogate}/u.test(name)) {
      throw new ModelDefinitionError(`${ctor.name}: relation name ${JSON.stringify(name)} must not contain NUL or lone surrogates`)
    }
    claimMember(ctor, name, '@Relation')
    const meta: RelationMeta = {
      name,
      target,
      get many() {
        return resolveRelation(ctor, meta).many
      },
    }
    declarationsOf(ctor).relations.set(name, meta)
    defineRelationAccessor(proto, meta)
  }
}

function isClass(fn: Function): boolean {
  return fn === StoredObject || fn.prototype instanceof StoredObject || metaOf(fn) !== undefined || /^class[\s{]/.test(Function.prototype.toString.call(fn))
}

const HANDLES = 'relationHandles'

/** The handle (One or Many) of an instance's relation, created on first read. */
export function handleOf(owner: StoredObject, relation: RelationMeta): One | Many {
  const extra = owner[STATE].extra
  let handles = extra[HANDLES] as Map<string, One | Many> | undefined
  if (handles === undefined) extra[HANDLES] = handles = new Map()
  let handle = handles.get(relation.name)
  if (handle === undefined) {
    const links = linksOf(owner, relation)
    handle = links.kind === 'one' ? new One(links) : new Many(links)
    handles.set(relation.name, handle)
  }
  return handle
}

/** The relation is the accessor on the prototype: reads give the handle, writes set the links. */
function defineRelationAccessor(proto: object, relation: RelationMeta): void {
  Object.defineProperty(proto, relation.name, {
    configurable: true,
    enumerable: true,
    get(this: StoredObject) {
      return this[STATE] === undefined ? undefined : handleOf(this, relation)
    },
    set(this: StoredObject, value: unknown) {
      if (this[STATE] === undefined) return
      assignRelation(this, relation, value)
    },
  })
}

function assignRelation(owner: StoredObject, relation: RelationMeta, value: unknown): void {
  const handle = handleOf(owner, relation)
  if (value === handle) return
  const label = relationLabel(owner[STATE].meta, relation)
  if (value instanceof One || value instanceof Many) {
    throw new RelationError(`${label}: assign an object (or objects), not another relation; e.g. obj.${relation.name}.set(await other.${relation.name}.one())`)
  }
  if (handle instanceof One) return handle.set(value as StoredObject | undefined)
  if (value === undefined || value === null) {
    handle.clear()
    return
  }
  if (typeof value !== 'object' || typeof (value as Iterable<unknown>)[Symbol.iterator] !== 'function') {
    throw new RelationError(`${label}: assign an array of objects (it replaces every link), got ${typeof value}`)
  }
  handle.replace([...(value as Iterable<StoredObject>)])
}
