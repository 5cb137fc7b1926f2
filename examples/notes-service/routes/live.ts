import type { Router } from '../http/router.js'
import { findNotes, parseNoteQuery } from '../note-search.js'
import { noteSummary } from '../views.js'

/**
 * A page listing notes that updates without reload (GET /live, with the query parameters of
 * GET /notes), fed by server-sent events (GET /live/notes): a live query sends the list again
 * after each commit that may change it, and stops when the page goes away.
 */
export function liveRoutes(router: Router): void {
  router.on('GET', '/live', async ({ res }) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' })
    res.end(PAGE)
  })

  router.on('GET', '/live/notes', async ({ req, res, url }) => {
    const query = findNotes(parseNoteQuery(url.searchParams)) // a bad parameter is a 400 before the stream starts
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' })
    res.write(': live notes\n\n')
    const subscription = query.watch().subscribe({
      next: (notes) => res.write(`data: ${JSON.stringify(notes.map(noteSummary))}\n\n`),
      error: () => res.end(), // the page reconnects (EventSource does) and gets the list anew
    })
    req.on('close', () => subscription.unsubscribe())
  })
}

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Notes (live)</title>
<style>body { font: 16px system-ui, sans-serif; margin: 2rem } li { margin: .25rem 0 } .tags { color: #666; font-size: .85em }</style>
</head>
<body>
<h1>Notes</h1>
<p id="status">Connecting…</p>
<ul id="notes"></ul>
<script>
  const list = document.getElementById('notes')
  const status = document.getElementById('status')
  const events = new EventSource('/live/notes' + location.search)
  events.onmessage = (message) => {
    const notes = JSON.parse(message.data)
    list.replaceChildren(...notes.map((note) => {
      const item = document.createElement('li')
      item.dataset.oid = note.oid
      item.textContent = note.title
      const tags = document.createElement('span')
      tags.className = 'tags'
      tags.textContent = note.tags.length > 0 ? ' ' + note.tags.join(', ') : ''
      item.append(tags)
      return item
    }))
    status.textContent = notes.length + (notes.length === 1 ? ' note' : ' notes')
  }
  events.onerror = () => (status.textContent = 'Reconnecting…')
</script>
</body>
</html>
`
