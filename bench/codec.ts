import { Packr } from 'msgpackr'
import { decodeValue, encodeValue, PACKR_OPTIONS } from '../src/engine/level/msgpack-codec.js'
import { RecordShapes } from '../src/engine/level/record-shapes.js'
import { assertEncodable } from '../src/engine/plain-data.js'
import { fmt, machine, runSuite, sampleRecord, storedForm } from './bench-utils.js'
import type { Case } from './bench-utils.js'
import { article } from './peers/workload.js'

/**
 * msgpackr maps versus records (inline) versus records with shared structures, for ~300-byte objects;
 * then what the engines store: the stored record of the peer benchmark's articles (values, update
 * times, change time), plain (`encodeValue`) and with a store's table of record shapes.
 */
export async function run(): Promise<void> {
  console.log(machine())
  const N = 1000
  const records = Array.from({ length: N }, (_, i) => sampleRecord(i))
  const variants: [string, Packr][] = [
    ['maps (useRecords: false)', new Packr({ ...PACKR_OPTIONS })],
    ['records inline (useRecords: true)', new Packr({ ...PACKR_OPTIONS, useRecords: true })],
    ['records + shared structures', new Packr({ ...PACKR_OPTIONS, useRecords: true, structures: [], saveStructures: () => true } as any)],
  ]
  const cases: Case[] = []
  for (const [name, packr] of variants) {
    const packed = records.map((r) => Buffer.from(packr.pack(r)))
    const avg = packed.reduce((s, b) => s + b.length, 0) / N
    console.log(`  ${name}: ${avg.toFixed(0)} bytes per record`)
    let i = 0
    cases.push({ name: `pack ${name}`, units: 100, fn: () => { for (let k = 0; k < 100; k++) packr.pack(records[i++ % N]) } })
    let j = 0
    cases.push({ name: `unpack ${name}`, units: 100, fn: () => { for (let k = 0; k < 100; k++) packr.unpack(packed[j++ % N]!) } })
  }
  let a = 0
  cases.push({ name: 'assertEncodable alone', units: 100, fn: () => { for (let k = 0; k < 100; k++) assertEncodable(records[a++ % N], 'k') } })
  let b = 0
  cases.push({ name: 'encodeValue (check + pack)', units: 100, fn: () => { for (let k = 0; k < 100; k++) encodeValue(records[b++ % N], 'k') } })
  const encoded = records.map((r) => Buffer.from(encodeValue(r, 'k')))
  let c = 0
  cases.push({ name: 'decodeValue', units: 100, fn: () => { for (let k = 0; k < 100; k++) decodeValue(encoded[c++ % N]!, 'k') } })
  const stored = Array.from({ length: N }, (_, i) => storedForm(article(i) as unknown as Record<string, unknown>))
  const shapes = new RecordShapes(undefined, 'bench')
  const plainBytes = stored.map((r) => Buffer.from(encodeValue(r, 'k')))
  const shapedBytes = stored.map((r) => Buffer.from(shapes.encode(r, 'k', 0)))
  const size = (list: Buffer[]) => (list.reduce((s, b) => s + b.length, 0) / N).toFixed(0)
  console.log(`  stored articles: ${size(plainBytes)} bytes plain, ${size(shapedBytes)} bytes with shapes`)
  let d = 0
  cases.push({ name: 'article record, encodeValue (plain)', units: 100, fn: () => { for (let k = 0; k < 100; k++) encodeValue(stored[d++ % N], 'k') } })
  let e = 0
  cases.push({ name: 'article record, RecordShapes.encode', units: 100, fn: () => { for (let k = 0; k < 100; k++) shapes.encode(stored[e++ % N], 'k', 0) } })
  let f = 0
  cases.push({ name: 'article record, decodeValue (plain)', units: 100, fn: () => { for (let k = 0; k < 100; k++) decodeValue(plainBytes[f++ % N]!, 'k') } })
  let g = 0
  cases.push({ name: 'article record, RecordShapes.decode', units: 100, fn: () => { for (let k = 0; k < 100; k++) shapes.decode(shapedBytes[g++ % N]!, 'k', 0) } })
  const results = await runSuite(cases, 2)
  console.log('\n| case | records/s |\n|---|---:|')
  for (const r of results) console.log(`| ${r.name} | ${fmt(r.unitsPerSec)} ±${r.rme.toFixed(1)}% |`)
}
