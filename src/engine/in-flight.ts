/** The calls an engine started and that have not finished: closing waits for them. */
export class InFlight {
  readonly #calls = new Set<Promise<unknown>>()

  /** Tracks `p` until it settles; returns it. */
  track<T>(p: Promise<T>): Promise<T> {
    this.#calls.add(p)
    const done = () => this.#calls.delete(p)
    p.then(done, done)
    return p
  }

  /** Resolves once the calls in flight now have settled. */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.#calls])
  }

  /** Resolves once no call is in flight, those started meanwhile included. */
  async drained(): Promise<void> {
    while (this.#calls.size > 0) await Promise.allSettled([...this.#calls])
  }
}
