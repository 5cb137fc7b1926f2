import { BINARY, BOOL, BUFFER, DATE, INTEGER, NUMBER, STRING } from './scalar-types.js'
import type { Type } from './type.js'

const INFERRED = new Map<unknown, Type>([
  [String, STRING],
  [Number, NUMBER],
  [Boolean, BOOL],
  [Date, DATE],
  [Uint8Array, BINARY],
  [BigInt, INTEGER],
])
if (typeof Buffer === 'function') INFERRED.set(Buffer, BUFFER)

/**
 * The type of a property from its `design:type` metadata (emitted with `emitDecoratorMetadata`):
 * `String` gives STRING, `Number` NUMBER, `Boolean` BOOL, `BigInt` INTEGER, `Date` DATE,
 * `Uint8Array` BINARY, `Buffer` BINARY read back as a Buffer. Anything else gives undefined and the
 * caller asks for an explicit type: `Array` (element type unknown), `Object` (what TypeScript emits
 * for unions of different types, `any`, `unknown`, interfaces and type-only imports), other classes,
 * and no metadata at all. An optional `nickname?: string` emits `String`, but a written-out union
 * `nickname: string | undefined` (or `| null`) emits `Object` (TypeScript 7 and oxc alike), so it
 * needs an explicit type.
 */
export function inferType(designType: unknown): Type | undefined {
  return INFERRED.get(designType)
}
