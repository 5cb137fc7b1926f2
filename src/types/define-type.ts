import { TYPE, type Type } from './type.js'

/** Brands `spec` as a Stowage type (so `isType()` recognises it) and freezes it. */
export function defineType<S extends Type<any>>(spec: S): S {
  Object.defineProperty(spec, TYPE, { value: true, enumerable: false })
  return Object.freeze(spec)
}
