import { InvalidKeyError } from '../../errors.js'

/** A name as a case-insensitive, normalization-insensitive file system (macOS, Windows) compares it. */
export function foldName(name: string): string {
  return name.normalize('NFC').toLowerCase()
}

/**
 * The stored ids that are not their own folded form (upper-case letters, or not NFC), by collection
 * and folded form, so that a new id whose file would be the same file as a stored one on such a
 * file system is found without reading every id. Generated oids are lower-case: they never enter.
 * An entry may outlive its id (it is then only a false lead, checked against the store).
 */
export class FoldedIds {
  readonly #ids = new Map<string, string>()
  /** Every collection with something stored, by folded name (collections are few). */
  readonly #collections = new Map<string, string>()
  #lastCollection: string | undefined

  add(collection: string, id: string): void {
    const folded = foldName(id)
    if (folded !== id) this.#ids.set(`${collection}\0${folded}`, id)
    if (collection === this.#lastCollection) return // ids come collection by collection at open
    this.#lastCollection = collection
    const foldedCollection = foldName(collection)
    if (!this.#collections.has(foldedCollection)) this.#collections.set(foldedCollection, collection)
  }

  /** A known collection whose directory would be `collection`'s on a case-insensitive file system. */
  collectionTwin(collection: string): string | undefined {
    const other = this.#collections.get(foldName(collection))
    return other !== collection ? other : undefined
  }

  delete(collection: string, id: string): void {
    const key = `${collection}\0${foldName(id)}`
    if (this.#ids.get(key) === id) this.#ids.delete(key)
  }

  /** Other ids that may share `id`'s folded form: a registered one, and the folded form itself. */
  suspects(collection: string, id: string): string[] {
    const folded = foldName(id)
    const out: string[] = []
    const other = this.#ids.get(`${collection}\0${folded}`)
    if (other !== undefined && other !== id) out.push(other)
    if (folded !== id) out.push(folded)
    return out
  }
}

export function collectionCaseCollision(collection: string, other: string): InvalidKeyError {
  return new InvalidKeyError(
    `Collection ${JSON.stringify(collection)} differs from the stored ${JSON.stringify(other)} only in letter case or Unicode normalization, ` +
      'so their directories would be one directory on a case-insensitive file system (macOS, Windows)',
  )
}

export function caseCollision(collection: string, id: string, other: string): InvalidKeyError {
  return new InvalidKeyError(
    `${collection}/${id}: the id differs from the stored ${JSON.stringify(other)} only in letter case or Unicode normalization, ` +
      'so their files would be one file on a case-insensitive file system (macOS, Windows)',
  )
}
