import { toJsonValue } from '../engine/directory/json-codec.js'

/** Writes a line to stdout, waiting for the pipe when it is full. */
export async function print(text: string): Promise<void> {
  if (!process.stdout.write(text + '\n')) await new Promise((done) => process.stdout.once('drain', done))
}

/** Plain data as JSON: dates, bytes, bigints as the dump format's tags (`{"$date": ...}`). */
export function json(value: unknown, pretty = true): string {
  return JSON.stringify(toJsonValue(value, 'output'), null, pretty ? 2 : undefined)
}

/** A message for the person at the terminal (stderr, so stdout stays data). */
export function say(text: string): void {
  process.stderr.write(text + '\n')
}

/** Rows as aligned columns, the first row a header. */
export function table(rows: Array<Array<string | number>>): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => String(r[i] ?? '').length)))
  return rows.map((r) => r.map((c, i) => (typeof c === 'number' ? String(c).padStart(widths[i]!) : String(c).padEnd(widths[i]!))).join('  ').trimEnd()).join('\n')
}

export function bytes(n: number): string {
  if (n < 1024) return `${n} B`
  const units = ['KiB', 'MiB', 'GiB', 'TiB']
  let v = n / 1024
  let u = 0
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024
    u++
  }
  return `${v.toFixed(1)} ${units[u]}`
}
