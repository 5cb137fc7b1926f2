import type { StoredObject } from './stored-object.js'
import type { WriteItem } from './unit-of-work.js'

/** At most this many saves and removes are written as one. */
const MAX_GROUP = 1000

interface Group {
  items: WriteItem[]
  objects: Set<StoredObject>
  waiters: Array<{ resolve(): void; reject(err: unknown): void }>
}

/**
 * Saves and removes made outside transactions that wait for the write queue, written together as one
 * write (one engine batch, one commit) when the queue reaches them: a commit's fixed cost (on LMDB
 * a flush to disk, on PostgreSQL a round trip) is then paid once for all of them. Each still
 * settles on its own: if the write of a group fails, its members are written again one by one, so a
 * refused save fails alone, with its own error, and the others are stored.
 *
 * A group only takes saves while it is the last write queued: a save made after another kind of
 * write (a transaction, say) is written after it, as it would be alone. An object already in a group
 * starts a new one, so a save followed by a remove of the same object writes both.
 */
export class SaveGroups {
  #open: Group | undefined

  /**
   * `enqueue` runs a write after every write queued before it; `write` writes items as one unit of
   * work (`UnitOfWork.write`).
   */
  constructor(
    private readonly enqueue: (write: () => Promise<void>) => void,
    private readonly write: (items: WriteItem[]) => Promise<void>,
  ) {}

  /** Writes the item with whatever else joins its group; settles when it is stored, or refused. */
  add(item: WriteItem): Promise<void> {
    let group = this.#open
    if (group === undefined || group.items.length >= MAX_GROUP || group.objects.has(item.obj)) {
      const fresh: Group = { items: [], objects: new Set(), waiters: [] }
      this.#open = group = fresh
      this.enqueue(() => {
        if (this.#open === fresh) this.#open = undefined
        return this.#run(fresh)
      })
    }
    group.items.push(item)
    group.objects.add(item.obj)
    return new Promise<void>((resolve, reject) => group.waiters.push({ resolve, reject }))
  }

  /** Another write was queued: saves made from now on are written after it. */
  close(): void {
    this.#open = undefined
  }

  async #run(group: Group): Promise<void> {
    if (group.items.length > 1) {
      try {
        await this.write(group.items)
        for (const waiter of group.waiters) waiter.resolve()
        return
      } catch {
        // Written one by one below: each gets its own outcome.
      }
    }
    for (let i = 0; i < group.items.length; i++) {
      try {
        await this.write([group.items[i]!])
        group.waiters[i]!.resolve()
      } catch (err) {
        group.waiters[i]!.reject(err)
      }
    }
  }
}
