/**
 * Point reads (one key, or one record) gathered into few queries: while `limit` queries are in
 * flight, the reads asked meanwhile wait and then go together, one query per group (a collection),
 * each key once. A read is always answered by a query sent after it was asked, so it sees every
 * write that had resolved by then. Under light load each read is its own query, sent at once.
 */
export class ReadBatcher<V> {
  #pending = new Map<string, Map<string, { resolve(v: V | undefined): void; reject(err: unknown): void }[]>>()
  #size = 0
  #inflight = 0

  constructor(
    private readonly limit: number,
    /** Reads the keys of one group; gives the values found, by key. */
    private readonly fetch: (group: string, keys: string[]) => Promise<Map<string, V>>,
  ) {}

  get(group: string, key: string): Promise<V | undefined> {
    return new Promise((resolve, reject) => {
      let keys = this.#pending.get(group)
      if (!keys) this.#pending.set(group, (keys = new Map()))
      const waiting = keys.get(key)
      if (waiting) waiting.push({ resolve, reject })
      else keys.set(key, [{ resolve, reject }])
      this.#size++
      this.#pump()
    })
  }

  #pump(): void {
    while (this.#inflight < this.limit && this.#size > 0) {
      const [group, keys] = this.#pending.entries().next().value!
      this.#pending.delete(group)
      this.#size -= [...keys.values()].reduce((n, w) => n + w.length, 0)
      this.#inflight++
      this.fetch(group, [...keys.keys()]).then(
        (found) => {
          for (const [key, waiting] of keys) for (const w of waiting) w.resolve(found.get(key))
        },
        (err) => {
          for (const waiting of keys.values()) for (const w of waiting) w.reject(err)
        },
      ).finally(() => {
        this.#inflight--
        this.#pump()
      })
    }
  }
}
