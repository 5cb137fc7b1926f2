import { readFileSync } from 'node:fs'

/**
 * Resident memory after garbage collection, in bytes: all of it, and the anonymous part (heap, native
 * allocations; Linux's RssAnon), which leaves out file pages mapped by lmdb and LevelDB (page cache
 * the kernel can drop at any time). Imports nothing but node:fs, so that a child measuring what its
 * imports cost counts only them.
 */
export async function settledRss(): Promise<{ rss: number; anon: number }> {
  const gc = (globalThis as { gc?: () => void }).gc
  for (let i = 0; i < 3; i++) {
    gc?.()
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  const rss = process.memoryUsage.rss()
  let anon = NaN
  try {
    const kb = /^RssAnon:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'))
    if (kb) anon = Number(kb[1]) * 1024
  } catch {
    // not Linux: the anonymous part stays unknown
  }
  return { rss, anon }
}
