/**
 * The Electron example's IPC layer, on LevelDB. The Electron binary is not available here, so
 * child processes (structured-clone IPC, as Electron's) and worker threads (MessagePorts) stand
 * in for renderers; they run the compiled example, the store service runs in this process.
 */
import { EventEmitter } from 'node:events'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { MessageChannel, type MessagePort } from 'node:worker_threads'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Database } from '../../src/index.js'
import { channelSender, portChannel, serveChannel, type RequestHandler } from '../../examples/electron/channel.js'
import { NotesClient } from '../../examples/electron/client.js'
import { closeOnQuit, serveIpcMain, type StoreBridge } from '../../examples/electron/electron-ipc.js'
import { models, Note } from '../../examples/electron/models.js'
import { STORE_CHANNEL, StoreError, type Response } from '../../examples/electron/protocol.js'
import type { RendererReport } from '../../examples/electron/renderer-task.js'
import { childRenderer, workerRenderer } from '../../examples/electron/stand-ins.js'
import { NotesService } from '../../examples/electron/store-service.js'
import { buildForChildren } from '../helpers/child-build.js'

const PER_RENDERER = 20
let build: { dist: string; cleanup(): Promise<void> }
let exampleDist: string
let root: string

beforeAll(async () => {
  build = await buildForChildren('electron-ipc')
  exampleDist = join(build.dist, 'examples', 'electron')
  root = await mkdtemp(join(tmpdir(), 'stowage-electron-'))
})
afterAll(async () => {
  await rm(root, { recursive: true, force: true })
  await build?.cleanup()
})

/** A store service on a new LevelDB store, and a client of it over a real MessagePort. */
async function openService(name: string) {
  const path = join(root, name)
  const db = await Database.open({ path, models })
  const logged: unknown[] = []
  const service = new NotesService(db, { log: (_m, err) => logged.push(err) })
  return { path, db, service, logged }
}

function portClient(handler: RequestHandler) {
  const { port1, port2 } = new MessageChannel()
  const stop = serveChannel(handler, portChannel(port1))
  const sender = channelSender(portChannel(port2))
  return {
    client: new NotesClient(sender.send),
    send: sender.send,
    /** The renderer's raw end, for messages the client would never send. */
    port: port2,
    close() {
      sender.close()
      stop()
      port1.close()
    },
  }
}

/** The next message on a port, or undefined if none comes within `ms`. */
function nextMessage(port: MessagePort, ms = 200): Promise<unknown> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      port.off('message', onMessage)
      resolve(undefined)
    }, ms)
    const onMessage = (message: unknown) => {
      clearTimeout(timer)
      port.off('message', onMessage)
      resolve(message)
    }
    port.on('message', onMessage)
  })
}

describe('several renderers at once: two child processes, a worker thread and the main process', () => {
  let store: Awaited<ReturnType<typeof openService>>
  let reports: RendererReport[]
  let own: Awaited<ReturnType<NotesClient['create']>>[]

  beforeAll(async () => {
    store = await openService('concurrent')
    const mine = portClient(store.service)
    const renderers = [
      childRenderer(store.service, 'alpha', PER_RENDERER, exampleDist),
      childRenderer(store.service, 'beta', PER_RENDERER, exampleDist),
      workerRenderer(store.service, 'gamma', PER_RENDERER, exampleDist),
    ]
    // The main process's own window writes at the same time.
    const writes = Array.from({ length: PER_RENDERER }, (_, i) => mine.client.create({ title: `main ${i}`, tags: ['main'] }))
    ;[reports, own] = await Promise.all([Promise.all(renderers.map((r) => r.report)), Promise.all(writes)])
    mine.close()
  })
  afterAll(async () => {
    if (!store.db.closed) await store.service.close()
  })

  it('lands every create, each with its own oid, and each renderer finds exactly its own notes by index', () => {
    expect(reports.map((r) => r.name)).toEqual(['alpha', 'beta', 'gamma'])
    for (const report of reports) {
      expect(report.created).toHaveLength(PER_RENDERER)
      expect(report.foundByTag).toBe(PER_RENDERER)
      expect(report.foundByText).toBe(PER_RENDERER)
      expect(report.updatedTitle).toBe(`${report.name} note 0 (edited)`)
      expect(report.removedIsGone).toBe(true)
    }
    const oids = [...reports.flatMap((r) => r.created.map((n) => n.oid)), ...own.map((n) => n.oid)]
    expect(new Set(oids).size).toBe(4 * PER_RENDERER)
  })

  it('round-trips typed values: Dates stay Dates with their milliseconds, oids are oids', () => {
    for (const report of reports) {
      expect(report.typed).toBe(true) // checked inside the renderer
      const first = report.created[0]!
      expect(first.created).toBeInstanceOf(Date)
      expect(first.created.toISOString()).toBe('2024-01-01T12:00:00.007Z')
      expect(first.tags).toEqual([report.name, 'shared'])
    }
    expect(own.every((n) => n.created instanceof Date && n.updated instanceof Date)).toBe(true)
  })

  it('delivers errors thrown by Stowage in the service as StoreErrors with their code', () => {
    for (const report of reports) {
      expect(report.refusals.invalid).toEqual({ code: 'VALIDATION', storeError: true, property: 'title' })
      expect(report.refusals.removed).toEqual({ code: 'NOT_FOUND', storeError: true })
    }
  })

  it('answers malformed and unknown requests from a renderer with a typed error and keeps serving it', () => {
    for (const report of reports) {
      expect(report.refusals).toMatchObject({
        unknownOperation: { code: 'UNKNOWN_OPERATION' },
        wrongType: { code: 'ARGUMENT' },
        unknownField: { code: 'ARGUMENT' },
        badOid: { code: 'ARGUMENT' },
        notARequest: { code: 'BAD_REQUEST' },
        noArgs: { code: 'ARGUMENT' },
      })
      expect(report.stillServing).toBe(true)
    }
    expect(store.logged).toEqual([]) // nothing was unexpected
  })

  it('has everything on disk after closing: counts, index entries, edits and removals', async () => {
    await store.service.close()
    expect(store.db.closed).toBe(true)
    const db = await Database.open({ path: store.path, models })
    try {
      // Each renderer: PER_RENDERER created, one removed, one created after the refusals.
      expect(await Note.count()).toBe(4 * PER_RENDERER)
      for (const report of reports) {
        expect(await Note.index('tags').count(report.name)).toBe(PER_RENDERER)
        expect((await Note.get(report.created[0]!.oid))?.title).toBe(`${report.name} note 0 (edited)`)
        expect(await Note.get(report.created.at(-1)!.oid)).toBeUndefined()
      }
      expect(await Note.index('tags').count('main')).toBe(PER_RENDERER)
      expect(await Note.index('tags').count('shared')).toBe(3 * PER_RENDERER)
    } finally {
      await db.close()
    }
  })
})

describe('bad messages on the channel', () => {
  it('answers what it cannot read with a typed error, ignores what is not for it, and loses nothing', async () => {
    const store = await openService('bad-messages')
    const { client, send, port, close } = portClient(store.service)
    try {
      const kept = await client.create({ title: 'Kept', tags: ['safe'], created: new Date('2024-05-01T00:00:00Z') })
      const raw = async (request: unknown) => (await send(request)) as Response

      // An envelope without a usable number cannot be matched to a request: answered under null.
      port.postMessage({ stowage: 'seven', request: { op: 'notes.count', args: {} } })
      expect(await nextMessage(port)).toMatchObject({ stowage: null, response: { ok: false, error: { code: 'BAD_REQUEST' } } })
      // Other traffic on a shared channel is not the store's business.
      port.postMessage({ hello: 'world' })
      port.postMessage('just a string')
      expect(await nextMessage(port, 100)).toBeUndefined()

      const refusals = await Promise.all([
        raw(null),
        raw([]),
        raw({ op: 42, args: {} }),
        raw({ op: '__proto__', args: {} }),
        raw({ op: 'constructor', args: {} }),
        raw({ op: 'notes.create', args: new Date() }),
        raw({ op: 'notes.create', args: JSON.parse('{"title": "x", "__proto__": {"polluted": true}}') }),
        raw({ op: 'notes.create', args: { title: 'x', created: '2024-01-01' } }),
        raw({ op: 'notes.create', args: { title: 'x', created: new Date(Number.NaN) } }),
        raw({ op: 'notes.update', args: { oid: kept.oid, changes: { tags: ['ok', 3] } } }),
        raw({ op: 'notes.update', args: { oid: kept.oid, changes: null } }),
        raw({ op: 'notes.list', args: { limit: -1 } }),
        raw({ op: 'notes.list', args: { limit: 2.5 } }),
        raw({ op: 'notes.search', args: {} }),
        raw({ op: 'notes.search', args: { text: 'a b' } }),
        raw({ op: 'notes.remove', args: { oid: 'NOT AN OID' } }),
      ])
      expect(refusals.map((r) => (r.ok ? 'ok' : r.error.code))).toEqual([
        'BAD_REQUEST',
        'BAD_REQUEST',
        'BAD_REQUEST',
        'UNKNOWN_OPERATION',
        'UNKNOWN_OPERATION',
        'ARGUMENT',
        'ARGUMENT',
        'ARGUMENT',
        'ARGUMENT',
        'ARGUMENT',
        'ARGUMENT',
        'ARGUMENT',
        'ARGUMENT',
        'ARGUMENT',
        'ARGUMENT',
        'ARGUMENT',
      ])
      for (const r of refusals) if (!r.ok) expect(r.error.message.length).toBeGreaterThan(20) // says what was wrong
      expect(({} as Record<string, unknown>).polluted).toBeUndefined()

      // A validation error carries its property errors across, as plain data.
      const invalid = await raw({ op: 'notes.create', args: { title: 'two\nlines', tags: ['fine'] } })
      expect(invalid).toEqual({ ok: false, error: { code: 'VALIDATION', message: expect.stringContaining('title'), errors: [{ property: 'title', value: 'two\nlines', reason: expect.any(String) }] } })

      // Still serving, and nothing was written or lost.
      expect(await client.count()).toBe(1)
      expect(await client.get(kept.oid)).toEqual(kept)
      expect((await client.search({ tag: 'safe' })).map((n) => n.oid)).toEqual([kept.oid])
      expect(store.logged).toEqual([])
    } finally {
      close()
      await store.service.close()
    }
  })
})

describe('searches', () => {
  it('find notes with the tag and every word of the text, newest first by their date, up to the limit', async () => {
    const store = await openService('searches')
    const { client, close } = portClient(store.service)
    try {
      const day = (d: number) => new Date(Date.UTC(2024, 0, d))
      // Created out of date order: newest first means by date, not by creation.
      const mid = await client.create({ title: 'Garden plan', body: 'Tomatoes and beans', tags: ['Home'], created: day(10) })
      const late = await client.create({ title: 'Beans recipe', body: 'Slow-cooked beans', tags: ['food', 'home'], created: day(20) })
      const early = await client.create({ title: 'Shopping', body: 'Beans, rice, tomatoes', tags: ['home'], created: day(1) })
      await client.create({ title: 'Work notes', body: 'Nothing about food', tags: ['work'], created: day(15) })
      const oids = async (query: { tag?: string; text?: string; limit?: number }) => (await client.search(query)).map((n) => n.oid)
      expect(await oids({ tag: 'HOME' })).toEqual([late.oid, mid.oid, early.oid])
      expect(await oids({ text: 'beans' })).toEqual([late.oid, mid.oid, early.oid])
      expect(await oids({ text: 'tomatoes beans' })).toEqual([mid.oid, early.oid])
      expect(await oids({ tag: 'food', text: 'beans' })).toEqual([late.oid])
      expect(await oids({ tag: 'work', text: 'beans' })).toEqual([])
      expect(await oids({ tag: 'home', limit: 2 })).toEqual([late.oid, mid.oid])
      expect(store.logged).toEqual([])
    } finally {
      close()
      await store.service.close()
    }
  })
})

describe('the Electron adapters', () => {
  it('serve the store on ipcMain.handle to a preload bridge over ipcRenderer.invoke, values cloned as Electron does', async () => {
    // ipcMain/ipcRenderer stand-ins with Electron's semantics: arguments and results are
    // structured-cloned, and invoking a channel without a handler rejects.
    const handlers = new Map<string, (event: unknown, ...args: unknown[]) => unknown>()
    const ipcMain = {
      handle: (channel: string, listener: (event: unknown, ...args: unknown[]) => unknown) => void handlers.set(channel, listener),
      removeHandler: (channel: string) => void handlers.delete(channel),
    }
    const ipcRenderer = {
      async invoke(channel: string, ...args: unknown[]): Promise<unknown> {
        const handler = handlers.get(channel)
        if (handler === undefined) throw new Error(`Error invoking remote method '${channel}': Error: No handler registered for '${channel}'`)
        return structuredClone(await handler({ sender: 'window 1' }, ...structuredClone(args)))
      },
    }
    // preload.ts's bridge, and renderer.ts's client over it.
    const bridge: StoreBridge = { invoke: (request) => ipcRenderer.invoke(STORE_CHANNEL, request) }
    const notes = new NotesClient((request) => bridge.invoke(request))

    const store = await openService('electron-adapters')
    const stop = serveIpcMain(store.service, ipcMain)
    try {
      const created = new Date('2023-12-31T23:59:59.999Z')
      const note = await notes.create({ title: 'Over IPC', body: 'Through the bridge', tags: ['ipc'], created })
      expect(note.created).toEqual(created)
      expect((await notes.search({ text: 'bridge' })).map((n) => n.oid)).toEqual([note.oid])
      const error = await notes.update('01hzzzzzzzzzzzzzzzzzzzzzzz', { title: 'x' }).catch((err: unknown) => err)
      expect(error).toBeInstanceOf(StoreError)
      expect(error).toMatchObject({ code: 'NOT_FOUND', message: expect.stringContaining('01hzzzzzzzzzzzzzzzzzzzzzzz') })
      stop()
      await expect(notes.count()).rejects.toMatchObject({ name: 'StoreError', code: 'TRANSPORT' })
    } finally {
      await store.service.close()
    }
  })
})

describe('shutdown', () => {
  it('on quit, finishes the requests already taken, refuses later ones with CLOSED, closes the database, and exits', async () => {
    const store = await openService('shutdown')
    let taken = 0
    let allTaken!: () => void
    const arrived = new Promise<void>((resolve) => (allTaken = resolve))
    const N = 40
    const counting: RequestHandler = {
      handle(request) {
        const answer = store.service.handle(request)
        if (++taken === 1.5 * N) allTaken()
        return answer
      },
    }
    const { client, close } = portClient(counting)

    // Electron's app: quit() emits 'will-quit' and exits unless a listener prevented it.
    class App extends EventEmitter {
      exits = 0
      quit(): void {
        let prevented = false
        this.emit('will-quit', { preventDefault: () => void (prevented = true) })
        if (!prevented) {
          this.exits++
          this.emit('exited')
        }
      }
    }
    const app = new App()
    closeOnQuit(app, () => store.service.close(), (_m, err) => store.logged.push(err))

    // Requests that read before they write (updates) or only read (lists, searches) are in flight
    // before anything reaches the database's write queue: the service must let them finish too.
    const earlier = await Promise.all(Array.from({ length: N / 2 }, (_, i) => client.create({ title: `earlier ${i}` })))
    taken = 0
    let answered = 0
    const writes = [
      ...earlier.map((note, i) => client.update(note.oid, { title: `updated ${i}`, tags: ['updated'] })),
      ...Array.from({ length: N / 2 }, (_, i) => client.create({ title: `pending ${i}`, created: new Date(Date.UTC(2024, 1, 1, 0, 0, i)) })),
      ...Array.from({ length: N / 4 }, () => client.list({ limit: 100 })),
      ...Array.from({ length: N / 4 }, () => client.search({ text: 'earlier' })),
    ].map((write) => write.finally(() => answered++))
    await arrived
    const exited = new Promise((resolve) => app.once('exited', resolve))
    app.quit()
    expect(app.exits).toBe(0) // held back while the store closes
    expect(answered).toBeLessThan(1.5 * N) // so the close really had requests in flight
    const late = await client.create({ title: 'too late' }).catch((err: unknown) => err)
    expect(late).toMatchObject({ name: 'StoreError', code: 'CLOSED' })

    const results = await Promise.allSettled(writes)
    expect(results.filter((r) => r.status === 'rejected')).toEqual([])
    await exited
    expect(app.exits).toBe(1)
    expect(store.db.closed).toBe(true)
    close()

    const db = await Database.open({ path: store.path, models })
    try {
      expect(await Note.count()).toBe(N)
      for (const [i, note] of earlier.entries()) expect((await Note.get(note.oid))?.title).toBe(`updated ${i}`)
      expect(await Note.index('tags').count('updated')).toBe(N / 2)
      for (const [i, result] of results.slice(N / 2, N).entries()) {
        const note = await Note.get((result as PromiseFulfilledResult<{ oid: string }>).value.oid)
        expect(note?.title).toBe(`pending ${i}`)
        expect(note?.created.getTime()).toBe(Date.UTC(2024, 1, 1, 0, 0, i))
      }
    } finally {
      await db.close()
    }
    expect(store.logged).toEqual([])
  })
})

describe('what renderers load', () => {
  it('the renderer-side modules import no Stowage code (no LevelDB addon in a renderer bundle)', async () => {
    const loaded = new Set<string>()
    const visit = async (file: string) => {
      if (loaded.has(file)) return
      loaded.add(file)
      const code = await readFile(file, 'utf8')
      // tsc writes each import and re-export on one line.
      for (const [, spec] of code.matchAll(/^(?:import|export)\b(?:[^'"\n]*\bfrom)?\s*['"]([^'"\n]+)['"];?$/gm)) {
        if (spec!.startsWith('.')) await visit(resolve(dirname(file), spec!))
        else loaded.add(spec!)
      }
    }
    for (const entry of ['renderer.js', 'renderer-process.js', 'renderer-worker.js']) await visit(join(exampleDist, entry))
    const names = [...loaded].map((f) => (f.startsWith(build.dist) ? f.slice(build.dist.length + 1) : f)).sort()
    expect(names).toContain('examples/electron/client.js')
    expect(names.filter((f) => f.startsWith('src/') || /models|store-service/.test(f) || !/^(examples\/electron\/|node:)/.test(f))).toEqual([])
  })
})
