import { ModelDefinitionError } from '../errors.js'
import { inferType } from '../types/infer-type.js'
import { isType, type Type } from '../types/type.js'
import { defineModel, type ModelOptions } from './define-model.js'
import { declarationsOf, RESERVED_NAMES } from './meta.js'
import { modelHooks } from './model-hooks.js'
import { STATE } from './object-state.js'
import { claimProperty, mayClaim } from './ownership.js'
import type { StoredObject } from './stored-object.js'

/**
 * Declares a model class (a `StoredObject` or `StoredRaw` subclass).
 *
 * @example
 * ```ts
 * @Model({ collection: 'accounts' })
 * class Account extends StoredObject {
 *   @Property(Types.EMAIL) email!: string
 * }
 * ```
 */
export function Model(options: ModelOptions = {}): <C extends Function>(ctor: C) => C {
  return <C extends Function>(ctor: C, context?: unknown): C => {
    rejectStandardDecorators('@Model', context)
    return defineModel(ctor, options)
  }
}

export interface PropertyOptions {
  /** `undefined` is refused on save. */
  required?: boolean
}

/**
 * Declares a stored, validated property. Without a type, the type is inferred from the TypeScript
 * type (`string`, `number`, `boolean`, `Date`, `Uint8Array`) through `emitDecoratorMetadata`.
 */
export function Property(type?: Type, options: PropertyOptions = {}): PropertyDecorator {
  return (target: object, key: string | symbol, context?: unknown) => {
    rejectStandardDecorators('@Property', context)
    const ctor = (target as { constructor: Function }).constructor
    const name = memberName(ctor, key, '@Property')
    let resolved = type
    if (resolved === undefined) {
      const designType = Reflect.getMetadata('design:type', target, key)
      resolved = inferType(designType)
      if (!resolved) {
        throw new ModelDefinitionError(
          designType === undefined
            ? `${ctor.name}.${name}: no type given and no design:type metadata (is emitDecoratorMetadata on for this file?); pass one, e.g. @Property(Types.STRING)`
            : `${ctor.name}.${name}: cannot infer a Stowage type from ${designType?.name ?? String(designType)}; pass one, e.g. @Property(Types.LIST(Types.STRING))`,
        )
      }
    } else if (!isType(resolved)) {
      throw new ModelDefinitionError(`${ctor.name}.${name}: @Property needs a Stowage type (Types.*), got ${describe(resolved)}`)
    }
    if (options === null || typeof options !== 'object') {
      throw new ModelDefinitionError(`${ctor.name}.${name}: @Property options must be an object`)
    }
    claimMember(ctor, name, '@Property')
    declarationsOf(ctor).properties.set(name, { name, type: resolved, required: options.required === true })
    definePropertyAccessor(target, name)
  }
}

/** Property values live in the object's state; the accessor on the prototype reads and writes them. */
function definePropertyAccessor(proto: object, name: string): void {
  Object.defineProperty(proto, name, {
    configurable: true,
    enumerable: true,
    get(this: StoredObject) {
      return this[STATE].values[name]
    },
    set(this: StoredObject, value: unknown) {
      const state = this[STATE]
      if (mayClaim(state)) claimProperty(this, name)
      state.values[name] = value
      state.version++
      modelHooks.changed(this)
    },
  })
}

/** Checks a member name for a decorator: a string, not reserved. */
export function memberName(ctor: Function, key: string | symbol, decorator: string): string {
  if (typeof key !== 'string') throw new ModelDefinitionError(`${ctor.name}: ${decorator} cannot decorate symbol ${String(key)}`)
  if (RESERVED_NAMES.has(key)) {
    throw new ModelDefinitionError(`${ctor.name}.${key}: "${key}" is reserved (${[...RESERVED_NAMES].join(', ')}); rename the property`)
  }
  return key
}

/** Refuses a second Stowage decorator of a kind that manages the member (e.g. @Property and @Relation). */
export function claimMember(ctor: Function, name: string, decorator: string): void {
  const decl = declarationsOf(ctor)
  const previous = decl.properties.has(name) ? '@Property' : decl.relations.has(name) ? '@Relation' : undefined
  if (previous) {
    throw new ModelDefinitionError(`${ctor.name}.${name}: both ${previous} and ${decorator} are applied; a member takes one of them`)
  }
}

/** TC39 standard decorators pass a context object; Stowage needs `experimentalDecorators`. */
export function rejectStandardDecorators(decorator: string, context: unknown): void {
  if (typeof context === 'object' && context !== null && 'kind' in context) {
    throw new ModelDefinitionError(`${decorator} needs "experimentalDecorators": true (and "emitDecoratorMetadata": true) in tsconfig`)
  }
}

function describe(v: unknown): string {
  if (typeof v === 'function') return `function ${v.name || '(anonymous)'}`
  if (typeof v === 'object' && v !== null) return `an object (${v.constructor?.name ?? 'Object'})`
  return `${typeof v} ${String(v)}`
}
