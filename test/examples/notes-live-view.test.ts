/**
 * The notes service's live view in a real browser: Debian's Chromium, headless, driven by
 * playwright-core (`.ci/run` installs Chromium when it is missing). The test adds, changes and
 * removes notes through the API and waits for the page to show each change without a reload.
 */
import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium, type Browser, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Database, LevelEngine } from '../../src/index.js'
import { models } from '../../examples/notes-service/models.js'
import { createNotesServer } from '../../examples/notes-service/server.js'
import { feedOf } from '../../src/changes/change-feed.js'

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

describe('notes service live view in Chromium', () => {
  let dir: string
  let db: Database
  let server: Server
  let base: string
  let browser: Browser

  beforeAll(async () => {
    // Not skipped when Chromium is missing: a skipped test is not a pass (.ci/run installs it).
    expect(existsSync(CHROMIUM), `Chromium not found at ${CHROMIUM}: install Debian's chromium (apt-get install chromium) or set CHROMIUM_PATH`).toBe(true)
    dir = await mkdtemp(join(tmpdir(), 'stowage-live-'))
    db = await Database.open({ engine: new LevelEngine(dir), models })
    server = createNotesServer(db)
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    })
  }, 60_000)

  afterAll(async () => {
    await browser?.close()
    server?.closeAllConnections()
    await new Promise((resolve) => server?.close(resolve))
    await db?.close()
    await rm(dir, { recursive: true, force: true })
  })

  const api = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(base + path, { method, headers: { 'content-type': 'application/json', ...headers }, body: body === undefined ? undefined : JSON.stringify(body) })
    return { status: res.status, body: (res.status === 204 ? undefined : await res.json()) as any }
  }
  const shown = (page: Page) => page.locator('#notes li').evaluateAll((items) => items.map((li) => li.firstChild?.textContent))

  it('shows notes added, changed and removed through the API without a reload', async () => {
    const ann = (await api('POST', '/accounts', { email: 'ann@example.com', name: 'Ann' })).body
    const as = { 'x-account': ann.oid }
    await api('POST', '/notes', { title: 'First note', tags: ['work'] }, as)
    const page = await browser.newPage()
    let loads = 0
    page.on('load', () => loads++)
    await page.goto(`${base}/live?tag=work&sort=title`)
    await expect.poll(() => shown(page), { timeout: 10_000 }).toEqual(['First note'])

    const added = (await api('POST', '/notes', { title: 'Added while watching', tags: ['work'] }, as)).body
    await expect.poll(() => shown(page), { timeout: 10_000 }).toEqual(['Added while watching', 'First note'])
    await api('POST', '/notes', { title: 'Not shown: another tag', tags: ['home'] }, as)
    expect((await api('PATCH', `/notes/${added.oid}`, { title: 'Renamed while watching' }, as)).status).toBe(200)
    await expect.poll(() => shown(page), { timeout: 10_000 }).toEqual(['First note', 'Renamed while watching'])
    expect((await api('DELETE', `/notes/${added.oid}`, undefined, as)).status).toBe(204)
    await expect.poll(() => shown(page), { timeout: 10_000 }).toEqual(['First note'])
    expect(await page.locator('#status').textContent()).toBe('1 note')
    expect(loads).toBe(1) // every change came over the event stream

    // Closing the page ends its live query.
    await page.close()
    await expect.poll(() => feedOf(db).listeners, { timeout: 10_000 }).toBe(0)
  }, 60_000)
})
