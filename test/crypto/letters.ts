import { Index, Model, Property, StoredObject, StoredRaw, Types } from '../../src/index.js'

/** The re-encryption tests' models (test/crypto/reencrypt/child.mjs declares the same for its process). */
@Model({ collection: 'letters' })
export class Letter extends StoredObject {
  @Property(Types.STRING) @Index() to = ''
  @Property(Types.INTEGER) @Index() n = 0
  @Property(Types.STRING) text = ''
}

@Model({ collection: 'photos' })
export class Photo extends StoredRaw {}
