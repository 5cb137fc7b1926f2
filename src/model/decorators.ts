// Reflect.getMetadata reads the property types that emitDecoratorMetadata records.
import 'reflect-metadata'
import { ModelDefinitionError } from '../errors.js'
import { inferType } from '../types/infer-type.js'
import { isType, type Type } from '../types/type.js'
import { createModel, type ModelOptions } from './define-model.js'
import { declarationsOf, RESERVED_NAMES, type DecoratorStandard, type Declarations } from './meta.js'
import { modelHooks } from './model-hooks.js'
import { STATE } from './object-state.js'
import { claimProperty, mayClaim } from './ownership.js'
import { isStandardContext, queueDeclaration } from './standard-decorators.js'
import type { StoredObject } from './stored-object.js'

/**
 * What `@Property`, `@Relation` and `@Index` return: a decorator of an instance field, under
 * TypeScript's `experimentalDecorators` or the TC39 standard.
 */
export interface FieldDecorator {
  (target: object, key: string | symbol): void
  (value: undefined, context: ClassFieldDecoratorContext): void
}

/**
 * Declares a model class (a `StoredObject` or `StoredRaw` subclass) and returns the class to use in
 * its place. Works with `experimentalDecorators` and with standard decorators; without decorator
 * syntax, use {@link defineModel}, which takes the same options.
 *
 * @example
 * ```ts
 * @Model({ collection: 'accounts' })
 * class Account extends StoredObject {
 *   @Property(Types.EMAIL) email!: string
 * }
 * ```
 */
export function Model(options: ModelOptions = {}): <C extends Function>(ctor: C, context?: unknown) => C {
  return <C extends Function>(ctor: C, context?: unknown): C => {
    if (context === undefined) return createModel(ctor, options, { label: '@Model', decorators: 'legacy' })
    if (!isStandardContext(context)) {
      const owner = (ctor as { constructor?: Function } | undefined)?.constructor?.name
      throw new ModelDefinitionError(`@Model() decorates a class, not the member ${owner ? `${owner}.` : ''}${String(context)}`)
    }
    if (context.kind !== 'class') throw new ModelDefinitionError(`@Model() decorates a class, not the ${context.kind} ${String(context.name)}`)
    return createModel(ctor, options, { label: '@Model', decorators: 'standard', metadata: context.metadata })
  }
}

export interface PropertyOptions {
  /** `undefined` is refused on save. */
  required?: boolean
}

/**
 * Declares a stored, validated property. Without a type, the type is inferred from the TypeScript
 * type (`string`, `number`, `boolean`, `Date`, `Uint8Array`) through `emitDecoratorMetadata`, which
 * only TypeScript's `experimentalDecorators` offer: with standard decorators (or esbuild and tsx),
 * pass the type.
 */
export function Property(type?: Type, options: PropertyOptions = {}): FieldDecorator {
  return ((target: object | undefined, key: unknown, descriptor?: unknown) => {
    if (isStandardContext(key)) {
      return queueDeclaration('@Property', key, (ctor, name) => {
        declareProperty(decoratedTarget(ctor, 'standard'), memberName(ctor, name, '@Property'), type, options)
      })
    }
    const at = legacyField('@Property', target, key, descriptor)
    const designType = type === undefined ? Reflect.getMetadata('design:type', target!, key as string) : undefined
    declareProperty(at, at.name, type, options, designType)
  }) as FieldDecorator
}

/** Where a member declaration goes. */
export interface MemberTarget {
  /** The class named in messages. */
  ctor: Function
  decl: Declarations
  /** Receives the member's accessor. */
  proto: object
  /** Declared with decorators of either standard, or in `defineModel` options. */
  how: DecoratorStandard | 'options'
}

/** Members declared by decorators go into the class's own declarations and accessors onto its prototype. */
export function decoratedTarget(ctor: Function, how: DecoratorStandard): MemberTarget {
  return { ctor, decl: declarationsOf(ctor), proto: ctor.prototype, how }
}

export function declareProperty(at: MemberTarget, name: string, type: Type | undefined, options: PropertyOptions, designType?: unknown): void {
  const member = `${at.ctor.name}.${name}`
  let resolved = type
  if (resolved === undefined) {
    if (at.how === 'standard') {
      throw new ModelDefinitionError(
        `${member}: no type given, and standard decorators carry no TypeScript types; pass one, e.g. @Property(Types.STRING) (inferring it needs "experimentalDecorators" and "emitDecoratorMetadata" with tsc)`,
      )
    }
    resolved = inferType(designType)
    if (!resolved) {
      throw new ModelDefinitionError(
        designType === undefined
          ? `${member}: no type given and no design:type metadata (is emitDecoratorMetadata on for this file? esbuild and tsx never emit it); pass one, e.g. @Property(Types.STRING)`
          : `${member}: cannot infer a Stowage type from ${(designType as Function)?.name ?? String(designType)}; pass one, e.g. @Property(Types.LIST(Types.STRING))`,
      )
    }
  } else if (!isType(resolved)) {
    throw new ModelDefinitionError(`${member}: @Property needs a Stowage type (Types.*), got ${describe(resolved)}`)
  }
  if (options === null || typeof options !== 'object') {
    throw new ModelDefinitionError(`${member}: @Property options must be an object`)
  }
  claimMember(at, name, 'property')
  at.decl.properties.set(name, { name, type: resolved, required: options.required === true })
  definePropertyAccessor(at.proto, name)
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

/**
 * The class and member of a legacy member decorator's call `(prototype, key, descriptor)`, refusing
 * static members, methods, accessors and parameters: Stowage members are instance fields.
 */
export function legacyField(decorator: string, target: unknown, key: unknown, descriptor: unknown): MemberTarget & { name: string } {
  if ((typeof target !== 'object' && typeof target !== 'function') || target === null) {
    throw new ModelDefinitionError(`${decorator} is a decorator: put it on an instance field, e.g. ${decorator}(...) name!: type`)
  }
  const isStatic = typeof target === 'function'
  const ctor = isStatic ? (target as Function) : (target as { constructor: Function }).constructor
  const name = memberName(ctor, key, decorator)
  if (isStatic) throw new ModelDefinitionError(`${ctor.name}.${name}: ${decorator} cannot decorate a static member; Stowage members are instance fields`)
  if (descriptor !== undefined) {
    const what =
      typeof descriptor === 'number'
        ? 'a parameter'
        : typeof (descriptor as PropertyDescriptor).get === 'function' || typeof (descriptor as PropertyDescriptor).set === 'function'
          ? 'a getter or setter'
          : 'a method'
    throw new ModelDefinitionError(`${ctor.name}.${name}: ${decorator} decorates an instance field (name!: type), not ${what}`)
  }
  return { ...decoratedTarget(ctor, 'legacy'), name }
}

/** Checks a member name for a decorator: a string, not reserved. */
export function memberName(ctor: Function, key: unknown, decorator: string): string {
  if (typeof key !== 'string') throw new ModelDefinitionError(`${ctor.name}: ${decorator} cannot decorate ${typeof key === 'symbol' ? 'symbol ' : ''}${String(key)}`)
  if (RESERVED_NAMES.has(key)) {
    throw new ModelDefinitionError(`${ctor.name}.${key}: "${key}" is reserved (${[...RESERVED_NAMES].join(', ')}); rename the property`)
  }
  return key
}

const LABELS = { property: '@Property', relation: '@Relation' }

/** Refuses a second declaration of a member as a property or relation, and notes how it was declared. */
export function claimMember(at: MemberTarget, name: string, kind: 'property' | 'relation'): void {
  const previous = at.decl.properties.has(name) ? 'property' : at.decl.relations.has(name) ? 'relation' : undefined
  if (previous) {
    throw new ModelDefinitionError(
      at.how === 'options'
        ? `${at.ctor.name}.${name} is both in properties and in relations; a member is one of them`
        : `${at.ctor.name}.${name}: both ${LABELS[previous]} and ${LABELS[kind]} are applied; a member takes one of them`,
    )
  }
  if (at.how !== 'options') at.decl.first[at.how] ??= name
}

export function describe(v: unknown): string {
  if (typeof v === 'function') return `function ${v.name || '(anonymous)'}`
  if (typeof v === 'object' && v !== null) return `an object (${v.constructor?.name ?? 'Object'})`
  return `${typeof v} ${String(v)}`
}
