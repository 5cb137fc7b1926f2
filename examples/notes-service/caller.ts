import type { IncomingMessage } from 'node:http'
import { isOid } from '../../src/index.js'
import { HttpError } from './http/http-error.js'
import { Account, type Note } from './models.js'

/**
 * The account making the request, named by the `x-account` header. This example has no
 * authentication: a real service would derive the account from a session or a token instead.
 */
export async function callerOf(req: IncomingMessage): Promise<Account> {
  const oid = req.headers['x-account']
  if (typeof oid !== 'string' || oid === '') throw new HttpError(401, 'UNAUTHENTICATED', 'Name the account making the request in the x-account header')
  const account = isOid(oid) ? await Account.get(oid) : undefined
  if (account === undefined) throw new HttpError(401, 'UNAUTHENTICATED', `No account ${JSON.stringify(oid)} (x-account header)`)
  return account
}

/** Refuses a change to a note by anyone but its owner. */
export async function requireOwner(req: IncomingMessage, note: Note): Promise<Account> {
  const caller = await callerOf(req)
  if (note.owner.oid !== caller.oid) throw new HttpError(403, 'FORBIDDEN', `Note ${note.oid} belongs to another account`)
  return caller
}
