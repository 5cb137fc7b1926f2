import { OverflowError } from '../errors.js'
import type { ChangeEvent } from './change-event.js'
import { deliver, OBSERVABLE, toObserver, type Observer, type Subscription } from './observable.js'

/** Where a stream's events come from: starts delivering them (and `end` when they end), and returns how to stop. */
export type EventSource<E> = (deliver: (event: E) => void, end: () => void) => () => void

/** Events an async iterator may hold for a consumer that has not read them yet. */
export const DEFAULT_BUFFER = 10_000

/**
 * The change events of a database, a model or an object (`db.changes()`, `Model.changes()`,
 * `obj.changes()`): async-iterable, `subscribe(fn | observer)`, and an Observable
 * (`Symbol.observable`) that RxJS's `from()` and UI libraries take. Nothing is kept or computed for
 * it until it is iterated or subscribed to, and nothing once the iteration ends or the
 * subscription is unsubscribed.
 *
 * Listeners run after the write committed, never inside it: a slow or failing listener cannot hold
 * up or undo a write. A listener that throws is unsubscribed and its error goes to its `error`
 * callback (uncaught when it has none, as an EventEmitter listener's). An iterator that falls more than `buffer` events behind gets an
 * `OverflowError` (code `OVERFLOW`) once it has read what it holds: read the current state again,
 * then iterate anew.
 */
export class ChangeStream<E = ChangeEvent> implements AsyncIterable<E> {
  readonly #source: EventSource<E>
  readonly #buffer: number

  constructor(source: EventSource<E>, buffer = DEFAULT_BUFFER) {
    this.#source = source
    this.#buffer = buffer
  }

  subscribe(target: ((event: E) => void) | Observer<E>): Subscription {
    const observer = toObserver(target)
    let stop: (() => void) | undefined
    const subscription = {
      closed: false,
      unsubscribe() {
        if (subscription.closed) return
        subscription.closed = true
        stop?.()
      },
    }
    stop = this.#source(
      (event) => {
        if (!subscription.closed) deliver(observer, event, () => subscription.unsubscribe())
      },
      () => {
        if (subscription.closed) return
        subscription.closed = true
        stop?.()
        observer.complete?.()
      },
    )
    return subscription
  }

  [Symbol.asyncIterator](): AsyncIterator<E> {
    const queue: E[] = []
    let waiting: ((result: IteratorResult<E>) => void) | undefined
    let overflowed = 0
    let done = false
    const limit = this.#buffer
    let ended = false
    const stop = this.#source(
      (event) => {
        if (done) return
        if (waiting !== undefined) {
          const resolve = waiting
          waiting = undefined
          resolve({ value: event, done: false })
        } else if (queue.length < limit) {
          queue.push(event)
        } else {
          overflowed++
        }
      },
      () => {
        // The database closed: what is queued is still read, then the iteration ends.
        ended = true
        const resolve = waiting
        waiting = undefined
        resolve?.({ value: undefined, done: true })
      },
    )
    const finish = (): IteratorResult<E> => {
      if (!done) {
        done = true
        stop()
        queue.length = 0
      }
      return { value: undefined, done: true }
    }
    return {
      next: () => {
        if (queue.length > 0) return Promise.resolve({ value: queue.shift()!, done: false })
        if (overflowed > 0) {
          const dropped = overflowed
          finish()
          overflowed = 0
          return Promise.reject(
            new OverflowError(`the change stream's consumer fell more than ${limit} events behind; ${dropped} were dropped (not kept without bound): read the current state, then iterate again`),
          )
        }
        if (done || ended) return Promise.resolve(finish())
        return new Promise((resolve) => {
          waiting = resolve
        })
      },
      return: () => {
        const resolve = waiting
        waiting = undefined
        resolve?.({ value: undefined, done: true })
        return Promise.resolve(finish())
      },
    }
  }

  [OBSERVABLE](): this {
    return this
  }
}
