import type { DamagedRecord } from './engine.js'

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

  /** Copies, by collection then id. */
  list(): DamagedRecord[] {
    return [...this.#byKey.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, d]) => ({ ...d }))
  }
}
