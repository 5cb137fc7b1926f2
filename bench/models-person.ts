import { Model, Property, StoredObject, Types } from '../src/index.js'

/** The model of the models bench: the properties of `sampleRecord()`, ~300 bytes stored. */
@Model()
export class Person extends StoredObject {
  @Property(Types.STRING) name!: string
  @Property(Types.EMAIL) email!: string
  @Property(Types.INTEGER) age!: number
  @Property(Types.BOOL) active!: boolean
  @Property(Types.FLOAT) score!: number
  @Property(Types.DATE) created!: Date
  @Property(Types.LIST(Types.STRING)) tags!: string[]
  @Property(Types.MAP({ street: Types.STRING, city: Types.STRING, zip: Types.STRING })) address!: object
  @Property(Types.STRING) bio!: string
}
