import type { Database } from '../model/database.js'
import type { ModelMeta } from '../model/meta.js'
import { STATE } from '../model/object-state.js'
import type { StoredObject } from '../model/stored-object.js'
import { linkPrefix } from './layout.js'
import type { ManyLinks } from './many-links.js'
import { isRef, type ManyInfo } from './stored-links.js'

/** One link as the app sees it: stored, or unsaved (then with its object when there is one). */
export interface VisibleLink {
  collection: string
  oid: string
  obj?: StoredObject
}

interface Cursor {
  generation: number
  info: ManyInfo
  /** Links seen before `key` (included). */
  index: number
  key: string
}

/** Where the last page ended, so paging on from there reads no entry twice. */
const cursors = new WeakMap<ManyLinks, Cursor>()

/**
 * The links from position `start` on, in order: the stored ones (read from the entries, or from
 * the owner's record for small relations) less those removed since, then those added since.
 */
export async function* visibleLinks(db: Database, links: ManyLinks, target: ModelMeta, start: number): AsyncGenerator<VisibleLink> {
  const generation = links.generation
  let baseHidden = false
  const hidden = new Set<string>()
  const appended = new Map<string, StoredObject | undefined>()
  for (const layer of links.layers()) {
    if (layer.cleared) {
      baseHidden = true
      appended.clear()
    }
    for (const oid of layer.removes) {
      hidden.add(oid)
      appended.delete(oid)
    }
    for (const [oid, obj] of layer.adds) appended.set(oid, obj)
  }
  let index = 0
  const info = links.info()
  if (!baseHidden && info.n > 0) {
    if (info.o !== undefined) {
      for (const oid of info.o) {
        if (hidden.has(oid)) continue
        if (index >= start) yield { collection: target.collection, oid }
        index++
      }
    } else {
      const owner = links.owner[STATE]
      const prefix = linkPrefix(owner.meta.collection, owner.oid, links.relation.name)
      const cursor = cursors.get(links)
      let gt: string | undefined
      if (cursor !== undefined && cursor.generation === generation && cursor.info === info && cursor.index <= start) {
        index = cursor.index
        gt = cursor.key
      }
      for await (const [key, value] of db.engine.entries({ prefix, gt })) {
        if (!isRef(value) || hidden.has(value[1])) continue
        index++
        if (index > start) {
          cursors.set(links, { generation, info, index, key })
          yield { collection: value[0], oid: value[1] }
        }
      }
    }
  }
  for (const [oid, obj] of appended) {
    if (index >= start) yield { collection: target.collection, oid, obj }
    index++
  }
}

/** The objects of these links, in order (the live instances where there are; links to nothing skipped). */
export async function resolveLinks(db: Database, target: ModelMeta, items: VisibleLink[]): Promise<StoredObject[]> {
  const out: Array<StoredObject | undefined> = new Array(items.length)
  const byCollection = new Map<string, number[]>()
  items.forEach((item, i) => {
    if (item.obj !== undefined && !item.obj[STATE].removed) out[i] = item.obj
    else {
      let list = byCollection.get(item.collection)
      if (list === undefined) byCollection.set(item.collection, (list = []))
      list.push(i)
    }
  })
  for (const [collection, positions] of byCollection) {
    const meta = collection === target.collection ? target : db.model(collection)
    if (meta === undefined) continue
    const objs = await db.loadMany(
      meta,
      positions.map((i) => items[i]!.oid),
    )
    positions.forEach((i, n) => (out[i] = objs[n]))
  }
  return out.filter((o): o is StoredObject => o !== undefined)
}

/** The oids of every stored link, in order, read from the entries (no object is loaded). */
export async function readStoredOids(db: Database, links: ManyLinks): Promise<string[]> {
  const owner = links.owner[STATE]
  const oids: string[] = []
  for await (const [, value] of db.engine.entries({ prefix: linkPrefix(owner.meta.collection, owner.oid, links.relation.name) })) {
    if (isRef(value)) oids.push(value[1])
  }
  return oids
}
