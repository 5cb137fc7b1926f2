import { open, readFile, truncate, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { DirectoryEngine } from '../../src/engine/directory/directory-engine.js'
import { CorruptionError, Database, Model, StoredRaw } from '../../src/index.js'
import { tempDir } from '../helpers/stores.js'
import { bytes, collect } from './helpers.js'
import { rm } from 'node:fs/promises'

@Model()
class Photo extends StoredRaw {}

/** Data files of the Directory engine are plain files: changes made behind the store's back are caught. */
describe('StoredRaw data files on the Directory engine', () => {
  let dir: string
  let db: Database

  beforeEach(async () => {
    dir = await tempDir()
    db = await Database.open({ engine: new DirectoryEngine(join(dir, 'store')), models: [Photo] })
  })
  afterEach(async () => {
    await db.close()
    await rm(dir, { recursive: true, force: true })
  })

  it('names the file after the format and keeps the bytes as they are', async () => {
    const data = bytes(123_456)
    const photo = await Photo.create(data, { format: 'JPEG' })
    expect(photo.path()).toBe(join(dir, 'store', 'Photo', `${photo.oid}.jpeg`))
    expect((await readFile(photo.path()!)).equals(data)).toBe(true)
    // A new format renames the file when the data is replaced; the old file goes.
    await photo.setData(bytes(10)).setMeta({ format: 'png' }).save()
    expect(photo.path()).toBe(join(dir, 'store', 'Photo', `${photo.oid}.png`))
    await expect(readFile(join(dir, 'store', 'Photo', `${photo.oid}.jpeg`))).rejects.toThrow(/ENOENT/)
  })

  it('reports a truncated data file as CorruptionError naming the file (size mismatch)', async () => {
    const photo = await Photo.create(bytes(200_000), { format: 'jpeg' })
    const path = photo.path()!
    await truncate(path, 1000)
    const err = await photo.loadData().catch((e) => e)
    expect(err).toBeInstanceOf(CorruptionError)
    expect(err.code).toBe('CORRUPTION')
    expect(err.message).toContain(path)
    expect(err.message).toMatch(/size/)
    await expect(collect(photo.data())).rejects.toThrow(CorruptionError)
  })

  it('reports a data file changed in place as CorruptionError naming the file (digest mismatch)', async () => {
    const photo = await Photo.create(bytes(200_000), { format: 'jpeg' })
    const path = photo.path()!
    const fh = await open(path, 'r+')
    await fh.write(Uint8Array.of(0xaa, 0xbb), 0, 2, 150_000)
    await fh.close()
    const err = await photo.loadData().catch((e) => e)
    expect(err).toBeInstanceOf(CorruptionError)
    expect(err.message).toContain(path)
    expect(err.message).toMatch(/digest|SHA-256/)
  })

  it('reports a deleted data file as CorruptionError naming the file', async () => {
    const photo = await Photo.create(bytes(1000))
    const path = photo.path()!
    await writeFile(path, '') // emptied
    await expect(photo.loadData()).rejects.toThrow(path)
    await rm(path)
    await expect(photo.loadData()).rejects.toThrow(CorruptionError)
  })
})
