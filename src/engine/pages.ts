import type { Engine, WriteOp } from './engine.js'

/** Items grouped in arrays of at most `size`, read as they come. */
export async function* pagesOf<T>(items: AsyncIterable<T>, size = 256): AsyncGenerator<T[]> {
  let page: T[] = []
  for await (const item of items) {
    page.push(item)
    if (page.length >= size) {
      yield page
      page = []
    }
  }
  if (page.length > 0) yield page
}

/** Deletes every entry whose key starts with `prefix`, in batches of 1,000 (each atomic on its own). */
export async function deletePrefix(engine: Engine, prefix: string): Promise<void> {
  for (;;) {
    const ops: WriteOp[] = []
    for await (const key of engine.keys({ prefix, limit: 1000 })) ops.push({ type: 'del', key })
    if (ops.length === 0) return
    await engine.batch(ops)
  }
}
