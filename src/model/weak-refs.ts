/**
 * V8 keeps the target of every WeakRef made during a job alive until the job ends, that is until
 * the microtask queue drains. A chain of awaits on an engine that answers without a macrotask
 * (LMDB, memory-level) never lets it drain: a bulk load written that way would keep every instance
 * it made alive to its end (100,000 articles peaked 50 to 130 MB higher on the Memory engine and on
 * LMDB). So weak references are counted per job, and writers let the job end once many were made in it.
 */
const PER_JOB = 4096

let made = 0
let watching = false

/** A weak reference to obj, counted against the current job. */
export function weakRef<T extends object>(obj: T): WeakRef<T> {
  made++
  if (!watching) {
    watching = true
    // Runs once the current job has ended, when V8 has let go of what it kept for it.
    setImmediate(() => {
      made = 0
      watching = false
    }).unref()
  }
  return new WeakRef(obj)
}

/** Undefined, or, when the current job made many weak references, a promise that resolves after it ended. */
export function letJobEnd(): Promise<void> | undefined {
  return made < PER_JOB ? undefined : new Promise((resolve) => setImmediate(resolve))
}
