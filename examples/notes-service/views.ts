/** The JSON shapes the API answers with. */
import type { Account, Attachment, Note } from './models.js'

export function accountView(account: Account) {
  return { oid: account.oid, email: account.email, name: account.name }
}

export function attachmentView(att: Attachment) {
  return { oid: att.oid, name: att.name, size: att.size, contentType: att.contentType, sha256: att.sha256, href: `/attachments/${att.oid}` }
}

const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString())

/** A note in a listing: its attachments counted, not loaded. */
export function noteSummary(note: Note) {
  return {
    oid: note.oid,
    title: note.title,
    body: note.body,
    url: note.url,
    tags: note.tags,
    created: note.created.toISOString(),
    updated: iso(note.getUpdateTime()),
    owner: note.owner.oid,
    attachmentCount: note.attachments.size,
  }
}

/** A note on its own, with its attachments described. */
export async function noteView(note: Note) {
  const attachments = []
  for await (const att of note.attachments) attachments.push(attachmentView(att))
  return { ...noteSummary(note), attachments }
}
