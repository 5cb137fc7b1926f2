import { hasLoneSurrogate } from '../engine/plain-data.js'
import { ModelDefinitionError, RelationError } from '../errors.js'
import { claimMember, decoratedTarget, legacyField, memberName, type FieldDecorator, type MemberTarget } from '../model/decorators.js'
import { metaOf, modelClass, type RelationMeta } from '../model/meta.js'
import { STATE } from '../model/object-state.js'
import { isStandardContext, queueDeclaration } from '../model/standard-decorators.js'
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
export function Relation(target: RelationTarget): FieldDecorator {
  return ((proto: object | undefined, key: unknown, descriptor?: unknown) => {
    if (isStandardContext(key)) {
      return queueDeclaration('@Relation', key, (ctor, name) => {
        declareRelation(decoratedTarget(ctor, 'standard'), memberName(ctor, name, '@Relation'), target)
      })
    }
    const at = legacyField('@Relation', proto, key, descriptor)
    declareRelation(at, at.name, target)
  }) as FieldDecorator
}

/** `() => Account` for a `One<Account>`, `() => [Comment]` for a `Many<Comment>`. */
export type RelationTarget = () => Function | [Function]

export function declareRelation(at: MemberTarget, name: string, target: RelationTarget): void {
  const { ctor } = at
  if (typeof target !== 'function' || isClass(target)) {
    const given = typeof target === 'function' ? `the class ${target.name}` : String(target)
    const usage = at.how === 'options' ? `relations: { ${name}: () => Account } or { ${name}: () => [Comment] }` : '@Relation(() => Account) or @Relation(() => [Comment])'
    throw new ModelDefinitionError(`${ctor.name}.${name}: a relation takes a thunk such as ${usage}, got ${given}`)
  }
  if (name.includes('\x00') || hasLoneSurrogate(name)) {
    throw new ModelDefinitionError(`${ctor.name}: relation name ${JSON.stringify(name)} must not contain NUL or lone surrogates`)
  }
  claimMember(at, name, 'relation')
  const meta: RelationMeta = {
    name,
    target: () => {
      const value = target()
      return Array.isArray(value) ? value.map(modelClass) : modelClass(value)
    },
    get many() {
      return resolveRelation(ctor, meta).many
    },
  }
  at.decl.relations.set(name, meta)
  defineRelationAccessor(at.proto, meta)
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
