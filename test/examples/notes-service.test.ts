/**
 * The notes service example, over real HTTP on 127.0.0.1 and a real engine on disk.
 */
import { createHash, randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { get, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { connect, type AddressInfo } from 'node:net'
import { once } from 'node:events'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Database, DirectoryEngine, LevelEngine, Model, Property, Relation, StoredObject, Types, type Engine, type One } from '../../src/index.js'
import { Account, Attachment, models, Note } from '../../examples/notes-service/models.js'
import { findNotes, parseNoteQuery } from '../../examples/notes-service/note-search.js'
import { createNotesServer } from '../../examples/notes-service/server.js'

const engines: Array<{ name: string; make: (dir: string) => Engine }> = [
  { name: 'LevelEngine', make: (dir) => new LevelEngine(dir) },
  { name: 'DirectoryEngine', make: (dir) => new DirectoryEngine(dir) },
]

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex')

for (const engine of engines) {
  describe(`notes service on ${engine.name}`, () => {
    let dir: string
    let db: Database
    let server: Server
    let base: string
    const logged: unknown[] = []

    const start = async () => {
      db = await Database.open({ engine: engine.make(dir), models })
      server = createNotesServer(db, { maxJsonBytes: 64 * 1024, log: (_m, err) => logged.push(err) })
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    }
    const stop = async () => {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
      await db.close()
    }

    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'stowage-notes-'))
      await start()
    })
    afterAll(async () => {
      await stop()
      await rm(dir, { recursive: true, force: true })
      expect(logged).toEqual([]) // no unexpected (500) error in the whole run
    })

    /** A JSON request; gives the status, the parsed body and the response. */
    async function api(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
      const res = await fetch(base + path, {
        method,
        headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
        body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      })
      const text = await res.text()
      return { status: res.status, body: text === '' ? undefined : JSON.parse(text), res }
    }
    const as = (account: { oid: string }) => ({ 'x-account': account.oid })

    let ann: { oid: string }
    let bob: { oid: string }

    it('creates accounts, refuses a duplicate email (409) and an invalid one (400)', async () => {
      const created = await api('POST', '/accounts', { email: '  Ann@Example.com ', name: 'Ann' })
      expect(created.status).toBe(201)
      expect(created.body).toMatchObject({ email: 'ann@example.com', name: 'Ann' })
      expect(created.res.headers.get('location')).toBe(`/accounts/${created.body.oid}`)
      ann = created.body
      bob = (await api('POST', '/accounts', { email: 'bob@example.com', name: 'Bob' })).body

      expect((await api('GET', `/accounts/${ann.oid}`)).body).toEqual(created.body)
      expect((await api('GET', '/accounts?email=ANN@example.COM')).body.oid).toBe(ann.oid)

      const dup = await api('POST', '/accounts', { email: 'ANN@example.com', name: 'Other Ann' })
      expect(dup.status).toBe(409)
      expect(dup.body.code).toBe('CONSTRAINT')
      expect(typeof dup.body.error).toBe('string')

      const bad = await api('POST', '/accounts', { email: 'not-an-email', name: 'X' })
      expect(bad.status).toBe(400)
      expect(bad.body.code).toBe('VALIDATION')
      expect(bad.body.errors).toEqual([expect.objectContaining({ property: 'email', value: 'not-an-email' })])
      expect((await api('POST', '/accounts', { name: 'No email' })).body.errors[0].property).toBe('email')
    })

    it('lets exactly one of several concurrent sign-ups with one email through', async () => {
      const results = await Promise.all(Array.from({ length: 6 }, (_, i) => api('POST', '/accounts', { email: 'race@example.com', name: `R${i}` })))
      expect(results.map((r) => r.status).sort()).toEqual([201, 409, 409, 409, 409, 409])
    })

    const notes: Record<string, { oid: string }> = {}

    it('creates notes and bookmarks, validating them', async () => {
      const make = async (key: string, who: { oid: string }, note: object) => {
        const r = await api('POST', '/notes', note, as(who))
        expect(r.status, JSON.stringify(r.body)).toBe(201)
        notes[key] = r.body
        return r.body
      }
      const recipe = await make('recipe', ann, { title: 'Café recipe', body: 'Grind the coffee beans, then brew with hot water.', tags: ['Food', 'coffee'], created: '2024-01-10T08:00:00Z' })
      expect(recipe).toMatchObject({ title: 'Café recipe', tags: ['Food', 'coffee'], owner: ann.oid, created: '2024-01-10T08:00:00.000Z', attachments: [] })
      await make('trip', ann, { title: 'Trip plan', body: 'Train tickets and coffee beans for the road.', tags: ['travel'], created: '2024-02-15T12:00:00Z' })
      await make('link', ann, { title: 'Stowage docs', url: 'https://example.com/stowage', tags: ['work', 'Reading'], created: '2024-03-01T00:00:00Z' })
      await make('bobs', bob, { title: 'Bob beans', body: 'Beans on toast.', tags: ['food'], created: '2024-02-20T00:00:00Z' })
      const now = await make('now', bob, { title: 'Today', body: 'No date given: created now.' })
      expect(Math.abs(Date.parse(now.created) - Date.now())).toBeLessThan(60_000)

      const noOwner = await api('POST', '/notes', { title: 'Who?' })
      expect(noOwner.status).toBe(401)
      expect((await api('POST', '/notes', { title: 'Ghost' }, { 'x-account': '01hzzzzzzzzzzzzzzzzzzzzzzz' })).status).toBe(401)

      const badUrl = await api('POST', '/notes', { title: 'Bad link', url: 'not a url', tags: 'solo' }, as(ann))
      expect(badUrl.status).toBe(400)
      expect(badUrl.body.errors.map((e: { property: string }) => e.property).sort()).toEqual(['tags', 'url'])
      expect((await api('POST', '/notes', { title: 'two\nlines' }, as(ann))).body.errors[0].property).toBe('title')
      expect((await api('POST', '/notes', { title: '   ' }, as(ann))).body.errors[0]).toMatchObject({ property: 'title', reason: 'must not be empty' })
      expect((await api('POST', '/notes', { body: 'no title' }, as(ann))).body.errors[0].property).toBe('title')
      expect((await api('POST', '/notes', { title: 'x', created: 'someday' }, as(ann))).body.errors[0].property).toBe('created')
      const extra = await api('POST', '/notes', { title: 'x', owner: bob.oid }, as(ann))
      expect(extra.status).toBe(400)
      expect(extra.body.error).toContain('"owner"')

      const got = await api('GET', `/notes/${recipe.oid}`)
      expect(got.body).toEqual(recipe)
    })

    const titles = async (query: string) => {
      const r = await api('GET', `/notes?${query}`)
      expect(r.status, JSON.stringify(r.body)).toBe(200)
      return r.body.map((n: { title: string }) => n.title)
    }

    it('searches by keyword, accent- and case-insensitively, all words required', async () => {
      expect((await titles('q=beans')).sort()).toEqual(['Bob beans', 'Café recipe', 'Trip plan'])
      expect(await titles('q=CAFE')).toEqual(['Café recipe'])
      expect((await titles('q=coffee+beans')).sort()).toEqual(['Café recipe', 'Trip plan'])
      expect(await titles('q=train%20beans')).toEqual(['Trip plan'])
      expect(await titles('q=nothinglikethis')).toEqual([])
      expect(await titles(`q=beans&owner=${bob.oid}`)).toEqual(['Bob beans'])
      expect((await api('GET', '/notes?q=a')).status).toBe(400) // no word long enough to search
    })

    it('lists by tag, by date range (newest first), and counts tags', async () => {
      expect((await titles('tag=FOOD')).sort()).toEqual(['Bob beans', 'Café recipe'])
      expect(await titles('tag=reading')).toEqual(['Stowage docs'])
      expect(await titles('from=2024-02-01&to=2024-03-01')).toEqual(['Bob beans', 'Trip plan'])
      expect(await titles('from=2024-02-01&to=2024-03-02')).toEqual(['Stowage docs', 'Bob beans', 'Trip plan'])
      expect(await titles('to=2024-02-01')).toEqual(['Café recipe'])
      expect(await titles('from=2024-01-01&to=2024-12-31&tag=food')).toEqual(['Bob beans', 'Café recipe'])
      expect(await titles('from=2024-01-01&to=2024-12-31&limit=2&offset=1')).toEqual(['Bob beans', 'Trip plan'])
      expect((await api('GET', '/notes?from=yesterday')).status).toBe(400)
      expect((await api('GET', '/notes?limit=-1')).status).toBe(400)
      expect((await api('GET', '/notes?colour=red')).status).toBe(400)
      expect((await api('GET', '/tags')).body).toEqual([
        { tag: 'coffee', count: 1 },
        { tag: 'food', count: 2 },
        { tag: 'reading', count: 1 },
        { tag: 'travel', count: 1 },
        { tag: 'work', count: 1 },
      ])
    })

    it('sorts by date or title, pages, and takes several tags as alternatives', async () => {
      expect(await titles('q=beans')).toEqual(['Bob beans', 'Trip plan', 'Café recipe'])
      expect(await titles('q=beans&sort=created')).toEqual(['Café recipe', 'Trip plan', 'Bob beans'])
      // Titles sort as the index keys them: lower case, accents removed.
      expect(await titles('q=beans&sort=title')).toEqual(['Bob beans', 'Café recipe', 'Trip plan'])
      expect(await titles('sort=-title&limit=2')).toEqual(['Trip plan', 'Today'])
      expect(await titles('sort=title&offset=2&limit=2')).toEqual(['Stowage docs', 'Today'])
      expect(await titles('q=beans&offset=1&limit=1')).toEqual(['Trip plan'])
      expect(await titles('q=beans&offset=3')).toEqual([])
      expect(await titles('tag=travel&tag=READING')).toEqual(['Stowage docs', 'Trip plan'])
      expect(await titles('tag=food&tag=coffee')).toEqual(['Bob beans', 'Café recipe']) // the recipe has both: once
      expect(await titles(`tag=food&tag=travel&owner=${ann.oid}&sort=title`)).toEqual(['Café recipe', 'Trip plan'])
      expect((await api('GET', '/notes?sort=owner')).status).toBe(400)
      expect((await api('GET', '/notes?from=2024-02-01&to=2024-02-01')).status).toBe(400)
    })

    it('reads only the notes a search returns when its indexes decide it', async () => {
      const search = (query: string) => findNotes(parseNoteQuery(new URLSearchParams(query))).explain()
      expect((await search(`q=beans&owner=${bob.oid}`)).actual).toMatchObject({ results: 1, objects: 1 })
      expect((await search('q=coffee+beans&tag=food')).actual).toMatchObject({ results: 1, objects: 1 })
      expect((await search('from=2024-01-01&to=2024-12-31&tag=food&sort=title')).actual).toMatchObject({ results: 2, objects: 2 })
    })

    it('updates a note (owner only), keeping the indexes current and the note intact on a refused update', async () => {
      const path = `/notes/${notes.trip!.oid}`
      expect((await api('PATCH', path, { title: 'Hijacked' }, as(bob))).status).toBe(403)
      expect((await api('PATCH', path, { title: 'x' })).status).toBe(401)
      const refused = await api('PATCH', path, { title: 'Fine', url: 'nope' }, as(ann))
      expect(refused.status).toBe(400)
      expect(refused.body.errors[0].property).toBe('url')
      const unchanged = (await api('GET', path)).body
      expect(unchanged.title).toBe('Trip plan')
      expect(unchanged.url).toBeUndefined()
      expect((await api('PATCH', path, { created: '2020-01-01' }, as(ann))).status).toBe(400) // not updatable

      const ok = await api('PATCH', path, { body: 'Plane tickets.', tags: ['travel', 'plane'] }, as(ann))
      expect(ok.status).toBe(200)
      expect(ok.body).toMatchObject({ title: 'Trip plan', body: 'Plane tickets.', tags: ['travel', 'plane'] })
      expect(await titles('q=plane')).toEqual(['Trip plan'])
      expect(await titles('q=train')).toEqual([])
      expect(await titles('tag=plane')).toEqual(['Trip plan'])
    })

    it('stores a 5 MB attachment streamed in and streams it back byte-identical', async () => {
      const bytes = randomBytes(5 * 1024 * 1024)
      const path = `/notes/${notes.recipe!.oid}/attachments?name=${encodeURIComponent('menu é.pdf')}`
      const up = await fetch(base + path, { method: 'PUT', body: bytes, headers: { 'content-type': 'application/pdf', ...as(ann) } })
      expect(up.status).toBe(201)
      const att = (await up.json()) as { oid: string; size: number; sha256: string; href: string }
      expect(att).toMatchObject({ name: 'menu é.pdf', size: bytes.length, contentType: 'application/pdf', sha256: sha256(bytes) })

      const down = await fetch(base + att.href)
      expect(down.status).toBe(200)
      expect(down.headers.get('content-type')).toBe('application/pdf')
      expect(down.headers.get('content-length')).toBe(String(bytes.length))
      expect(down.headers.get('content-disposition')).toBe(`attachment; filename="menu _.pdf"; filename*=UTF-8''menu%20%C3%A9.pdf`)
      expect(sha256(new Uint8Array(await down.arrayBuffer()))).toBe(sha256(bytes))

      const note = (await api('GET', `/notes/${notes.recipe!.oid}`)).body
      expect(note.attachments).toEqual([expect.objectContaining({ oid: att.oid, size: bytes.length })])
      expect((await titles('q=recipe'))[0]).toBe('Café recipe')

      // A second, small one without a type: recognised from its first bytes.
      const png = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), randomBytes(100)])
      const small = await fetch(base + `/notes/${notes.recipe!.oid}/attachments`, { method: 'PUT', body: png, headers: as(ann) })
      expect(((await small.json()) as { contentType: string }).contentType).toBe('image/png')
    })

    it('refuses uploads without a length, too large, or by another account', async () => {
      const path = `/notes/${notes.link!.oid}/attachments`
      const stream = new ReadableStream({
        start(c) {
          c.enqueue(new Uint8Array(10))
          c.close()
        },
      })
      const chunked = await fetch(base + path, { method: 'PUT', body: stream, headers: as(ann), duplex: 'half' } as RequestInit)
      expect(chunked.status).toBe(411)
      expect(((await chunked.json()) as { code: string }).code).toBe('LENGTH_REQUIRED')
      expect((await fetch(base + path, { method: 'PUT', body: new Uint8Array(10), headers: as(bob) })).status).toBe(403)
      expect((await fetch(base + `/notes/01hzzzzzzzzzzzzzzzzzzzzzzz/attachments`, { method: 'PUT', body: new Uint8Array(10), headers: as(ann) })).status).toBe(404)
      expect((await api('GET', path)).status).toBe(405)
      expect((await api('GET', `/notes/${notes.link!.oid}`)).body.attachments).toEqual([])
    })

    it('stores nothing when the client goes away mid-upload, and keeps serving', async () => {
      const before = await Attachment.count()
      const socket = connect((server.address() as AddressInfo).port, '127.0.0.1')
      await once(socket, 'connect')
      socket.write(
        `PUT /notes/${notes.link!.oid}/attachments?name=cut.bin HTTP/1.1\r\nHost: 127.0.0.1\r\nx-account: ${ann.oid}\r\n` +
          `content-type: application/octet-stream\r\ncontent-length: 1000000\r\n\r\n`,
      )
      socket.write(randomBytes(200_000))
      await new Promise((resolve) => setTimeout(resolve, 100))
      socket.destroy()
      await new Promise((resolve) => setTimeout(resolve, 100))
      expect(await Attachment.count()).toBe(before)
      expect((await api('GET', `/notes/${notes.link!.oid}`)).body.attachments).toEqual([])
    })

    it('honours backpressure on a download: a client that stops reading holds the file back', async () => {
      const att = (await api('GET', `/notes/${notes.recipe!.oid}`)).body.attachments[0]
      let serverSide: ServerResponse | undefined
      const spy = (_req: unknown, res: ServerResponse) => (serverSide = res)
      server.prependListener('request', spy)
      const res = await new Promise<IncomingMessage>((resolve, reject) => get(`${base}/attachments/${att.oid}`, resolve).on('error', reject))
      server.off('request', spy)
      res.pause() // read nothing for a while
      await new Promise((resolve) => setTimeout(resolve, 300))
      // Without waiting for 'drain', all 5 MB would now sit in the response's buffer.
      // Waiting for it, at most one 64 KiB chunk waits (measured: 64 KiB; 1.3 MB without waiting).
      expect(serverSide!.writableLength).toBeLessThanOrEqual(256 * 1024)
      const hash = createHash('sha256')
      for await (const chunk of res) hash.update(chunk as Buffer)
      expect(hash.digest('hex')).toBe(att.sha256)
    })

    it('deletes a note with its attachments', async () => {
      const note = (await api('GET', `/notes/${notes.recipe!.oid}`)).body
      expect(note.attachments).toHaveLength(2)
      expect((await api('DELETE', `/notes/${note.oid}`, undefined, as(bob))).status).toBe(403)
      const deleted = await api('DELETE', `/notes/${note.oid}`, undefined, as(ann))
      expect(deleted.status).toBe(204)
      expect((await api('GET', `/notes/${note.oid}`)).status).toBe(404)
      expect((await api('DELETE', `/notes/${note.oid}`, undefined, as(ann))).status).toBe(404)
      for (const att of note.attachments) {
        const r = await api('GET', `/attachments/${att.oid}`)
        expect(r.status).toBe(404)
        expect(r.body.code).toBe('NOT_FOUND')
      }
      expect(await titles('q=cafe')).toEqual([])
      expect((await titles('tag=food'))).toEqual(['Bob beans'])
    })

    it('answers bad requests with JSON errors and keeps serving', async () => {
      const badJson = await api('POST', '/accounts', '{"email": "x@example.com",')
      expect(badJson.status).toBe(400)
      expect(badJson.body.code).toBe('BAD_JSON')
      expect((await api('POST', '/accounts', '[1, 2]')).body.code).toBe('BAD_REQUEST')
      expect((await api('POST', '/accounts', '')).status).toBe(400)
      const tooBig = await api('POST', '/notes', { title: 'big', body: 'x'.repeat(100 * 1024) }, as(ann))
      expect(tooBig.status).toBe(413)
      expect(tooBig.body.code).toBe('PAYLOAD_TOO_LARGE')
      // Without a Content-Length the body is counted as it arrives.
      const chunked = new ReadableStream({
        start(c) {
          for (let i = 0; i < 10; i++) c.enqueue(new TextEncoder().encode(`{"title": "${'y'.repeat(10 * 1024)}"`))
          c.close()
        },
      })
      const streamed = await fetch(base + '/notes', { method: 'POST', body: chunked, headers: { 'content-type': 'application/json', ...as(ann) }, duplex: 'half' } as RequestInit)
      expect(streamed.status).toBe(413)
      const text = await fetch(base + '/accounts', { method: 'POST', body: '{}', headers: { 'content-type': 'text/plain' } })
      expect(text.status).toBe(415)
      const wrongMethod = await api('DELETE', '/accounts')
      expect(wrongMethod.status).toBe(405)
      expect(wrongMethod.res.headers.get('allow')).toBe('POST, GET')
      expect(wrongMethod.body.code).toBe('METHOD_NOT_ALLOWED')
      const unknown = await api('GET', '/nothing/here')
      expect(unknown.status).toBe(404)
      expect(unknown.body).toMatchObject({ code: 'NOT_FOUND', error: expect.any(String) })
      for (const oid of ['nope', '..%2F..%2Fetc', '01hzzzzzzzzzzzzzzzzzzzzzzz']) {
        expect((await api('GET', `/notes/${oid}`)).status).toBe(404)
        expect((await api('GET', `/attachments/${oid}`)).status).toBe(404)
        expect((await api('GET', `/accounts/${oid}`)).status).toBe(404)
      }
      expect((await api('GET', '/accounts?email=nobody@example.com')).status).toBe(404)
      expect((await api('GET', `/notes/${notes.link!.oid}`)).status).toBe(200) // still up
    })

    it('keeps everything across a restart', async () => {
      await stop()
      await start()
      expect((await api('GET', `/notes/${notes.link!.oid}`)).body).toMatchObject({ title: 'Stowage docs', url: 'https://example.com/stowage' })
      expect((await titles('q=plane'))).toEqual(['Trip plan'])
      expect((await api('POST', '/accounts', { email: 'bob@EXAMPLE.com', name: 'Bob 2' })).status).toBe(409)
    })
  })
}

// Notes as version 1 of the service stored them: tags as the client sent them.
@Model({ collection: 'notes' })
class NoteV1 extends StoredObject {
  @Property(Types.LINE) title!: string
  @Property(Types.MARKDOWN) body = ''
  @Property(Types.LIST(Types.LINE)) tags: string[] = []
  @Property(Types.DATE) created: Date = new Date()
  @Relation(() => Account) owner!: One<Account>
}

describe('notes service over a store written by its version 1', () => {
  it('migrates the notes when it opens the store, and serves them with their tags normalized', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'stowage-notes-v1-'))
    try {
      let db = await Database.open({ engine: new LevelEngine(dir), models: [Account, NoteV1] })
      const ann = await Account.create({ email: 'ann@example.com', name: 'Ann' })
      const old = new NoteV1({ title: 'Groceries', tags: [' Food ', 'Food', 'home ', ' '] })
      old.owner.set(ann)
      await old.save()
      await db.close()

      db = await Database.open({ engine: new LevelEngine(dir), models })
      const server = createNotesServer(db, { maxJsonBytes: 64 * 1024 })
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
      try {
        const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
        const note = await (await fetch(`${base}/notes/${old.oid}`)).json()
        expect(note).toMatchObject({ title: 'Groceries', tags: ['Food', 'home'] })
        const tagged = (await (await fetch(`${base}/notes?tag=home`, { headers: { 'x-account': ann.oid } })).json()) as { title: string }[]
        expect(tagged.map((n: { title: string }) => n.title)).toEqual(['Groceries'])
        expect(await Note.index('keywords').count('groceries')).toBe(1)
      } finally {
        server.closeAllConnections()
        await new Promise((resolve) => server.close(resolve))
        await db.close()
      }
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})
