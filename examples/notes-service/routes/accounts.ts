import { Indexing, isOid } from '../../../src/index.js'
import { badRequest, notFound } from '../http/http-error.js'
import { readJsonObject } from '../http/json-body.js'
import { sendJson } from '../http/respond.js'
import type { Router } from '../http/router.js'
import { Account, normalizeEmail } from '../models.js'
import { accountView } from '../views.js'
import type { ServiceOptions } from '../server.js'

export function accountRoutes(router: Router, options: ServiceOptions): void {
  // POST /accounts {email, name}: 201, 400 (invalid), 409 (email taken).
  router.on('POST', '/accounts', async ({ req, res }) => {
    const { email, name, ...rest } = await readJsonObject(req, options.maxJsonBytes)
    if (Object.keys(rest).length > 0) throw badRequest(`Unknown field(s) ${Object.keys(rest).join(', ')}; an account takes email, name`)
    // The unique index makes a second account with this email fail with ConstraintError (409),
    // atomically: two concurrent requests cannot both pass a check-then-create.
    const account = await Account.create({ email: normalizeEmail(email) as string, name: name as string })
    sendJson(res, 201, accountView(account), { location: `/accounts/${account.oid}` })
  })

  // GET /accounts?email=ann@example.com: the account with that email.
  router.on('GET', '/accounts', async ({ res, url }) => {
    const email = url.searchParams.get('email')
    if (email === null) throw badRequest('Give the email to look up: /accounts?email=...')
    const account = await Account.index('email').one(Indexing.normalize(normalizeEmail(email)))
    if (account === undefined) throw notFound(`Account with email ${JSON.stringify(email)}`)
    sendJson(res, 200, accountView(account))
  })

  router.on('GET', '/accounts/:oid', async ({ res, params }) => {
    const account = isOid(params.oid) ? await Account.get(params.oid) : undefined
    if (account === undefined) throw notFound(`Account ${params.oid}`)
    sendJson(res, 200, accountView(account))
  })
}
