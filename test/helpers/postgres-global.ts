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
let shared: Promise<{ url: string; stop(): Promise<void> }> | undefined
let users = 0

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const given = process.env.STOWAGE_TEST_POSTGRES_URL
  shared ??= given ? Promise.resolve({ url: given, stop: async () => {} }) : startPostgres()
  users++
  const server = await shared
  project.provide('postgresUrl', server.url)
  return async () => {
    if (--users === 0) {
      shared = undefined
      await server.stop()
    }
  }
}
