import { readdir, readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'

/** Every byte of the files of a store: every file under a directory, or the file itself. */
export async function filesUnder(path: string): Promise<Buffer> {
  if ((await stat(path)).isFile()) return readFile(path)
  const parts: Buffer[] = []
  for (const name of await readdir(path, { recursive: true })) {
    const file = join(path, name)
    if ((await stat(file)).isFile()) parts.push(await readFile(file))
  }
  return Buffer.concat(parts)
}

/** The bytes the files under a directory take. */
export async function bytesUnder(dir: string): Promise<number> {
  let total = 0
  for (const name of await readdir(dir, { recursive: true })) {
    const s = await stat(join(dir, name))
    if (s.isFile()) total += s.size
  }
  return total
}
