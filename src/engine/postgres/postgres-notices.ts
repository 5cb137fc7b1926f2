import { randomBytes } from 'node:crypto'
import type { Client, QueryConfig, QueryResult } from 'pg'
import type { RemoteCommit } from '../../coherence/shared-store.js'

/** PostgreSQL refuses a NOTIFY payload of 8000 bytes or more (in UTF-8): past this, a commit is announced as `all`. */
const MAX_PAYLOAD = 7000
const RETRY_MS = [50, 200, 1000, 2000]
/** How long after the last commit heard from another process batches still run on the listening connection. */
const SHARED_MS = 1000

/**
 * Commits announced with NOTIFY inside each batch's transaction (so delivered when, and only if, it
 * commits, in commit order), heard on one LISTEN connection. A lost connection is opened again, and
 * listeners are then told `all`: commits made meanwhile went unheard.
 */
export class PostgresNotices {
  readonly #listeners = new Set<(commit: RemoteCommit) => void>()
  readonly #pings = new Map<string, () => void>()
  #client: Client | undefined
  #stopped = false
  #connecting: Promise<void> | undefined
  /** A query of `query()` runs on the listening connection. */
  #busy = false
  /** How this engine's own payloads begin: they are dropped unparsed. */
  readonly #own: string
  /** When (performance.now()) a commit of another process was last heard; -Infinity: never. */
  #lastRemote = -Infinity

  constructor(
    private readonly connect: () => Promise<Client>,
    /** The channel, quoted. */
    readonly channel: string,
    /** This engine's mark: its own commits are not handed to its listeners. */
    private readonly origin: string,
  ) {
    this.#own = `{"o":${JSON.stringify(origin)},`
  }

  /** The payload announcing a batch that wrote these records. */
  payload(records: Array<[string, string]>): string {
    const text = `${this.#own}"r":${JSON.stringify(records)}}`
    // Three bytes at most per UTF-16 unit: the byte count is needed only past a third of the limit.
    return text.length * 3 <= MAX_PAYLOAD || Buffer.byteLength(text) <= MAX_PAYLOAD ? text : JSON.stringify({ o: this.origin, r: 'all' })
  }

  async start(): Promise<void> {
    await this.#listen()
  }

  async stop(): Promise<void> {
    this.#stopped = true
    for (const resolve of this.#pings.values()) resolve()
    this.#pings.clear()
    await this.#client?.end().catch(() => {})
    this.#client = undefined
  }

  /**
   * Runs `config` on the listening connection if it is connected, runs nothing else, and another
   * process committed within the last second; else answers undefined, and the caller uses another
   * connection. While others commit, their notices wake the listening connection's server process
   * anyway, and a batch committed there has its own notice delivered by that same process: one
   * server process serves both, which saves CPU when writers share few cores. A process writing
   * alone gains the other way: on a connection of its own, its next batch does not wait for the
   * server to deliver the last one's notice first (bench/RESULTS.md, "Batches on the listening
   * connection or on one of their own"). Other processes' notices reach the connection between its
   * transactions, in commit order as ever.
   */
  query(config: QueryConfig): Promise<QueryResult> | undefined {
    const client = this.#client
    if (client === undefined || this.#busy || performance.now() - this.#lastRemote > SHARED_MS) return undefined
    this.#busy = true
    return client.query(config).finally(() => (this.#busy = false))
  }

  subscribe(listener: (commit: RemoteCommit) => void): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  /** A notice sent now and heard back: every commit announced before it was heard first. */
  async catchUp(send: (channel: string, payload: string) => Promise<void>): Promise<void> {
    if (this.#stopped) return
    await this.#connecting
    const nonce = randomBytes(8).toString('hex')
    const heard = new Promise<void>((resolve) => this.#pings.set(nonce, resolve))
    await send(this.channel, JSON.stringify({ ping: nonce }))
    await heard
  }

  async #listen(): Promise<void> {
    const client = await this.connect()
    client.on('notification', (message) => this.#heard(message.payload))
    client.on('error', () => this.#lost(client))
    client.on('end', () => this.#lost(client))
    await client.query(`LISTEN ${this.channel}`)
    this.#client = client
  }

  #lost(client: Client): void {
    if (this.#stopped || this.#client !== client) return
    this.#client = undefined
    client.end().catch(() => {})
    this.#connecting = this.#reconnect()
  }

  async #reconnect(): Promise<void> {
    for (let attempt = 0; !this.#stopped; attempt++) {
      try {
        await this.#listen()
        if (this.#stopped) return void (await this.#client?.end().catch(() => {}))
        this.#tell({ records: 'all' })
        for (const resolve of this.#pings.values()) resolve() // their notices may be lost: the 'all' covers them
        this.#pings.clear()
        return
      } catch {
        await new Promise((resolve) => setTimeout(resolve, RETRY_MS[Math.min(attempt, RETRY_MS.length - 1)]).unref?.())
      }
    }
  }

  #heard(payload: string | undefined): void {
    if (payload?.startsWith(this.#own)) return
    let message: { o?: string; r?: Array<[string, string]> | 'all'; ping?: string }
    try {
      message = JSON.parse(payload ?? '')
    } catch {
      return // not Stowage's
    }
    if (message.ping !== undefined) {
      this.#pings.get(message.ping)?.()
      this.#pings.delete(message.ping)
      return
    }
    if (message.r === undefined) return
    this.#lastRemote = performance.now()
    this.#tell({ records: message.r })
  }

  #tell(commit: RemoteCommit): void {
    for (const listener of this.#listeners) {
      try {
        listener(commit)
      } catch {}
    }
  }
}
