/**
 * Hand-rolled on classic-level + msgpackr: the record under `articles!<oid>` and one entry
 * `idx!articles!<index>!<key>!<oid>` per index (scores zero-padded) in the same batch; reads by
 * `keys({ gte, lt })` + `getMany` + `unpack`, as an application would write it without a library.
 */
import { join } from 'node:path'
import { ClassicLevel } from 'classic-level'
import { Packr } from 'msgpackr'
import { newOid } from '../../src/model/oid.js'
import type { ArticleData, Id, PeerStore } from './workload.js'

const pad = (n: number) => String(n).padStart(7, '0')

export async function open(dir: string): Promise<PeerStore> {
  const db = new ClassicLevel<string, Buffer>(join(dir, 'classic-level'), { keyEncoding: 'utf8', valueEncoding: 'buffer' })
  await db.open()
  const packr = new Packr({ useRecords: false })
  const load = async (range: { gte: string; lt: string }) => {
    const keys: string[] = []
    for await (const key of db.keys(range)) keys.push('articles!' + key.slice(key.lastIndexOf('!') + 1))
    let n = 0
    for (const v of await db.getMany(keys)) if (v !== undefined && packr.unpack(v)) n++
    return n
  }
  return {
    async insert(batch: ArticleData[]) {
      const ids: Id[] = []
      const ops = []
      for (const a of batch) {
        const oid = newOid()
        ids.push(oid)
        ops.push({ type: 'put' as const, key: `articles!${oid}`, value: packr.pack(a) })
        for (const [index, key] of [['author', a.author], ['status', a.status], ['score', pad(a.score)]]) {
          ops.push({ type: 'put' as const, key: `idx!articles!${index}!${key}!${oid}`, value: Buffer.alloc(0) })
        }
      }
      await db.batch(ops)
      return ids
    },
    async get(id) {
      const v = await db.get(`articles!${id}`)
      return v === undefined ? undefined : packr.unpack(v)
    },
    byAuthor: (author) => load({ gte: `idx!articles!author!${author}!`, lt: `idx!articles!author!${author}!\xff` }),
    scoreRange: (gte, lt) => load({ gte: `idx!articles!score!${pad(gte)}!`, lt: `idx!articles!score!${pad(lt)}!` }),
    close: () => db.close(),
  }
}
