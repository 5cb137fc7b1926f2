import { ModelDefinitionError } from '../errors.js'

// TypeScript gives standard decorators a metadata object only where Symbol.metadata exists (Node 20
// has none); esbuild and tsx fall back to Symbol.for('Symbol.metadata'). Defining it as that symbol
// makes both compilers produce metadata, stored under the same key.
;(Symbol as { metadata?: symbol }).metadata ??= Symbol.for('Symbol.metadata')
const SYMBOL_METADATA = (Symbol as unknown as { metadata: symbol }).metadata

/** The second argument of a TC39 standard decorator. */
export interface DecoratorContext {
  kind: string
  name: string | symbol
  static?: boolean
  private?: boolean
  metadata?: object
}

/** Standard decorators are called `(value, context)`; legacy ones `(target, key, descriptor)`. */
export function isStandardContext(arg: unknown): arg is DecoratorContext {
  return typeof arg === 'object' && arg !== null && 'kind' in arg
}

interface Queue {
  /** The first member queued, for messages. */
  first: string
  declarations: ((ctor: Function) => void)[]
  applied: boolean
  error?: unknown
}

const QUEUE = Symbol('stowage.queuedDeclarations')

/**
 * A standard member decorator is not given its class, so it queues its declaration in the class's
 * decorator metadata; `@Model` (which runs after the member decorators) declares it with the class.
 */
export function queueDeclaration(decorator: string, context: DecoratorContext, declare: (ctor: Function, name: string | symbol) => void): void {
  if (context.kind === 'class') {
    throw new ModelDefinitionError(`${decorator} decorates an instance field, not the class ${String(context.name)}; put it on a field (name!: type)`)
  }
  const metadata = context.metadata
  if (typeof metadata !== 'object' || metadata === null) {
    throw new ModelDefinitionError(
      `${decorator} on ${String(context.name)}: the compiler gave the standard decorator no metadata object (context.metadata); use TypeScript 5.2 or later, esbuild or tsx, or "experimentalDecorators": true`,
    )
  }
  let queue = ownQueue(metadata)
  if (queue === undefined) {
    queue = { first: String(context.name), declarations: [], applied: false }
    Object.defineProperty(metadata, QUEUE, { value: queue })
  }
  queue.declarations.push((ctor) => declare(ctor, fieldName(decorator, context, ctor)))
}

/** The metadata object standard decorators gave exactly this class (not one inherited from its base). */
export function ownMetadata(ctor: Function): object | undefined {
  return Object.hasOwn(ctor, SYMBOL_METADATA) ? (ctor as unknown as Record<symbol, object>)[SYMBOL_METADATA] : undefined
}

/** The first member queued by standard decorators in this metadata object (own, not inherited). */
export function firstQueued(metadata: object | undefined): string | undefined {
  return metadata === undefined ? undefined : ownQueue(metadata)?.first
}

/**
 * Declares the members queued in a class's own metadata, once: a base class without `@Model` is
 * declared by the first model that extends it. A failure is remembered and thrown again.
 */
export function declareQueued(ctor: Function, metadata: object | undefined): void {
  const queue = metadata === undefined ? undefined : ownQueue(metadata)
  if (queue === undefined) return
  if (queue.error !== undefined) throw queue.error
  if (queue.applied) return
  queue.applied = true
  try {
    for (const declare of queue.declarations) declare(ctor)
  } catch (err) {
    queue.error = err
    throw err
  }
}

function ownQueue(metadata: object): Queue | undefined {
  return Object.hasOwn(metadata, QUEUE) ? (metadata as Record<symbol, Queue>)[QUEUE] : undefined
}

const NOT_FIELDS: Record<string, string> = {
  method: 'a method',
  getter: 'a getter',
  setter: 'a setter',
  accessor: 'an auto-accessor (drop the accessor keyword)',
}

/** Stowage members are public instance fields: Stowage defines their accessors itself. */
function fieldName(decorator: string, context: DecoratorContext, ctor: Function): string | symbol {
  const member = `${ctor.name}.${String(context.name)}`
  if (context.kind !== 'field') {
    throw new ModelDefinitionError(`${member}: ${decorator} decorates an instance field (name!: type), not ${NOT_FIELDS[context.kind] ?? `a ${context.kind}`}`)
  }
  if (context.static) throw new ModelDefinitionError(`${member}: ${decorator} cannot decorate a static member; Stowage members are instance fields`)
  if (context.private) throw new ModelDefinitionError(`${member}: ${decorator} cannot decorate a private (#) field; Stowage members are public instance fields`)
  return context.name
}
