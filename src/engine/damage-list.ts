import { CorruptionError } from '../errors.js'
import type { DamagedRecord } from './engine.js'

/** What an engine's read of a damaged record gives inside the engine: listed, then skipped or thrown. */
export const DAMAGED = Symbol('damaged')

/**
 * The records known to be unreadable, by collection and id. Each one added (or found again for
 * another reason) is passed to `onDamage`, so the owner of the engine hears of it once.
 */
export class DamageList {
  readonly #byKey = new Map<string, DamagedRecord>()
  readonly #onDamage: ((damage: DamagedRecord) => void) | undefined

  constructor(onDamage?: (damage: DamagedRecord) => void) {
    this.#onDamage = onDamage
  }

  get size(): number {
    return this.#byKey.size
  }

  add(damage: DamagedRecord): void {
    const key = `${damage.collection}\0${damage.id}`
    if (this.#byKey.get(key)?.reason === damage.reason) return
    this.#byKey.set(key, damage)
    this.#onDamage?.({ ...damage })
  }

  clear(): void {
    this.#byKey.clear()
  }

  delete(collection: string, id: string): void {
    this.#byKey.delete(`${collection}\0${id}`)
  }

  /** A record read back fine: no longer listed (it was mended behind the engine's back). */
  readFine(collection: string, id: string): void {
    if (this.#byKey.size > 0) this.delete(collection, id)
  }

  /** A record failed to decode: a CorruptionError lists it and gives DAMAGED; any other error is thrown. */
  failed(collection: string, id: string, err: unknown): typeof DAMAGED {
    if (!(err instanceof CorruptionError)) throw err
    this.add({ collection, id, reason: err.message })
    return DAMAGED
  }

  /** The error a read of a listed record throws: the reason it was listed with. */
  errorFor(collection: string, id: string, store: string): CorruptionError {
    const reason = this.#byKey.get(`${collection}\0${id}`)?.reason
    return new CorruptionError(reason ?? `${store}: record ${collection}/${id} is damaged`)
  }

  /** Copies, by collection then id. */
  list(): DamagedRecord[] {
    return [...this.#byKey.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, d]) => ({ ...d }))
  }
}
