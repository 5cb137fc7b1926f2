import { readFile } from 'node:fs/promises'
import { decodeJson } from './json-codec.js'

/**
 * Why the record file at `path` cannot be read back (the message a read of it would throw), or
 * undefined if it reads. Any failure counts, so that one unreadable file never stops the store
 * from opening: it is reported instead.
 */
export async function recordFileProblem(path: string): Promise<string | undefined> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    return `Record file ${path} cannot be read: ${(err as Error).message}`
  }
  try {
    decodeJson(text, `Record file ${path}`)
    return undefined
  } catch (err) {
    return (err as Error).message
  }
}
