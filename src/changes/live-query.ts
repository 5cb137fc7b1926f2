import type { Database } from '../model/database.js'
import type { ModelMeta } from '../model/meta.js'
import { feedOf, type KeyedChange, type Watcher } from './change-feed.js'
import { deliver, OBSERVABLE, reportLater, toObserver, type Observer, type Subscription } from './observable.js'

/** Which committed changes may change a live query's results, decided from their index keys. */
export interface ChangeMatcher {
  /** See `Watcher.hints`. */
  hints: Array<[string, string]> | undefined
  /** Whether the change may matter (may: a false positive costs a re-run, a false negative a stale view). */
  matters(change: KeyedChange): boolean
}

/**
 * The results of a query, followed as the store changes (`.watch()` on a query or an index view):
 * async-iterable and `subscribe(fn | observer)` (and `Symbol.observable`). Each subscriber (or
 * iteration) first gets the current results, then new results after each commit that may change
 * them, decided from the commit's change set and index keys: writes that cannot touch the results
 * cost a lookup, and no query runs for them. Bursts are coalesced: the commits made while a re-run
 * is pending or running give one more re-run. A consumer that does not keep up gets the latest
 * results when it next reads, never a backlog. Unsubscribing (or leaving the loop) unregisters it.
 */
export class LiveQuery<T> implements AsyncIterable<T[]> {
  readonly #db: Database
  readonly #meta: ModelMeta
  readonly #matcher: ChangeMatcher
  readonly #run: () => Promise<T[]>

  constructor(db: Database, meta: ModelMeta, matcher: ChangeMatcher, run: () => Promise<T[]>) {
    this.#db = db
    this.#meta = meta
    this.#matcher = matcher
    this.#run = run
  }

  subscribe(target: ((results: T[]) => void) | Observer<T[]>): Subscription {
    const observer = toObserver(target)
    const subscription = {
      closed: false,
      unsubscribe: () => {
        subscription.closed = true
        watch.stop()
      },
    }
    const watch = this.#start(
      (results) => deliver(observer, results, () => subscription.unsubscribe()),
      (err) => {
        subscription.closed = true
        if (observer.error === undefined) reportLater(err)
        else observer.error(err)
      },
      () => {
        subscription.closed = true
        observer.complete?.()
      },
    )
    return subscription
  }

  [Symbol.asyncIterator](): AsyncIterator<T[]> {
    let latest: { results: T[] } | undefined
    let failure: { err: unknown } | undefined
    let waiting: { resolve: (r: IteratorResult<T[]>) => void; reject: (err: unknown) => void } | undefined
    let done = false
    const watch = this.#start(
      (results) => {
        if (waiting !== undefined) {
          const w = waiting
          waiting = undefined
          w.resolve({ value: results, done: false })
        } else {
          latest = { results } // a consumer that is behind gets only the newest results
        }
      },
      (err) => {
        if (waiting !== undefined) {
          const w = waiting
          waiting = undefined
          w.reject(err)
        } else {
          failure = { err }
        }
      },
      () => {
        // The database closed: the newest results are still read, then the iteration ends.
        done = true
        waiting?.resolve({ value: undefined, done: true })
        waiting = undefined
      },
    )
    const finish = (): IteratorResult<T[]> => {
      done = true
      watch.stop()
      return { value: undefined, done: true }
    }
    return {
      next: () => {
        if (latest !== undefined) {
          const { results } = latest
          latest = undefined
          return Promise.resolve({ value: results, done: false })
        }
        if (failure !== undefined) {
          finish()
          return Promise.reject(failure.err)
        }
        if (done) return Promise.resolve(finish())
        return new Promise((resolve, reject) => (waiting = { resolve, reject }))
      },
      return: () => {
        waiting?.resolve({ value: undefined, done: true })
        waiting = undefined
        return Promise.resolve(finish())
      },
    }
  }

  [OBSERVABLE](): this {
    return this
  }

  #start(emit: (results: T[]) => void, fail: (err: unknown) => void, end: () => void): { stop(): void } {
    let stopped = false
    let dirty = false
    let running = false
    let scheduled: NodeJS.Immediate | undefined
    let current: Promise<void> | undefined
    const refresh = (): Promise<void> => (current = run())
    const run = async (): Promise<void> => {
      scheduled = undefined
      if (stopped || this.#db.closed) return
      running = true
      dirty = false
      try {
        const results = await this.#run()
        if (!stopped) emit(results)
      } catch (err) {
        if (!stopped) {
          stop()
          // A database that closed ends its live queries, without an error.
          if (!this.#db.closed) fail(err)
        }
        return
      } finally {
        running = false
      }
      if (dirty && !stopped) schedule()
    }
    const schedule = () => {
      // After the current macrotask: every commit of a burst made meanwhile is in one re-run.
      if (scheduled === undefined && !running) scheduled = setImmediate(() => void refresh())
    }
    const matcher = this.#matcher
    const watcher: Watcher = {
      meta: this.#meta,
      hints: matcher.hints,
      changed(change) {
        if (stopped || !matcher.matters(change)) return
        dirty = true
        schedule()
      },
      ended() {
        stop()
        end()
      },
      // Before the database closes, a re-run in flight or due still delivers its results.
      async settle() {
        for (let i = 0; i < 10 && !stopped; i++) {
          if (running) await current
          else if (scheduled !== undefined) {
            clearImmediate(scheduled)
            await refresh()
          } else return
        }
      },
    }
    const unwatch = feedOf(this.#db).watch(watcher)
    const stop = () => {
      if (stopped) return
      stopped = true
      unwatch()
      if (scheduled !== undefined) clearImmediate(scheduled)
    }
    void refresh()
    return { stop }
  }
}
