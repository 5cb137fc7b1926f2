import { spawn } from 'node:child_process'
import { createReadStream, createWriteStream, readFileSync } from 'node:fs'
import { mkdtemp, open, rm, unlink } from 'node:fs/promises'
import { cpus, tmpdir, totalmem } from 'node:os'
import { join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import { ClassicLevel } from 'classic-level'
import { DirectoryEngine } from '../src/engine/directory/directory-engine.js'
import type { Engine } from '../src/engine/engine.js'
import { LevelEngine } from '../src/engine/level/level-engine.js'
import { MemoryEngine } from '../src/engine/memory/memory-engine.js'
import { Database, Model, StoredRaw } from '../src/index.js'

/**
 * Raw data throughput (write and read MB/s, 1 MB and 200 MB objects) on each engine, beside a plain
 * file write/read/copy and raw classic-level chunk writes/reads in the same run; then the peak
 * resident memory while streaming a 200 MB object in and out. MB = 10^6 bytes.
 */
@Model({ collection: 'bench' })
class Blob extends StoredRaw {}

const MB = 1_000_000
const PIECE = 64 * 1024
const LEVEL_CHUNK = 256 * 1024
const SIZES = [
  { label: '1 MB', bytes: 1 * MB, reps: 40 },
  { label: '200 MB', bytes: 200 * MB, reps: 2 },
]

const block = new Uint8Array(PIECE).map((_, i) => (i * 131 + 7) & 0xff)

/** `total` bytes in 64 KiB pieces, as a stream would give them. */
async function* source(total: number): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < total; at += PIECE) yield at + PIECE <= total ? block : block.subarray(0, total - at)
}

async function drain(it: AsyncIterable<Uint8Array>): Promise<number> {
  let n = 0
  for await (const c of it) n += c.length
  return n
}

/** Median MB/s of `reps` timed runs of fn (each moving `bytes`); `after` runs untimed after each. */
async function rate(bytes: number, reps: number, fn: () => Promise<unknown>, after?: () => Promise<unknown>): Promise<number> {
  const rates: number[] = []
  for (let i = 0; i < reps; i++) {
    const t = process.hrtime.bigint()
    await fn()
    const s = Number(process.hrtime.bigint() - t) / 1e9
    rates.push(bytes / MB / s)
    await after?.()
  }
  rates.sort((a, b) => a - b)
  return rates[Math.floor(rates.length / 2)]!
}

function machine(): string {
  return `${cpus().length} cores (nproc), ${cpus()[0]?.model ?? 'unknown CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB RAM, Node ${process.version}, ${process.platform}`
}

function resident(): { anon: number; total: number } {
  const total = process.memoryUsage.rss()
  try {
    const kb = /RssAnon:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))
    if (kb) return { anon: Number(kb[1]) * 1024, total }
  } catch {}
  return { anon: total, total }
}

/** Peak growth (MB) of resident memory over its value before fn; `tick` samples too (fn may never yield to timers). */
async function peak(fn: (tick: () => void) => Promise<unknown>): Promise<{ anon: number; total: number }> {
  ;(globalThis as { gc?: () => void }).gc?.()
  const base = resident()
  const top = { ...base }
  const sample = () => {
    const now = resident()
    top.anon = Math.max(top.anon, now.anon)
    top.total = Math.max(top.total, now.total)
  }
  let n = 0
  const timer = setInterval(sample, 2)
  try {
    await fn(() => ++n % 16 === 0 && sample())
  } finally {
    clearInterval(timer)
  }
  sample()
  return { anon: (top.anon - base.anon) / MB, total: (top.total - base.total) / MB }
}

const ENGINES: Record<string, (dir: string) => Engine> = {
  MemoryEngine: () => new MemoryEngine(),
  DirectoryEngine: (dir) => new DirectoryEngine(join(dir, 'directory')),
  LevelEngine: (dir) => new LevelEngine(join(dir, 'leveldb')),
}

/**
 * Run in a fresh process (so memory freed by earlier work does not hide growth): streams a 200 MB
 * object in, then out, and prints the peak growths as JSON.
 */
export async function peakChild(name: string, dir: string): Promise<void> {
  const db = await Database.open({ engine: ENGINES[name]!(dir), models: [Blob] })
  let big!: Blob
  const into = await peak(async (tick) => {
    async function* watched(): AsyncGenerator<Uint8Array> {
      for await (const piece of source(200 * MB)) {
        tick()
        yield piece
      }
    }
    big = await Blob.create(watched())
  })
  const out = await peak(async (tick) => {
    for await (const _ of big.data(PIECE)) tick()
  })
  await db.close()
  console.log(JSON.stringify({ into, out }))
}

function measureInChild(name: string, dir: string): Promise<{ into: { anon: number; total: number }; out: { anon: number; total: number } }> {
  const code = `import { peakChild } from ${JSON.stringify(import.meta.url)}; await peakChild(${JSON.stringify(name)}, ${JSON.stringify(dir)})`
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--expose-gc', '--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] })
    let out = ''
    child.stdout.on('data', (d) => (out += d))
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').pop()!)) : reject(new Error(`peak child for ${name} exited with ${code}`))))
  })
}

export async function run(): Promise<void> {
  console.log(machine())
  const dir = await mkdtemp(join(tmpdir(), 'stowage-bench-raw-'))
  const rows: string[] = []
  const row = (what: string, size: string, write: number, read: number) => {
    rows.push(`| ${what} | ${size} | ${write.toFixed(0)} | ${read.toFixed(0)} |`)
    console.log(`  ${what}, ${size}: write ${write.toFixed(0)} MB/s, read ${read.toFixed(0)} MB/s`)
  }
  const memory: string[] = []
  try {
    // Baselines: a plain file (written with one fsync like the Directory engine, read in 64 KiB
    // pieces, copied with a stream pipeline) and classic-level puts of 256 KiB chunks.
    for (const { label, bytes, reps } of SIZES) {
      const file = join(dir, 'plain.bin')
      const write = await rate(bytes, reps, async () => {
        const fh = await open(file, 'w')
        for await (const piece of source(bytes)) await fh.write(piece)
        await fh.sync()
        await fh.close()
      })
      const read = await rate(bytes, reps, async () => {
        const fh = await open(file, 'r')
        const buf = new Uint8Array(PIECE)
        for (let pos = 0; ; ) {
          const { bytesRead } = await fh.read(buf, 0, PIECE, pos)
          if (bytesRead === 0) break
          pos += bytesRead
        }
        await fh.close()
      })
      row('plain file (write + fsync / read)', label, write, read)
      const copy = await rate(bytes, reps, async () => {
        const out = createWriteStream(join(dir, 'copy.bin'), { flush: true } as never)
        await pipeline(createReadStream(file, { highWaterMark: PIECE }), out)
      })
      rows.push(`| plain file copy (stream pipeline, MB copied/s) | ${label} | ${copy.toFixed(0)} | |`)
      console.log(`  plain file copy, ${label}: ${copy.toFixed(0)} MB/s`)
      await unlink(file)
      await unlink(join(dir, 'copy.bin'))

      const level = new ClassicLevel<string, Uint8Array>(join(dir, `level-${label.replace(' ', '')}`), { keyEncoding: 'utf8', valueEncoding: 'view' })
      await level.open()
      let n = 0
      const lwrite = await rate(
        bytes,
        reps,
        async () => {
          const prefix = `c${String(++n).padStart(4, '0')}`
          let chunk = new Uint8Array(LEVEL_CHUNK)
          let filled = 0
          let index = 0
          for await (const piece of source(bytes)) {
            chunk.set(piece, filled)
            filled += piece.length
            if (filled === LEVEL_CHUNK) {
              await level.put(prefix + String(index++).padStart(8, '0'), chunk)
              chunk = new Uint8Array(LEVEL_CHUNK)
              filled = 0
            }
          }
          if (filled > 0) await level.put(prefix + String(index++).padStart(8, '0'), chunk.subarray(0, filled))
          await level.put('sync', Uint8Array.of(n), { sync: true } as never)
        },
      )
      const lread = await rate(bytes, reps, async () => {
        const it = level.values({ gte: 'c0001', lt: 'c0002' })
        let got = 0
        for (;;) {
          const values = await it.nextv(2)
          if (values.length === 0) break
          for (const v of values) got += v.length
        }
        await it.close()
        if (got !== bytes) throw new Error(`classic-level read ${got} bytes`)
      })
      await level.close()
      row('classic-level 256 KiB chunk puts / iterator', label, lwrite, lread)
    }

    for (const [name, make] of Object.entries(ENGINES)) {
      const db = await Database.open({ engine: make(dir), models: [Blob] })
      try {
        for (const { label, bytes, reps } of SIZES) {
          let last: Blob | undefined
          const write = await rate(
            bytes,
            reps,
            async () => (last = await Blob.create(source(bytes), { format: 'bin' })),
            async () => {
              if (reps > 2) return
              await last!.remove()
            },
          )
          const keep = last!.size === bytes ? last! : await Blob.create(source(bytes))
          const read = await rate(bytes, reps, async () => {
            const n = await drain(keep.data(PIECE))
            if (n !== bytes) throw new Error(`read ${n} bytes`)
          })
          row(`StoredRaw on ${name}`, label, write, read)
          for await (const b of Blob.all()) await b.remove()
        }
      } finally {
        await db.close()
      }
      // Peak memory: one 200 MB object streamed in, then out, in a fresh process.
      const { into, out } = await measureInChild(name, join(dir, 'peak'))
      memory.push(`| ${name} | ${into.anon.toFixed(1)} | ${into.total.toFixed(1)} | ${out.anon.toFixed(1)} | ${out.total.toFixed(1)} |`)
      console.log(`  peak growth ${name}: in ${into.anon.toFixed(1)} MB anon (${into.total.toFixed(1)} MB RSS), out ${out.anon.toFixed(1)} MB anon (${out.total.toFixed(1)} MB RSS)`)
    }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
  console.log('\n| what | object | write MB/s | read MB/s |\n|---|---|---:|---:|')
  for (const r of rows) console.log(r)
  console.log('\nPeak growth over the baseline while streaming a 200 MB object (MB; anonymous RSS, and total RSS with file mappings):\n')
  console.log('| engine | in, anon | in, RSS | out, anon | out, RSS |\n|---|---:|---:|---:|---:|')
  for (const m of memory) console.log(m)
}
