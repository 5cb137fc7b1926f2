import { readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'

/** Bytes of the files under `path` (or of the file). */
export function diskBytes(path: string): number {
  const stat = statSync(path)
  if (!stat.isDirectory()) return stat.size
  let n = 0
  for (const name of readdirSync(path)) n += diskBytes(join(path, name))
  return n
}
