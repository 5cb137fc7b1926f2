import type { TestProject } from 'vitest/node'
import { startPostgres } from './postgres-server.js'

declare module 'vitest' {
  export interface ProvidedContext {
    /** The URL of the PostgreSQL server the tests share (see postgres-server.ts). */
    postgresUrl: string
  }
}

/**
 * One PostgreSQL server for the whole run, shared by every test project and worker: each store a
 * schema of its own on it. STOWAGE_TEST_POSTGRES_URL points the tests at a running server instead.
 */
interface Shared {
  server: Promise<{ url: string; stop(): Promise<void> }>
  users: number
}
// On globalThis: each project loads this file anew, and they must share one server.
const KEY = Symbol.for('stowage.test.postgres')
const holder = globalThis as { [KEY]?: Shared }

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const given = process.env.STOWAGE_TEST_POSTGRES_URL
  const shared = (holder[KEY] ??= { server: given ? Promise.resolve({ url: given, stop: async () => {} }) : startPostgres(), users: 0 })
  shared.users++
  const server = await shared.server
  project.provide('postgresUrl', server.url)
  return async () => {
    if (--shared.users === 0) {
      delete holder[KEY]
      await server.stop()
    }
  }
}
