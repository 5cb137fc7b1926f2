import type { Client, QueryConfig, QueryResult } from 'pg'
import type { RemoteCommit } from '../../coherence/shared-store.js'

/**
 * How the processes of a PostgresEngine store hear of each other's commits: a change log, not a
 * message per commit to every process.
 *
 * - Each batch adds a row to `changes` in its own transaction: its transaction id (`xid8`), the
 *   engine that wrote it and the records it wrote. The row is seen when, and only if, the batch commits.
 * - A process reads the rows committed since its last read: those its last read's snapshot did not
 *   see (`pg_visible_in_snapshot`), whatever order they committed in. Reads are one at a time per
 *   process and each takes the snapshot it read with as the next one's horizon, so every commit is
 *   heard exactly once: none is skipped by another that committed earlier with a later id.
 * - A process that writes reads the log in its own batches' call (at most every `READ_EVERY_MS`:
 *   no message, no extra round trip). One that has not written for `IDLE_MS` registers as a
 *   listener (a row in `listeners`, under an exclusive advisory lock) and reads the log; from then
 *   on each batch of another process rings it with a NOTIFY carrying the batch's xid and records,
 *   which it hands on at once. Batches check for listeners holding that lock shared until they
 *   commit: a batch that saw no listener commits before a registering process reads, so its row is
 *   in that read. A ring whose xid the last read saw is dropped, and a read skips the rows rung
 *   since: each commit is heard once. A process rung reads the log within a second (sooner after
 *   many rings), so that its horizon stays recent.
 *
 * So a process writing at a steady rate hears the others' commits with its own batches' answers,
 * and costs them nothing; only processes that are not writing are rung, once per batch.
 * `catchUp()` is a read of the log. Rows are deleted once every read begun `PRUNE_AGE` ago saw
 * them; a process whose last read is older than that hears `all`.
 */

/** A process that made no batch for this long registers to be rung for other processes' commits. */
export const IDLE_MS = 20
/** A writing process reads the log in its batches at most this often. */
const READ_EVERY_MS = 5
/** A process rung reads the log (advancing its horizon) this long after a ring at the latest, or after RING_READ rings. */
const RING_READ_MS = 1000
const RING_READ = 256
/** Rows of the log are deleted once every read begun this long ago saw them, at most every PRUNE_EVERY_MS, by processes that write. */
export const PRUNE_AGE = '60 seconds'
const PRUNE_EVERY_MS = 10_000
/** A batch's list of records longer than this is logged as `all`. */
const MAX_RECORDS_TEXT = 1 << 20
const RETRY_MS = [50, 200, 1000, 2000]

/** The functions' suffix: a new one for each change of their text, so that versions side by side each find theirs. */
export const LOG_VERSION = '4'
export const HEARD_FUNCTION = `stowage_heard_${LOG_VERSION}`
export const LISTEN_FUNCTION = `stowage_listen_${LOG_VERSION}`
export const PRUNE_FUNCTION = `stowage_prune_${LOG_VERSION}`

/** The log's tables (idempotent statements). */
export function logTables(s: string): string[] {
  return [
    `CREATE TABLE IF NOT EXISTS ${s}.changes (xid xid8 NOT NULL, origin text NOT NULL, records text NOT NULL)`,
    `CREATE INDEX IF NOT EXISTS changes_xid ON ${s}.changes (xid)`,
    `CREATE TABLE IF NOT EXISTS ${s}.listeners (origin text PRIMARY KEY, pid integer NOT NULL)`,
    `INSERT INTO ${s}.meta (name, value) VALUES ('pruned', '0') ON CONFLICT (name) DO NOTHING`,
  ]
}

/**
 * The log's functions. `heard(since, me)`: the snapshot it read with, the records lists of the
 * rows committed since `since` by other engines than `me` (in xid order), and whether rows `since`
 * did not see may have been pruned. `listen(me, bell, since)`: registers `me`'s connection as a
 * listener (dropping rows of connections gone), then reads as `heard` (or only takes the snapshot,
 * `since` null). `prune(age)`: deletes the rows below the mark it took at least `age` ago (the
 * xmin of a snapshot then: every row below it had committed, and every read since saw it), notes
 * that bound as `pruned`, and takes a new mark. A read whose snapshot's xmin is below `pruned` may
 * have missed deleted rows: `lost`. A transaction left open for long holds the marks back, so rows
 * are then kept longer, never reported lost for it.
 */
export function logFunctions(s: string): string[] {
  return [
    `CREATE FUNCTION ${s}.${HEARD_FUNCTION}(since text, me text, OUT snap text, OUT heard text[], OUT lost boolean) LANGUAGE plpgsql VOLATILE AS $fn$
BEGIN
  ${readLog(s)}
END
$fn$`,
    `CREATE FUNCTION ${s}.${LISTEN_FUNCTION}(me text, bell bigint, since text, OUT snap text, OUT heard text[], OUT lost boolean) LANGUAGE plpgsql VOLATILE AS $fn$
BEGIN
  PERFORM pg_advisory_xact_lock(bell);
  DELETE FROM ${s}.listeners l WHERE l.pid NOT IN (SELECT a.pid FROM pg_stat_activity a WHERE a.pid IS NOT NULL);
  INSERT INTO ${s}.listeners (origin, pid) VALUES (me, pg_backend_pid()) ON CONFLICT (origin) DO UPDATE SET pid = EXCLUDED.pid;
  IF since IS NULL THEN
    snap := pg_current_snapshot()::text;
    lost := false;
  ELSE
    ${readLog(s)}
  END IF;
END
$fn$`,
    `CREATE FUNCTION ${s}.${PRUNE_FUNCTION}(age interval) RETURNS void LANGUAGE plpgsql VOLATILE AS $fn$
DECLARE
  mark text;
BEGIN
  SELECT m.value INTO mark FROM ${s}.meta m WHERE m.name = 'prune_mark' FOR UPDATE;
  IF mark IS NOT NULL AND split_part(mark, '|', 1)::timestamptz > now() - age THEN
    RETURN;
  END IF;
  IF mark IS NOT NULL THEN
    DELETE FROM ${s}.changes c WHERE c.xid < split_part(mark, '|', 2)::xid8;
    UPDATE ${s}.meta m SET value = split_part(mark, '|', 2) WHERE m.name = 'pruned';
  END IF;
  INSERT INTO ${s}.meta (name, value) VALUES ('prune_mark', now()::text || '|' || pg_snapshot_xmin(pg_current_snapshot())::text)
    ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value;
END
$fn$`,
  ]
}

/**
 * The statement of a PL/pgSQL function (whose plans are kept, unlike an SQL function's) reading the
 * log since `since` for `me` into `snap`, `heard` (each row's xid, a space, its records) and `lost`:
 * one statement, so one snapshot.
 */
export function readLog(s: string): string {
  return `SELECT pg_current_snapshot()::text,
    (SELECT array_agg(c.xid::text || ' ' || c.records ORDER BY c.xid) FROM ${s}.changes c
      WHERE c.xid >= pg_snapshot_xmin(since::pg_snapshot) AND NOT pg_visible_in_snapshot(c.xid, since::pg_snapshot) AND c.origin <> me),
    pg_snapshot_xmin(since::pg_snapshot) < (SELECT m.value::xid8 FROM ${s}.meta m WHERE m.name = 'pruned')
  INTO snap, heard, lost;`
}

/** What a read of the log answers (a row of `heard`, or of a batch's call). */
export interface LogRead {
  snap: string | null
  heard: string[] | null
  lost: boolean | null
}

/** What a batch's call adds to its arguments. */
export interface LogArgs {
  /** The engine's mark, on the row the batch logs. */
  me: string
  /** The lock batches hold shared while they look for listeners. */
  bell: bigint
  channel: string
  /** The horizon to read the log from in the batch's call; null: the batch does not read it. */
  since: string | null
  /** The batch drops this engine's listener row: it writes, and hears with its batches. */
  quiet: boolean
}

export class PostgresChangeLog {
  readonly #listeners = new Set<(commit: RemoteCommit) => void>()
  #client: Client | undefined
  #stopped = false
  #connecting: Promise<void> | undefined
  /** A query of `query()` runs on the listening connection. */
  #busy = false
  /** The snapshot of the last read: the next reads what it did not see. */
  #horizon: string | undefined
  /** The read in flight (this process's, or a batch's); reads are one at a time. */
  #reading: Promise<void> | undefined
  /** The horizon, parsed. */
  #seen: Snapshot | undefined
  /** Xids of commits handed on from their rings that the horizon does not see yet: reads skip them. */
  readonly #rung = new Set<string>()
  /** A read is wanted after the one in flight. */
  #readAgain = false
  #lastRead = 0
  #ringRead: NodeJS.Timeout | undefined
  /** This engine's row is in `listeners` (as far as it knows). */
  #registered = false
  #idle: NodeJS.Timeout | undefined
  #lastPrune = Date.now()

  constructor(
    private readonly connect: () => Promise<Client>,
    /** The schema, quoted. */
    private readonly s: string,
    /** The channel, unquoted: `stowage_<schema>`. */
    readonly channel: string,
    /** This engine's mark: its own commits are not handed to its listeners. */
    readonly me: string,
    /** The advisory lock batches take shared to look for listeners, and a process registering exclusively. */
    readonly bell: bigint,
    /** Runs a statement on the pool (reads while the listening connection is busy or lost, pruning). */
    private readonly pooled: (config: QueryConfig) => Promise<QueryResult>,
  ) {}

  /** The records list a batch logs: JSON of [collection, id] pairs. */
  records(written: Array<[string, string]>): string {
    const text = JSON.stringify(written)
    return text.length <= MAX_RECORDS_TEXT ? text : '"all"'
  }

  async start(): Promise<void> {
    await this.#listen()
  }

  async stop(): Promise<void> {
    this.#stopped = true
    clearTimeout(this.#idle)
    clearTimeout(this.#ringRead)
    await this.#reading?.catch(() => {})
    await this.#client?.end().catch(() => {})
    this.#client = undefined
  }

  /**
   * Runs `config` on the listening connection if it is connected and runs nothing else; else answers
   * undefined, and the caller uses another connection.
   */
  query(config: QueryConfig): Promise<QueryResult> | undefined {
    const client = this.#client
    if (client === undefined || this.#busy) return undefined
    this.#busy = true
    return client.query(config).finally(() => (this.#busy = false))
  }

  subscribe(listener: (commit: RemoteCommit) => void): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  /**
   * A batch's part: `args` to add to its call (reading the log in it if no other read is in
   * flight), then `done` with its answer's row (undefined if it failed) once it has one.
   */
  forBatch(): { args: LogArgs; done: (row: LogRead | undefined) => void } {
    let release: (() => void) | undefined
    const now = performance.now()
    if (this.#reading === undefined && this.#horizon !== undefined && !this.#stopped && now - this.#lastRead >= READ_EVERY_MS) {
      this.#lastRead = now
      this.#reading = new Promise<void>((resolve) => (release = resolve))
    }
    const quiet = this.#registered
    const args: LogArgs = { me: this.me, bell: this.bell, channel: this.channel, since: release ? this.#horizon! : null, quiet }
    return {
      args,
      done: (row) => {
        if (quiet) this.#registered = false // dropped by the batch; if it failed, registering again is harmless
        if (release) {
          if (row?.snap) this.#deliver(row)
          this.#reading = undefined
          release()
          this.#afterRead()
        }
        this.#armIdle()
        this.#prune()
      },
    }
  }

  /** Resolves once every commit of another process that resolved before the call has been handed to the listeners. */
  async catchUp(): Promise<void> {
    if (this.#stopped) return
    await this.#connecting
    await this.#read(false)
  }

  /** Reads the log after the read in flight (registering first if `register`): a read begun now sees every commit made before. */
  async #read(register: boolean): Promise<void> {
    while (this.#reading) await this.#reading
    if (this.#stopped) return
    let release!: () => void
    this.#reading = new Promise<void>((resolve) => (release = resolve))
    this.#lastRead = performance.now()
    try {
      let row: unknown
      if (register) {
        // On the listening connection: the listener row names it, and goes with it.
        const client = this.#client
        if (client === undefined) throw new Error('not connected')
        row = (await client.query({ text: `SELECT * FROM ${this.s}.${LISTEN_FUNCTION}($1, $2, $3)`, values: [this.me, String(this.bell), this.#horizon ?? null] })).rows[0]
        this.#registered = true
      } else {
        const config = { name: `${HEARD_FUNCTION}-${this.s}`, text: `SELECT * FROM ${this.s}.${HEARD_FUNCTION}($1, $2)`, values: [this.#horizon, this.me] }
        row = (await (this.query(config) ?? this.pooled(config))).rows[0]
      }
      this.#deliver(row as LogRead)
    } finally {
      this.#reading = undefined
      release()
    }
    this.#afterRead()
  }

  #afterRead(): void {
    if (!this.#readAgain || this.#stopped) return
    this.#readAgain = false
    this.#readNow()
  }

  #readNow(): void {
    if (this.#reading !== undefined) this.#readAgain = true
    else void this.#read(false).catch(() => {}) // a lost connection is read again once it is back
  }

  /** A ring: `<xid> <engine>[ <records>]` (no records when they are too long for a notice: then the log is read). */
  #ring(payload: string | undefined): void {
    const [xid, origin, records] = splitTwice(payload ?? '')
    if (origin === this.me) return // its own batch rang for others
    const seen = this.#seen
    if (seen === undefined || records === undefined) return this.#readNow()
    if (sees(seen, xid) || this.#rung.has(xid)) return
    this.#rung.add(xid)
    this.#tell({ records: parseRecords(records) })
    if (this.#rung.size >= RING_READ) return this.#readNow()
    this.#ringRead ??= setTimeout(() => {
      this.#ringRead = undefined
      if (this.#rung.size > 0) this.#readNow()
    }, RING_READ_MS)
    this.#ringRead.unref?.()
  }

  #deliver(row: LogRead): void {
    if (row.snap === null) return
    const first = this.#horizon === undefined
    this.#horizon = row.snap
    this.#seen = parseSnapshot(row.snap)
    const rung = [...this.#rung]
    for (const xid of rung) if (sees(this.#seen, xid)) this.#rung.delete(xid)
    if (first) return
    if (row.lost === true) return this.#tell({ records: 'all' })
    for (const entry of row.heard ?? []) {
      const [xid, records] = splitOnce(entry)
      if (!rung.includes(xid)) this.#tell({ records: parseRecords(records) })
    }
  }

  /** After IDLE_MS without a batch, registers to be rung. */
  #armIdle(): void {
    if (this.#idle) return void this.#idle.refresh()
    this.#idle = setTimeout(() => {
      if (this.#registered || this.#stopped || this.#client === undefined) return
      void this.#read(true).catch(() => {})
    }, IDLE_MS)
    this.#idle.unref?.()
  }

  #prune(): void {
    const now = Date.now()
    if (now - this.#lastPrune < PRUNE_EVERY_MS) return
    this.#lastPrune = now
    this.pooled({ text: `SELECT ${this.s}.${PRUNE_FUNCTION}('${PRUNE_AGE}')` }).catch(() => {})
  }

  async #listen(): Promise<void> {
    const client = await this.connect()
    client.on('notification', (message) => this.#ring(message.payload))
    client.on('error', () => this.#lost(client))
    client.on('end', () => this.#lost(client))
    await client.query(`LISTEN "${this.channel}"`)
    this.#client = client
    this.#registered = false
    await this.#read(true)
  }

  #lost(client: Client): void {
    if (this.#stopped || this.#client !== client) return
    this.#client = undefined
    this.#registered = false
    client.end().catch(() => {})
    this.#connecting = this.#reconnect()
  }

  async #reconnect(): Promise<void> {
    for (let attempt = 0; !this.#stopped; attempt++) {
      try {
        // Registers again and reads what was committed meanwhile (`all` if it was pruned).
        await this.#listen()
        if (this.#stopped) return void (await this.#client?.end().catch(() => {}))
        return
      } catch {
        this.#client?.end().catch(() => {})
        this.#client = undefined
        await new Promise((resolve) => setTimeout(resolve, RETRY_MS[Math.min(attempt, RETRY_MS.length - 1)]).unref?.())
      }
    }
  }

  #tell(commit: RemoteCommit): void {
    for (const listener of this.#listeners) {
      try {
        listener(commit)
      } catch {}
    }
  }
}

/** A snapshot as pg_current_snapshot() gives it: `xmin:xmax:xip,...`. */
interface Snapshot {
  xmin: bigint
  xmax: bigint
  running: Set<string>
}

function parseSnapshot(text: string): Snapshot {
  const [xmin, xmax, xip] = text.split(':')
  return { xmin: BigInt(xmin!), xmax: BigInt(xmax!), running: new Set(xip ? xip.split(',') : []) }
}

/** Whether a transaction (committed) is seen by the snapshot, as pg_visible_in_snapshot tells. */
function sees(snapshot: Snapshot, xid: string): boolean {
  const x = BigInt(xid)
  return x < snapshot.xmin || (x < snapshot.xmax && !snapshot.running.has(xid))
}

function parseRecords(text: string | undefined): Array<[string, string]> | 'all' {
  try {
    const records = JSON.parse(text ?? '')
    return Array.isArray(records) ? records : 'all'
  } catch {
    return 'all'
  }
}

function splitOnce(text: string): [string, string | undefined] {
  const at = text.indexOf(' ')
  return at === -1 ? [text, undefined] : [text.slice(0, at), text.slice(at + 1)]
}

function splitTwice(text: string): [string, string | undefined, string | undefined] {
  const [first, rest] = splitOnce(text)
  if (rest === undefined) return [first, undefined, undefined]
  return [first, ...splitOnce(rest)]
}
