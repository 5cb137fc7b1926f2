import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { inject } from 'vitest'
import { PostgresEngine, type PostgresEngineOptions } from '../../src/engine/postgres/postgres-engine.js'

/** The URL of the tests' PostgreSQL server (postgres-global.ts starts it). */
export function postgresUrl(): string {
  return inject('postgresUrl')
}

/** A schema name no other test uses. */
export function freshSchema(): string {
  return `t_${process.pid}_${randomBytes(5).toString('hex')}`
}

/** A PostgresEngine on the tests' server, with a small pool: many test processes share the server. */
export function postgresEngine(schema: string, options: Partial<PostgresEngineOptions> = {}): PostgresEngine {
  return new PostgresEngine({ connectionString: postgresUrl(), schema, poolSize: 4, ...options })
}

/** Drops a test's schema and everything in it. */
export async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: postgresUrl() })
  await client.connect()
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
  } finally {
    await client.end()
  }
}

/** Runs SQL on the tests' server (several statements allowed without params); the rows of the last. */
export async function sql(text: string, params?: unknown[]): Promise<Record<string, any>[]> {
  const client = new pg.Client({ connectionString: postgresUrl() })
  await client.connect()
  try {
    const result = (await client.query(text, params)) as unknown
    return Array.isArray(result) ? result.at(-1)!.rows : (result as pg.QueryResult).rows
  } finally {
    await client.end()
  }
}
