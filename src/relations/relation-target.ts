import { describeValue } from '../engine/engine.js'
import { ModelDefinitionError, NotRegisteredError } from '../errors.js'
import { metaOf, type ModelMeta, type RelationMeta } from '../model/meta.js'

interface Resolved {
  target: ModelMeta
  many: boolean
}

const resolved = new WeakMap<RelationMeta, Resolved>()

/**
 * Evaluates a relation's thunk (`() => Account` or `() => [Comment]`) on first use, when every
 * model of the file is declared, and remembers the answer.
 */
export function resolveRelation(owner: ModelMeta | Function, relation: RelationMeta): Resolved {
  const known = resolved.get(relation)
  if (known !== undefined) return known
  const ownerName = typeof owner === 'function' ? owner.name : owner.ctor.name
  let value: unknown
  try {
    value = relation.target()
  } catch (err) {
    throw new ModelDefinitionError(`${ownerName}.${relation.name}: its @Relation thunk threw: ${(err as Error)?.message ?? String(err)}`)
  }
  const many = Array.isArray(value)
  const ctor = many ? (value as unknown[])[0] : value
  const target = typeof ctor === 'function' ? metaOf(ctor) : undefined
  if (target === undefined || (many && (value as unknown[]).length !== 1)) {
    throw new ModelDefinitionError(
      `${ownerName}.${relation.name}: @Relation(() => Model) or @Relation(() => [Model]) must return a model class (declared with @Model() or the class defineModel() returned), got ${many ? 'an array of ' + (value as unknown[]).length + ': ' + (value as unknown[]).map(describeValue).join(', ') : describeValue(ctor)}`,
    )
  }
  const r = { target, many }
  resolved.set(relation, r)
  return r
}

/** The target model, registered in the owner's database (NotRegisteredError naming both otherwise). */
export function registeredTarget(owner: ModelMeta, relation: RelationMeta): ModelMeta {
  const { target } = resolveRelation(owner, relation)
  if (owner.db !== undefined && target.db !== owner.db) {
    throw new NotRegisteredError(
      `${owner.ctor.name}.${relation.name} links to ${target.ctor.name}, which is not registered in the database ${owner.ctor.name} is registered in: add ${target.ctor.name} to Database.open({ models }) or call db.use(${target.ctor.name})`,
    )
  }
  return target
}

/** `Comment.replies`, for messages. */
export function relationLabel(owner: ModelMeta, relation: RelationMeta | string): string {
  return `${owner.ctor.name}.${typeof relation === 'string' ? relation : relation.name}`
}
