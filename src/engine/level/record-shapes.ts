import { Packr } from 'msgpackr'
import { CorruptionError } from '../../errors.js'
import { SHAPES_KEY } from './level-keys.js'
import { decodeWith, encodeWith, PACKR_OPTIONS, type Named, type ValueCodec } from './msgpack-codec.js'
import { decodeSealed, encodeSealed } from './sealed-values.js'

/**
 * msgpackr's one-byte record ids. Shapes past these are written inside each value that has them
 * (an article's record then decodes as fast as plain maps, and encodes 0.6 µs slower). Two-byte ids
 * would need msgpackr's own loading of the table (`getStructures`), which this does not use.
 */
export const MAX_SHAPES = 32

/**
 * Records whose key lists are kept once per store, in its shapes table, instead of in every record:
 * a record, and each object directly in it (a model's values and update times), is written as a
 * msgpackr record, a one-byte shape id followed by the values. An article's record is a quarter
 * smaller and decodes in 0.48 µs instead of 1.19 (bench/RESULTS.md, "Record shapes"). Deeper objects
 * (a property's own values, whose keys the app chooses) stay msgpack maps, so the table only holds
 * shapes of the models' own making.
 *
 * Shapes are made while a record is encoded and only ever added. The table must be stored no later
 * than the first record that uses a new shape: every batch encoded while the table holds a shape not
 * stored yet writes the table too (`unsaved`), and the shapes count as stored once such a batch is
 * committed (`saved`). A batch that fails leaves its shapes to the next one.
 *
 * msgpackr writes numbers 64-127 in two bytes with records on (one byte is a shape id), so values
 * written without shapes (in stores of the formats before) must be read without them: a store uses
 * one or the other.
 */
export class RecordShapes implements ValueCodec {
  readonly #packr: Packr
  readonly #shapes: string[][]
  /** The value being encoded and the objects directly in it: they are written as records. */
  #top: unknown
  #children: unknown[] = []
  /** Shapes the stored table holds. */
  #stored: number

  /** `stored`: the bytes stored under SHAPES_KEY, as `unsaved()` gave them (undefined for a store that has none yet); `store` names it in errors. */
  constructor(stored: Uint8Array | undefined, store: string) {
    this.#shapes = stored === undefined ? [] : checkTable(decodeSealed(SHAPES_KEY, stored, TABLE, store, false), store)
    this.#stored = this.#shapes.length
    this.#packr = new Packr({
      ...PACKR_OPTIONS,
      mapsAsObjects: true,
      structures: this.#shapes,
      maxSharedStructures: MAX_SHAPES,
      useRecords: (obj: unknown) => this.#shaped(obj),
    } as object)
  }

  encode = (value: unknown, where: Named, reserve: number): Buffer => {
    this.#top = value
    if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
      for (const key in value) {
        const child = (value as Record<string, unknown>)[key]
        if (child !== null && typeof child === 'object') this.#children.push(child)
      }
    }
    try {
      return encodeWith(this.#packr, value, where, reserve)
    } finally {
      this.#top = undefined
      this.#children.length = 0
    }
  }

  decode = (bytes: Uint8Array, where: Named, start: number): unknown => decodeWith(this.#packr, bytes, where, start)

  /**
   * The table to store under SHAPES_KEY with the batch being written (sealed; like `encodeSealed`'s,
   * the bytes are a view of msgpackr's buffer), if it holds shapes not stored yet, and how many.
   */
  unsaved(): { bytes: Buffer; count: number } | undefined {
    const count = this.#count()
    if (count <= this.#stored) return undefined
    return { bytes: encodeSealed(SHAPES_KEY, this.#shapes.slice(0, count).map((keys) => [...keys]), TABLE), count }
  }

  /** A batch holding the table of `count` shapes is committed. */
  saved(count: number): void {
    if (count > this.#stored) this.#stored = count
  }

  #count(): number {
    const shapes = this.#shapes as string[][] & { sharedLength?: number }
    return shapes.sharedLength ?? shapes.length
  }

  #shaped(obj: unknown): boolean {
    return obj === this.#top || this.#children.includes(obj)
  }
}

const TABLE = 'the table of record shapes'

function checkTable(table: unknown, store: string): string[][] {
  if (!Array.isArray(table) || table.length > MAX_SHAPES || !table.every((keys) => Array.isArray(keys) && keys.every((k) => typeof k === 'string'))) {
    throw new CorruptionError(`${store}: its table of record shapes is not a list of at most ${MAX_SHAPES} key lists: the store's files are damaged`)
  }
  return table.map((keys: string[]) => [...keys])
}
