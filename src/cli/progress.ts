import { SingleBar } from 'cli-progress'

/** A progress bar on stderr when it is a terminal and the output is not JSON; else nothing. */
export interface Progress {
  update(done: number, total?: number): void
  stop(): void
}

export function progress(label: string, enabled: boolean): Progress {
  if (!enabled || process.stderr.isTTY !== true) return { update() {}, stop() {} }
  const bar = new SingleBar({ format: `${label} [{bar}] {value}/{total}`, stream: process.stderr, hideCursor: true, clearOnComplete: true })
  let started = false
  return {
    update(done, total) {
      if (!started) {
        bar.start(total ?? done, done)
        started = true
      } else {
        if (total !== undefined) bar.setTotal(total)
        else if (done > bar.getTotal()) bar.setTotal(done)
        bar.update(done)
      }
    },
    stop() {
      if (started) bar.stop()
    },
  }
}
