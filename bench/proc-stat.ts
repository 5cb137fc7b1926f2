import { readFileSync } from 'node:fs'

/** The sum of `count` fields of a `/proc/<pid>/stat` line from field `from` after the command (state is 0, ppid 1, utime 11, stime 12, cutime 13, cstime 14). */
export function ticks(stat: string, from: number, count: number): number {
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ').slice(from, from + count).reduce((sum, f) => sum + Number(f), 0)
}

/** CPU time (ms) a process on this machine has used (user + system), if it can be read. */
export function processCpuMs(pid: number): number | undefined {
  try {
    return ticks(readFileSync(`/proc/${pid}/stat`, 'utf8'), 11, 2) * 10 // USER_HZ is 100 on Linux
  } catch {
    return undefined
  }
}
