/** `Symbol.observable` where a library (RxJS, zen-observable...) defined it, else the `'@@observable'` they all also accept. */
export const OBSERVABLE: symbol | '@@observable' =
  typeof (Symbol as { observable?: symbol }).observable === 'symbol' ? (Symbol as unknown as { observable: symbol }).observable : '@@observable'

export interface Observer<T> {
  next?(value: T): void
  error?(err: unknown): void
  complete?(): void
}

export interface Subscription {
  unsubscribe(): void
  readonly closed: boolean
}

/** The observer of `subscribe(fnOrObserver)`. */
export function toObserver<T>(target: ((value: T) => void) | Observer<T>): Observer<T> {
  if (typeof target === 'function') return { next: target }
  if (target === null || typeof target !== 'object') throw new TypeError('subscribe() takes a function or an observer { next, error, complete }')
  return target
}

/**
 * Gives `value` to the observer's `next`; a listener that throws stops listening (`stop`), and its
 * error goes to its `error` callback, else it is reported as uncaught.
 */
export function deliver<T>(observer: Observer<T>, value: T, stop: () => void): void {
  try {
    observer.next?.(value)
  } catch (err) {
    stop()
    if (observer.error === undefined) reportLater(err)
    else observer.error(err)
  }
}

/** A listener's exception must not reach the writer that committed: it is reported as uncaught, like an EventEmitter listener's. */
export function reportLater(err: unknown): void {
  queueMicrotask(() => {
    throw err
  })
}
