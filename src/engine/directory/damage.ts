import { readFile } from 'node:fs/promises'
import type { DamagedRecord } from '../engine.js'
import { decodeJson } from './json-codec.js'

/**
 * The record files known to be unreadable, by collection and id. Each one added (or found again for
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

/**
 * Why the record file at `path` cannot be read back (the message a read of it would throw), or
 * undefined if it reads. Any failure counts, so that one unreadable file never stops the store
 * from opening: it is reported instead.
 */
export async function recordFileProblem(path: string): Promise<string | undefined> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    return `Record file ${path} cannot be read: ${(err as Error).message}`
  }
  try {
    decodeJson(text, `Record file ${path}`)
    return undefined
  } catch (err) {
    return (err as Error).message
  }
}
