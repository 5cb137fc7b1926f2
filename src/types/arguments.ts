import { ModelDefinitionError } from '../errors.js'
import { describeValue } from './describe.js'
import { isType, type Type } from './type.js'

/** Throws `ModelDefinitionError` unless `arg` is a Stowage type; `where` names the declaration. */
export function requireType(where: string, arg: unknown): Type {
  if (isType(arg)) return arg
  const hint = typeof arg === 'function' ? ' (a class or function; did you mean REFERENCE(() => Model)?)' : ''
  throw new ModelDefinitionError(
    `${where}: expected a Stowage type such as Types.STRING, got ${describeValue(arg)}${hint}`,
  )
}

/** Reason for a failed validation, e.g. `expected an array, got 3`. */
export function expected(what: string, value: unknown): string {
  return `expected ${what}, got ${describeValue(value)}`
}
