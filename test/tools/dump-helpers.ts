import { createHash } from 'node:crypto'
import { readFile, writeFile } from 'node:fs/promises'
import { sealLine } from '../../src/tools/dump-format.js'

export async function readLines(file: string): Promise<string[]> {
  return (await readFile(file, 'utf8')).split('\n').slice(0, -1)
}

export async function writeLines(file: string, lines: string[]): Promise<void> {
  await writeFile(file, lines.map((l) => l + '\n').join(''))
}

/** The body of a line, parsed, without its checksum. */
export function parseLine(line: string): Record<string, unknown> {
  const { sum: _, ...rest } = JSON.parse(line) as Record<string, unknown>
  return rest
}

/**
 * A dump whose lines were changed by someone who knew the format: every line's checksum and the
 * trailer recomputed, so only what the data says can give the change away.
 */
export function reseal(lines: string[]): string[] {
  const body = lines.slice(0, -1).map((l) => sealLine(JSON.stringify(parseLine(l))))
  const trailer = parseLine(lines[lines.length - 1]!)
  const sha256 = createHash('sha256').update(body.map((l) => l + '\n').join('')).digest('hex')
  return [...body, sealLine(JSON.stringify({ ...trailer, lines: body.length, sha256 }))]
}
