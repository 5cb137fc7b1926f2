import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { Database, Model, StoredRaw } from '../../src/index.js'
import { storeKinds, type Store } from '../helpers/stores.js'
import { generated, generatedDigest } from './helpers.js'

/*
 * Memory is a correctness property of raw data: a large object is streamed in and out without ever
 * being held whole. These tests stream a generated 128 MiB object (never materialized) and sample
 * the process's resident memory as they go. What is measured is the anonymous part of RSS (heap,
 * buffers, native allocations: RssAnon in /proc/self/status): LevelDB maps its table files into
 * memory read-only, so reading a large object back makes file-backed RSS (RssFile) grow by up to
 * the object's size in page cache the kernel can drop at any time; that is logged, not bounded.
 */

@Model({ collection: 'big' })
class Big extends StoredRaw {}

const MIB = 1024 * 1024
const SIZE = 128 * MIB
const BOUND = 64 * MIB

function gc(): void {
  ;(globalThis as { gc?: () => void }).gc?.()
}

/** Resident memory in bytes: anonymous (owned by the process) and total (with file mappings). */
function resident(): { anon: number; total: number } {
  const total = process.memoryUsage.rss()
  try {
    const kb = /RssAnon:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))
    if (kb) return { anon: Number(kb[1]) * 1024, total }
  } catch {}
  return { anon: total, total }
}

/** Calls `fn`, sampling memory every few ms and at each `tick()`; returns the peak growths over the start. */
async function peakGrowth(fn: (tick: () => void) => Promise<void>): Promise<{ anon: number; total: number }> {
  gc()
  const base = resident()
  const peak = { ...base }
  let n = 0
  const sample = () => {
    const now = resident()
    peak.anon = Math.max(peak.anon, now.anon)
    peak.total = Math.max(peak.total, now.total)
  }
  const tick = () => {
    if (++n % 16 === 0) sample()
  }
  const timer = setInterval(sample, 5)
  try {
    await fn(tick)
  } finally {
    clearInterval(timer)
  }
  sample()
  return { anon: peak.anon - base.anon, total: peak.total - base.total }
}

const mib = (n: number) => (n / MIB).toFixed(1)

for (const kind of storeKinds) {
  describe(`a ${SIZE / MIB} MiB raw object on ${kind.name}`, () => {
    let store: Store
    let db: Database

    beforeEach(async () => {
      store = await kind.make()
      db = await Database.open({ engine: store.engine(), models: [Big] })
    })
    afterEach(async () => {
      await db.close()
      await store.cleanup()
    })

    it('streams in and out with bounded memory, byte for byte', async () => {
      const expected = await generatedDigest(SIZE)
      let big!: Big
      const inGrowth = await peakGrowth(async (tick) => {
        async function* watched(): AsyncGenerator<Uint8Array> {
          for await (const chunk of generated(SIZE)) {
            tick()
            yield chunk
          }
        }
        big = await Big.create(watched(), { format: 'bin' })
      })
      expect(big.size).toBe(SIZE)
      expect(big.sha256).toBe(expected)

      let read = 0
      const hash = createHash('sha256')
      let largest = 0
      const outGrowth = await peakGrowth(async (tick) => {
        for await (const chunk of big.data(64 * 1024)) {
          hash.update(chunk)
          read += chunk.length
          if (chunk.length > largest) largest = chunk.length
          tick()
        }
      })
      expect(read).toBe(SIZE)
      expect(largest).toBeLessThanOrEqual(64 * 1024)
      expect(hash.digest('hex')).toBe(expected)

      // The memory engine keeps the data itself in memory: it may grow by the object (once, not twice).
      const inBound = db.engine.supports.persistent ? BOUND : SIZE + BOUND
      console.log(
        `${kind.name}: peak growth streaming ${SIZE / MIB} MiB in: ${mib(inGrowth.anon)} MiB anonymous (${mib(inGrowth.total)} MiB RSS), ` +
          `out: ${mib(outGrowth.anon)} MiB anonymous (${mib(outGrowth.total)} MiB RSS)`,
      )
      expect(inGrowth.anon).toBeLessThan(inBound)
      expect(outGrowth.anon).toBeLessThan(BOUND)
    })
  })
}
