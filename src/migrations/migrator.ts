import { describeValue, type WriteOp } from '../engine/engine.js'
import { ClosedError, MigrationError, ReadOnlyError, StowageError, ValidationError, VersionError } from '../errors.js'
import type { Change } from '../model/change.js'
import type { Database, Feature } from '../model/database.js'
import type { ModelMeta } from '../model/meta.js'
import { newState, STATE, type ObjectRecord } from '../model/object-state.js'
import { applyRecord, checkRecord } from '../model/records.js'
import type { StoredObject } from '../model/stored-object.js'
import type { WriteItem } from '../model/unit-of-work.js'
import { exportExtensions } from '../model/export-import.js'
import { dropOwnLinks } from '../relations/link-writes.js'
import { linksOfRecord, type LinksRecord } from '../relations/stored-links.js'
import { moveFormerCollection } from './collection-move.js'
import { migrationInput } from './migration-input.js'
import { markerKey, newestVersion, readMarker, type SchemaMarker } from './schema-marker.js'

/** Reported while a model's stored objects are migrated (`onMigrationProgress`). */
export interface MigrationProgress {
  model: string
  /** The version the store was at when the pass began, and the model's version. */
  from: number
  to: number
  /** Objects read so far, of `total` stored when the pass began. */
  done: number
  total: number
  /** Set when objects moved from a former collection (`formerly`): `done` of them moved. */
  movedFrom?: string
}

/** Objects migrated per atomic write. */
const BATCH = 256

/** The version a record was written at: records without one predate versions (1). */
export function recordVersion(record: ObjectRecord): number {
  const v = record.version
  return typeof v === 'number' && Number.isInteger(v) && v >= 1 ? v : 1
}

const migrators = new WeakMap<Database, Migrations>()

export function migrationsOf(db: Database): Migrations {
  return migrators.get(db)!
}

/**
 * Brings each registered model's stored objects to the model's version before anything else reads
 * or writes them: once per model and database, when the model is registered. The database waits for
 * it at open (the default) and gates every call on a model registered later until it is done.
 *
 * A pass reads the collection in oid order and writes each batch of migrated objects in one atomic
 * write through the unit of work, so index entries and links follow as on any save. The schema
 * marker says a pass is under way: a pass cut short (a crash, a step that throws) leaves whole
 * objects at the old or the new version, and the next open carries on with the ones left.
 */
export class Migrations implements Feature {
  readonly db: Database
  readonly #runs = new Map<ModelMeta, Promise<void>>()
  /** Models registered whose store is not known to be at their version yet. */
  readonly #pending = new Set<ModelMeta>()
  readonly #readOnly = new Set<ModelMeta>()
  /** Instances a pass is writing: their records lose the links of relations the model no longer has. */
  readonly #migrated = new WeakSet<StoredObject>()
  /** The schema marker a batch writes with its objects, by the batch's first instance. */
  readonly #markers = new WeakMap<StoredObject, SchemaMarker>()
  /** Per model: the marker its pass starts from once decided (undefined: nothing to migrate). */
  readonly #begun = new Map<ModelMeta, Promise<SchemaMarker | undefined>>()
  readonly #locks = new Map<ModelMeta, Promise<unknown>>()
  /** Per model: oids a get() migrated while the pass's current chunk was being read and migrated. */
  readonly #lazily = new Map<ModelMeta, Set<string>>()
  #stopped = false

  constructor(db: Database) {
    this.db = db
    migrators.set(db, this)
  }

  /** Whether some registered model is not ready: while none is, calls skip `gate`. */
  get waiting(): boolean {
    return this.#pending.size > 0
  }

  /** Whether writes must be checked: some model is not ready, or read-only. */
  get restricted(): boolean {
    return this.#pending.size > 0 || this.#readOnly.size > 0
  }

  /** Starts the model's pass (if its store is behind); `gate` waits for it. */
  register(meta: ModelMeta): Promise<void> {
    let run = this.#runs.get(meta)
    if (run === undefined) {
      this.#pending.add(meta)
      const begun = this.#begin(meta)
      this.#begun.set(meta, begun)
      run = begun
        .then(async (resume) => {
          if (resume === undefined) return
          await this.#pass(meta, resume)
          await this.#mark(meta, { version: meta.versioning.version })
        })
        .then(() => {
          this.#pending.delete(meta)
        })
      this.#runs.set(meta, run)
      const failed = run
      // The next call on the model tries again.
      run.catch(() => {
        if (this.#runs.get(meta) === failed) this.#runs.delete(meta)
      })
    }
    return run
  }

  /** Undefined when the model may be used now; else what to wait for (rejected if its migration failed). */
  gate(meta: ModelMeta): Promise<void> | undefined {
    if (!this.#pending.has(meta)) return undefined
    return this.register(meta)
  }

  /** Refuses a write to a model whose store is newer than its code (opened read-only). */
  assertWritable(meta: ModelMeta): void {
    if (this.#readOnly.size > 0 && this.#readOnly.has(meta)) {
      throw new ReadOnlyError(
        `${meta.ctor.name} is read-only in this database: the store holds its objects at a newer version than this code's ${meta.versioning.version}, opened with newerVersions: 'read-only'`,
      )
    }
  }

  /**
   * `get()` of an object while its model's pass runs (`migrate: 'lazy'`): an object still at an
   * older version is migrated on the spot, in its own atomic write, between two batches of the pass.
   */
  async readDuringPass(meta: ModelMeta, oid: string): Promise<StoredObject | undefined> {
    const resume = await this.#begun.get(meta)
    if (resume === undefined || !this.#pending.has(meta)) return this.db.load(meta, oid)
    return this.#locked(meta, async () => {
      const live = this.db.identity.get(meta.collection, oid)
      if (live !== undefined) return live
      const stored = await this.db.engine.getRecord(meta.collection, oid)
      if (stored === undefined) return undefined
      const record = checkRecord(meta, oid, stored)
      const item = await this.#migrate(meta, oid, record, resume.migrating!)
      if (item === undefined) return this.db.instantiate(meta, oid, record)
      await this.#write(meta, resume.migrating!, [{ ...item, transient: false }]) // the caller gets the live instance
      let lazily = this.#lazily.get(meta)
      if (lazily === undefined) this.#lazily.set(meta, (lazily = new Set()))
      lazily.add(oid)
      return item.remove ? undefined : item.obj
    })
  }

  /** The database is closing: passes stop after the batch in progress, which this waits for. */
  async stop(): Promise<void> {
    this.#stopped = true
    await Promise.all(this.#locks.values())
  }

  /** Runs fn after the model's batch write or lazy read in progress: with `#lazily`, no object is migrated twice. */
  #locked<T>(meta: ModelMeta, fn: () => Promise<T>): Promise<T> {
    const run = (this.#locks.get(meta) ?? Promise.resolve()).then(fn)
    this.#locks.set(
      meta,
      run.catch(() => {}),
    )
    return run
  }

  /**
   * Reads the model's schema marker: refuses a newer store (or marks the model read-only), and when
   * the store is behind, marks the pass as begun. Returns the marker the pass starts from, if any.
   */
  async #begin(meta: ModelMeta): Promise<SchemaMarker | undefined> {
    const { engine } = this.db
    const to = meta.versioning.version
    for (const former of meta.versioning.formerly) {
      const moved = await moveFormerCollection(engine, meta, former)
      if (moved > 0) this.db.options.onMigrationProgress?.({ model: meta.ctor.name, from: 0, to: 0, done: moved, total: moved, movedFrom: former })
    }
    const marker = await readMarker(engine, meta.collection)
    if (marker !== undefined && newestVersion(marker) > to) {
      if (this.db.options.newerVersions === 'read-only') {
        this.#readOnly.add(meta)
        return undefined
      }
      throw new VersionError(
        `${meta.ctor.name}: the store holds objects at version ${newestVersion(marker)}, written by a newer version of the app; this code knows version ${to}. Open the store with the newer code, or with Database.open({ newerVersions: 'read-only' }) to read it without writing`,
      )
    }
    const from = marker?.version ?? 1
    if (from === to && marker?.migrating === undefined) return undefined
    if (marker === undefined && (await engine.countRecords(meta.collection)) === 0) {
      await this.#mark(meta, { version: to })
      return undefined
    }
    const resume = marker?.migrating === to ? marker : { version: from, migrating: to }
    if (resume !== marker) await this.#mark(meta, resume)
    return resume
  }

  async #mark(meta: ModelMeta, marker: SchemaMarker): Promise<void> {
    await this.db.engine.batch([{ type: 'put', key: markerKey(meta.collection), value: marker }])
  }

  /** Migrates the objects after `marker.after`, batch by batch; each batch moves the marker on in its own write. */
  async #pass(meta: ModelMeta, marker: SchemaMarker): Promise<void> {
    const { engine } = this.db
    const from = marker.version
    const to = marker.migrating!
    const total = await engine.countRecords(meta.collection)
    const progress = this.db.options.onMigrationProgress
    let done = marker.done ?? 0
    let after = marker.after
    /** The next chunk after `from`, with the writes that migrate it. */
    const readChunk = async (from: string | undefined): Promise<{ oids: string[]; items: WriteItem[] }> => {
      const chunk: [string, ObjectRecord][] = []
      for await (const [oid, record] of engine.records(meta.collection, from === undefined ? { limit: BATCH } : { gt: from, limit: BATCH })) {
        chunk.push([oid, checkRecord(meta, oid, record)])
      }
      const items: WriteItem[] = []
      for (const [oid, record] of chunk) {
        const item = await this.#migrate(meta, oid, record, to)
        if (item !== undefined) items.push(item)
      }
      return { oids: chunk.map(([oid]) => oid), items }
    }
    let next = readChunk(after)
    for (;;) {
      if (this.#stopped) throw new ClosedError(`The database closed while ${meta.ctor.name} was being migrated; the next open goes on from there`)
      const { oids, items } = await next
      if (oids.length === 0) return
      after = oids[oids.length - 1]!
      done += oids.length
      // The next chunk is read and migrated while this one is written (reads and migration steps
      // never touch the lock; a lazy get() waits for a batch's write at most).
      if (oids.length === BATCH) {
        next = readChunk(after)
        next.catch(() => {}) // awaited next round; a failure of this write must not leave it unhandled
      }
      const marker = { version: from, migrating: to, after, done }
      await this.#locked(meta, async () => {
        // Objects a get() migrated since this chunk was read are written already: not again.
        const lazily = this.#lazily.get(meta)
        const fresh = lazily === undefined ? items : items.filter((item) => !lazily.has(item.obj[STATE].oid))
        if (lazily !== undefined) for (const oid of oids) lazily.delete(oid)
        if (fresh.length === 0) return
        this.#markers.set(fresh[0]!.obj, marker)
        await this.#write(meta, to, fresh)
      })
      progress?.({ model: meta.ctor.name, from, to, done, total: Math.max(done, total) })
      if (oids.length < BATCH) return
    }
  }

  /** The write that takes one stored object to version `to`, or undefined when it is there already. */
  async #migrate(meta: ModelMeta, oid: string, record: ObjectRecord, to: number): Promise<WriteItem | undefined> {
    const at = recordVersion(record)
    if (at > to) throw new VersionError(`${meta.ctor.name} ${oid} is stored at version ${at}, newer than this code's ${to}`)
    if (at === to) return undefined
    const model = meta.ctor.name
    let props: Record<string, unknown> | undefined = await migrationInput(this.db.engine, meta, oid, record)
    for (let version = at + 1; version <= to && props !== undefined; version++) {
      let out: unknown
      try {
        out = await meta.versioning.migrations.get(version)!(props, { model, oid, version })
      } catch (err) {
        throw new MigrationError(model, version, oid, `the migration step threw: ${(err as Error)?.message ?? String(err)}`, { cause: err })
      }
      if (out !== undefined && (out === null || typeof out !== 'object' || Array.isArray(out))) {
        throw new MigrationError(model, version, oid, `the migration step returned ${describeValue(out)}; it must return the object's properties, or undefined to remove it`)
      }
      props = out as Record<string, unknown> | undefined
    }
    try {
      return { obj: this.#instance(meta, oid, record, props ?? {}), remove: props === undefined, transient: true }
    } catch (err) {
      if (!(err instanceof StowageError)) throw err
      throw new MigrationError(model, to, oid, `the migrated object cannot be made: ${err.message}`, { cause: err })
    }
  }

  /**
   * A detached instance holding the stored record and showing the migrated properties and links:
   * saving it writes the new version; properties the model does not declare are kept as stored
   * values, as a save keeps them, unless the step set them to undefined.
   */
  #instance(meta: ModelMeta, oid: string, record: ObjectRecord, props: Record<string, unknown>): StoredObject {
    const properties: Record<string, unknown> = {}
    for (const name of Object.keys(record.properties)) if (meta.properties.has(name)) properties[name] = record.properties[name]
    for (const [name, value] of Object.entries(props)) {
      if (value === undefined || name === '__proto__' || meta.properties.has(name) || meta.relations.has(name)) continue
      properties[name] = value
    }
    const obj = Object.create(meta.ctor.prototype) as StoredObject
    const state = newState(meta, oid)
    applyRecord(state, Object.assign({}, record, { properties }))
    state.db = this.db
    obj[STATE] = state
    const values: Record<string, unknown> = {}
    for (const p of meta.propertyList) if (props[p.name] !== undefined) values[p.name] = props[p.name]
    state.values = values
    state.version++
    const relations: Record<string, unknown> = { oid, type: meta.collection }
    for (const name of meta.relations.keys()) if (Object.hasOwn(props, name)) relations[name] = props[name]
    for (const extension of exportExtensions) extension.import(obj, relations as never, () => true)
    this.#migrated.add(obj)
    return obj
  }

  async #write(meta: ModelMeta, to: number, items: WriteItem[]): Promise<void> {
    try {
      await this.db.writeMigrated(items)
    } catch (err) {
      if (err instanceof ValidationError) {
        throw new MigrationError(meta.ctor.name, to, err.oid, `the migrated object does not validate: ${err.errors.map((e) => `${e.property}: ${e.reason}`).join('; ')}`, { cause: err })
      }
      if (err instanceof StowageError && !(err instanceof MigrationError)) {
        throw new MigrationError(meta.ctor.name, to, undefined, `the batch of migrated objects was refused (nothing of it was written): ${err.message}`, { cause: err })
      }
      throw err
    }
  }

  /** Migrated records carry the model's version and drop the links of relations the model no longer declares. */
  async prepare(changes: Change[], ops: WriteOp[]): Promise<void> {
    for (const c of changes) {
      const marker = this.#markers.get(c.obj)
      if (marker !== undefined) ops.push({ type: 'put', key: markerKey(c.meta.collection), value: marker })
      if (c.record === undefined || !this.#migrated.has(c.obj)) continue
      const links = linksOfRecord(c.record)
      if (links === undefined) continue
      const gone: LinksRecord = {}
      const kept: LinksRecord = {}
      for (const [name, value] of Object.entries(links)) (c.meta.relations.has(name) ? kept : gone)[name] = value
      if (Object.keys(gone).length === 0) continue
      await dropOwnLinks(this.db.engine, { collection: c.meta.collection, oid: c.oid }, { properties: {}, updates: {}, changed: 0, links: gone }, ops)
      c.record.links = kept
    }
  }
}
