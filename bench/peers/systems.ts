/** The systems compared, each loaded only inside its own child process. */
import type { Peer } from './workload.js'

export interface System {
  label: string
  load: () => Promise<Peer>
  /** Past this many articles the system is not run, for the reason given. */
  maxN?: number
  why?: string
}

export const SYSTEMS: Record<string, System> = {
  stowage: { label: 'Stowage (LevelEngine)', load: async () => (await import('./stowage.js')).level },
  'stowage-lmdb': {
    label: 'Stowage (LmdbEngine)',
    // LmdbEngine imports lmdb when it first opens (12-13 ms); loaded here, before the reopen timer
    // starts, as the hand-rolled lmdb peer loads it, so that reopen times compare like for like.
    load: async () => {
      await import('lmdb')
      return (await import('./stowage.js')).lmdb
    },
  },
  'classic-level': { label: 'classic-level + msgpackr, hand-rolled index entries', load: () => import('./classic-level.js') },
  lmdb: { label: 'lmdb, hand-rolled dupSort index', load: () => import('./lmdb.js') },
  sqlite: { label: 'better-sqlite3, SQL indexes', load: () => import('./sqlite.js') },
  kysely: { label: 'Kysely over better-sqlite3', load: () => import('./kysely.js') },
  nedb: { label: 'NeDB (@seald-io/nedb), ensureIndex', load: () => import('./nedb.js') },
  lokijs: { label: 'LokiJS, binary indices', load: () => import('./lokijs.js') },
  lowdb: { label: 'lowdb, array filter (no indexes)', load: () => import('./lowdb.js') },
}
