/**
 * V8 keeps the target of every WeakRef made or dereferenced during a job alive until the job ends,
 * that is until the microtask queue drains. A chain of awaits on an engine that answers without a
 * macrotask (synchronous reads; writes on LMDB and memory-level) never lets it drain: a bulk load or
 * a loop of reads written that way would keep every instance it touched alive to its end (100,000
 * articles inserted peaked 50 to 130 MB higher on the Memory engine and on LMDB). So the identity
 * map counts its weak references per job, and writes and reads let the job end once many were made.
 */
const PER_JOB = 4096

let made = 0
let watching = false

/** A weak reference to obj, counted against the current job. */
export function weakRef<T extends object>(obj: T): WeakRef<T> {
  count()
  return new WeakRef(obj)
}

/** The target of ref, if alive, counted against the current job. */
export function deref<T extends object>(ref: WeakRef<T>): T | undefined {
  count()
  return ref.deref()
}

function count(): void {
  made++
  if (watching) return
  watching = true
  // Runs once the current job has ended, when V8 has let go of what it kept for it.
  setImmediate(() => {
    made = 0
    watching = false
  }).unref()
}

/** Whether the current job made or dereferenced so many weak references that it should end. */
export function jobIsFull(): boolean {
  return made >= PER_JOB
}

/** Resolves once the current job has ended. */
export function endJob(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}
