import 'reflect-metadata'
import { describe, expect, it } from 'vitest'
import { inferType } from '../../src/types/infer-type.js'
import { Types } from '../../src/types/types.js'

/** A do-nothing property decorator: its presence makes TypeScript emit `design:type`. */
const prop = (): PropertyDecorator => () => {}

class Other {}

class Sample {
  @prop() name!: string
  @prop() nickname?: string
  @prop() maybe: string | undefined
  @prop() nullable!: string | null
  @prop() age!: number
  @prop() active!: boolean
  @prop() born!: Date
  @prop() bytes!: Uint8Array
  @prop() buffer!: Buffer
  @prop() big!: bigint
  @prop() tags!: string[]
  @prop() mixed!: string | number
  @prop() anything: any
  @prop() unknownValue: unknown
  @prop() shape!: { a: number }
  @prop() other!: Other
  @prop() status!: 'draft' | 'published'
}

const designType = (key: string): unknown => Reflect.getMetadata('design:type', Sample.prototype, key)

describe('inferType from design:type metadata', () => {
  it('maps primitive wrappers and built-in classes to types', () => {
    expect(inferType(designType('name'))).toBe(Types.STRING)
    expect(inferType(designType('nickname'))).toBe(Types.STRING)
    expect(inferType(designType('status'))).toBe(Types.STRING)
    expect(inferType(designType('age'))).toBe(Types.NUMBER)
    expect(inferType(designType('active'))).toBe(Types.BOOL)
    expect(inferType(designType('born'))).toBe(Types.DATE)
    expect(inferType(designType('bytes'))).toBe(Types.BINARY)
    expect(inferType(designType('big'))).toBe(Types.INTEGER)
  })

  it('gives Buffer properties a binary type that reads back a Buffer', () => {
    const type = inferType(designType('buffer'))!
    expect(type.name).toBe('BINARY')
    expect(type.validate(Buffer.from([1]))).toBeUndefined()
    const back = type.fromStored(type.toStored(Buffer.from([1, 2])))
    expect(Buffer.isBuffer(back)).toBe(true)
    expect([...(back as Buffer)]).toEqual([1, 2])
  })

  it('gives undefined where the type cannot be known', () => {
    expect(designType('tags')).toBe(Array)
    expect(inferType(designType('tags'))).toBeUndefined()
    // Written-out unions with undefined or null emit Object (TypeScript 7 and oxc alike); `x?: T` emits T.
    for (const key of ['maybe', 'nullable', 'mixed', 'anything', 'unknownValue', 'shape']) {
      expect(designType(key), key).toBe(Object)
      expect(inferType(designType(key)), key).toBeUndefined()
    }
    expect(inferType(designType('other'))).toBeUndefined()
    expect(inferType(undefined)).toBeUndefined()
  })
})
