/**
 * The notes service as two processes behind one port (examples/notes-service/cluster.ts) on one
 * PostgreSQL store, over real HTTP.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { request } from 'node:http'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { dropSchema, freshSchema, postgresUrl } from '../helpers/postgres.js'

const CLUSTER = join(import.meta.dirname, '..', '..', 'examples', 'notes-service', 'cluster.ts')

describe('the notes service as a cluster of two processes on PostgreSQL', () => {
  const schema = freshSchema()
  let primary: ChildProcess
  let base = ''
  let output = ''

  beforeAll(async () => {
    primary = spawn(process.execPath, ['--import', 'tsx', CLUSTER], {
      env: { ...process.env, NOTES_POSTGRES_URL: postgresUrl(), NOTES_SCHEMA: schema, NOTES_WORKERS: '2', PORT: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    primary.stderr!.on('data', (d) => (output += d))
    base = await new Promise<string>((resolve, reject) => {
      primary.stdout!.on('data', (d) => {
        output += d
        const found = /Notes service on (http:\/\/127\.0\.0\.1:\d+)/.exec(output)
        if (found) resolve(found[1]!)
      })
      primary.on('exit', (code) => reject(new Error(`the cluster exited with ${code}: ${output}`)))
    })
  }, 60_000)

  afterAll(async () => {
    const exited = new Promise((resolve) => primary.on('close', resolve))
    primary.kill('SIGTERM')
    await exited
    await dropSchema(schema)
  })

  /**
   * A POST on a connection of its own. The cluster hands each new connection to a free process, so
   * requests sent at once reach both; fetch would reuse its kept-alive connections, which may all
   * belong to one process.
   */
  function post(path: string, body: unknown): Promise<{ status: number; body: any; by: string | undefined }> {
    return new Promise((resolve, reject) => {
      const req = request(base + path, { method: 'POST', agent: false, headers: { 'content-type': 'application/json' } }, (res) => {
        let text = ''
        res.setEncoding('utf8')
        res.on('data', (d: string) => (text += d))
        res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(text), by: res.headers['x-served-by'] as string | undefined }))
        res.on('error', reject)
      })
      req.on('error', reject)
      req.end(JSON.stringify(body))
    })
  }

  it('spreads requests over both processes, which share every account', async () => {
    const created = await Promise.all(Array.from({ length: 12 }, (_, i) => post('/accounts', { email: `user${i}@example.com`, name: `User ${i}` })))
    expect(created.map((r) => r.status)).toEqual(created.map(() => 201))
    expect(new Set(created.map((r) => r.by)).size).toBe(2)
    // Each account is found by email and by oid, whichever process answers.
    for (const { body } of created) {
      for (let i = 0; i < 2; i++) {
        const res = await fetch(`${base}/accounts/${body.oid}`)
        expect(res.status).toBe(200)
        expect(((await res.json()) as any).email).toBe(body.email)
      }
      expect((await fetch(`${base}/accounts?email=${encodeURIComponent(body.email)}`)).status).toBe(200)
    }
  })

  it('two processes racing to create one email: exactly one account, the others 409', async () => {
    const racing = await Promise.all(Array.from({ length: 8 }, () => post('/accounts', { email: 'race@example.com', name: 'Racer' })))
    expect(racing.filter((r) => r.status === 201)).toHaveLength(1)
    expect(racing.filter((r) => r.status === 409)).toHaveLength(7)
    expect(new Set(racing.map((r) => r.by)).size).toBe(2)
    const found = await fetch(`${base}/accounts?email=race@example.com`)
    expect(((await found.json()) as any).oid).toBe(racing.find((r) => r.status === 201)!.body.oid)
  })
})
