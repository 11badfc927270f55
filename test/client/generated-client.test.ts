// Day one of an internal team: generate types from openapi/ with openapi-typescript (committed as
// openapi/schema.d.ts by `npm run openapi`), wrap them with openapi-fetch, and call the running service.
// `tsc --noEmit` typechecks this file against the generated types, so a document change that breaks
// client code breaks the build.
import { randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import t from 'tap'
import createClient from 'openapi-fetch'
import type { components, paths } from '../../openapi/schema.d.ts'
import { CLIENT_TYPES_FILE, generateClientTypes, OPENAPI_FILE } from '../../src/cli/openapi.ts'
import { buildTestApp, DEV_KEY, LISI, ZHANGSAN } from '../helpers/app.ts'

type ErrorEnvelope = components['schemas']['ErrorEnvelope']
type ErrorCode = ErrorEnvelope['code']

const ROUTE = '/users/{userId}/sync-relations/{provider}'

async function startService (t: { teardown: (fn: () => unknown) => void }): Promise<string> {
  const { app } = await buildTestApp(t)
  await app.listen({ host: '127.0.0.1', port: 0 })
  const { port } = app.server.address() as { port: number }
  return `http://127.0.0.1:${port}`
}

t.test('openapi/schema.d.ts is what openapi-typescript generates from the committed document (run `npm run openapi`)', async (t) => {
  const document: unknown = JSON.parse(readFileSync(OPENAPI_FILE, 'utf8'))
  t.equal(readFileSync(CLIENT_TYPES_FILE, 'utf8'), await generateClientTypes(document))
})

t.test('a client generated from openapi/ calls the running service', async (t) => {
  const baseUrl = await startService(t)
  const client = createClient<paths>({ baseUrl, headers: { Authorization: `Bearer ${DEV_KEY}` } })

  t.test('removing a seeded relation answers 200 with Authing\'s typed success body', async (t) => {
    const requestId = randomUUID()
    const { data, error, response } = await client.DELETE(ROUTE, {
      params: { path: { userId: ZHANGSAN, provider: 'lark' } },
      headers: { 'X-Request-Id': requestId }
    })
    t.equal(response.status, 200)
    t.equal(error, undefined)
    const success: boolean | undefined = data?.data.success
    t.equal(success, true)
    t.equal(data?.statusCode, 200)
    t.equal(response.headers.get('x-request-id'), requestId, 'the request id the client chose comes back')
  })

  t.test('the typed query parameter and a percent-encoded path parameter reach the service', async (t) => {
    const byEmail = await client.DELETE(ROUTE, {
      params: { path: { userId: 'li.si+hr@example.com', provider: 'moka' }, query: { userIdType: 'email' } }
    })
    t.equal(byEmail.response.status, 200)
    t.equal(byEmail.data?.data.success, true)

    const byExternalId = await client.DELETE(ROUTE, {
      params: { path: { userId: 'dept/42:lisi', provider: 'ldap' }, query: { userIdType: 'external_id' } }
    })
    t.equal(byExternalId.response.status, 200, 'openapi-fetch percent-encodes the "/" in the user id')
    t.equal(byExternalId.data?.data.success, true)
  })

  t.test('an unknown user answers 404 USER_NOT_FOUND in the typed error envelope', async (t) => {
    const { data, error, response } = await client.DELETE(ROUTE, {
      params: { path: { userId: '000000000000000000000000', provider: 'lark' } }
    })
    t.equal(response.status, 404)
    t.equal(data, undefined)
    if (error === undefined) throw new Error('expected an error body')
    const code: ErrorCode = error.code
    t.equal(code, 'USER_NOT_FOUND')
    t.equal(error.statusCode, 404)
    t.equal(error.apiCode, 2004)
    t.equal(error.requestId, response.headers.get('x-request-id'))
  })

  t.test('a relation already removed answers 404 AUTHING_NOT_FOUND', async (t) => {
    const { error, response } = await client.DELETE(ROUTE, { params: { path: { userId: ZHANGSAN, provider: 'lark' } } })
    t.equal(response.status, 404)
    t.equal(error?.code, 'AUTHING_NOT_FOUND')
  })

  t.test('a bad caller key answers 401 UNAUTHENTICATED with WWW-Authenticate', async (t) => {
    const stranger = createClient<paths>({ baseUrl, headers: { Authorization: 'Bearer not-a-caller-key' } })
    const { data, error, response } = await stranger.DELETE(ROUTE, { params: { path: { userId: LISI, provider: 'wechatwork' } } })
    t.equal(response.status, 401)
    t.equal(data, undefined)
    t.equal(error?.code, 'UNAUTHENTICATED')
    t.match(response.headers.get('www-authenticate'), /^Bearer/)
  })

  t.test('a userId that is not valid for its userIdType answers 400 INVALID_USER_ID', async (t) => {
    const { error, response } = await client.DELETE(ROUTE, {
      params: { path: { userId: 'not-an-email', provider: 'moka' }, query: { userIdType: 'email' } }
    })
    t.equal(response.status, 400)
    t.equal(error?.code, 'INVALID_USER_ID')
  })
})
