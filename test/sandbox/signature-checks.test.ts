// The emulator must refuse what Authing refuses (authing-contract.md §1e: apiCodes 1300–1306, 2224) and
// accept what the official SDK sends. Requests here are built by hand and signed with the SDK's own
// functions, so the emulator is checked against the SDK, not against the service's signing code.
import { randomBytes } from 'node:crypto'
import t from 'tap'
import { buildAuthorization, buildStringToSign } from 'authing-node-sdk/dist/utils/buildSignature.js'
import { startSandbox, type Sandbox } from '../../src/sandbox/emulator.ts'
import { ZHANGSAN } from '../helpers/app.ts'

const DELETE = '/api/v3/delete-user-sync-relations'
const TOKEN = '/api/v3/get-management-token'
const BODY = { provider: 'lark', userId: ZHANGSAN, userIdType: 'user_id' }

interface Answer { httpStatus: number, body: { statusCode: number, message: string, apiCode?: number, requestId?: string, data?: Record<string, unknown> } }

interface SignOptions {
  accessKeyId?: string
  secret?: string
  method?: string
  version?: string
  /** A date header value; null leaves the header out. */
  date?: string | null
  nonce?: string
  lang?: string
  body?: Record<string, unknown>
}

/** The header set the Node SDK sends, signed with its own buildStringToSign/buildAuthorization. */
function sdkHeaders (options: SignOptions = {}): Record<string, string> {
  const signed: Record<string, string> = {
    'x-authing-signature-nonce': options.nonce ?? randomBytes(16).toString('hex'),
    'x-authing-signature-method': options.method ?? 'HMAC-SHA1',
    'x-authing-signature-version': options.version ?? '1.0',
    'x-authing-sdk-version': 'authing-node-sdk:4.0.1',
    'x-authing-lang': options.lang ?? 'zh-CN'
  }
  if (options.date !== null) signed.date = options.date ?? new Date().toUTCString()
  const stringToSign = buildStringToSign('POST', DELETE, signed, options.body ?? BODY)
  return {
    accept: 'application/json',
    'content-type': 'application/json',
    ...signed,
    authorization: buildAuthorization(options.accessKeyId ?? 'AK', options.secret ?? 'SK', stringToSign)
  }
}

async function post (sandbox: Sandbox, path: string, headers: Record<string, string>, body: unknown = BODY): Promise<Answer> {
  const response = await fetch(`${sandbox.url}${path}`, { method: 'POST', headers, body: JSON.stringify(body) })
  return { httpStatus: response.status, body: await response.json() as Answer['body'] }
}

async function sandboxFor (t: { teardown: (fn: () => unknown) => void }, options: Parameters<typeof startSandbox>[0] = {}): Promise<Sandbox> {
  const sandbox = await startSandbox({ accessKeyId: 'AK', accessKeySecret: 'SK', ...options })
  t.teardown(() => sandbox.close())
  return sandbox
}

function hasLarkRelation (sandbox: Sandbox): boolean {
  return sandbox.tenant.find('user_id', ZHANGSAN)?.relations.lark !== undefined
}

/** Every refusal is a business error: HTTP 200 with Authing's statusCode and apiCode in the body. */
function refused (t: { equal: (found: unknown, wanted: unknown, message: string) => boolean }, answer: Answer, statusCode: number, apiCode: number | undefined): void {
  t.equal(answer.httpStatus, 200, 'HTTP 200, as Authing answers business errors')
  t.equal(answer.body.statusCode, statusCode, `statusCode ${statusCode}`)
  t.equal(answer.body.apiCode, apiCode, `apiCode ${apiCode}`)
  t.equal(answer.body.data, undefined, 'no data')
}

t.test('AK/SK signature checks', async (t) => {
  t.test('a request signed like the SDK → 200 envelope, and the relation is gone', async (t) => {
    const sandbox = await sandboxFor(t)
    const answer = await post(sandbox, DELETE, sdkHeaders())
    t.equal(answer.httpStatus, 200)
    t.match(answer.body, { statusCode: 200, message: '操作成功', requestId: String, data: { success: true } })
    t.notOk('apiCode' in answer.body)
    t.notOk(hasLarkRelation(sandbox))
  })

  t.test('a wrong secret → statusCode 401, apiCode 1300, and nothing is removed', async (t) => {
    const sandbox = await sandboxFor(t)
    refused(t, await post(sandbox, DELETE, sdkHeaders({ secret: 'not-SK' })), 401, 1300)
    t.ok(hasLarkRelation(sandbox))
  })

  t.test('a body changed after signing → 1300', async (t) => {
    const sandbox = await sandboxFor(t)
    refused(t, await post(sandbox, DELETE, sdkHeaders(), { ...BODY, provider: 'wechatwork' }), 401, 1300)
  })

  t.test('a signed header changed after signing → 1300', async (t) => {
    const sandbox = await sandboxFor(t)
    refused(t, await post(sandbox, DELETE, { ...sdkHeaders(), 'x-authing-lang': 'en-US' }), 401, 1300)
  })

  t.test('an extra x-authing-* header that was not signed → 1300', async (t) => {
    const sandbox = await sandboxFor(t)
    refused(t, await post(sandbox, DELETE, { ...sdkHeaders(), 'x-authing-app-id': 'T1' }), 401, 1300)
  })

  t.test('an authorization header of another shape → 1300', async (t) => {
    const sandbox = await sandboxFor(t)
    refused(t, await post(sandbox, DELETE, { ...sdkHeaders(), authorization: 'authing AK' }), 401, 1300)
  })

  t.test('a wrong signature method → 1301', async (t) => {
    const sandbox = await sandboxFor(t)
    refused(t, await post(sandbox, DELETE, sdkHeaders({ method: 'HMAC-SHA256' })), 401, 1301)
  })

  t.test('a wrong signature version → 1302', async (t) => {
    const sandbox = await sandboxFor(t)
    refused(t, await post(sandbox, DELETE, sdkHeaders({ version: '2.0' })), 401, 1302)
  })

  t.test('an unparseable date → 1303', async (t) => {
    const sandbox = await sandboxFor(t)
    refused(t, await post(sandbox, DELETE, sdkHeaders({ date: 'yesterday' })), 401, 1303)
    refused(t, await post(sandbox, DELETE, sdkHeaders({ date: String(Math.floor(Date.now() / 1000)) })), 401, 1303)
  })

  t.test('no date header → 1304', async (t) => {
    const sandbox = await sandboxFor(t)
    refused(t, await post(sandbox, DELETE, sdkHeaders({ date: null })), 401, 1304)
  })

  t.test('a date one hour off, either way → 1305', async (t) => {
    const sandbox = await sandboxFor(t)
    refused(t, await post(sandbox, DELETE, sdkHeaders({ date: new Date(Date.now() - 3_600_000).toUTCString() })), 401, 1305)
    refused(t, await post(sandbox, DELETE, sdkHeaders({ date: new Date(Date.now() + 3_600_000).toUTCString() })), 401, 1305)
    t.ok(hasLarkRelation(sandbox))
  })

  t.test('a date in epoch milliseconds (older SDKs) is accepted', async (t) => {
    const sandbox = await sandboxFor(t)
    const answer = await post(sandbox, DELETE, sdkHeaders({ date: String(Date.now()) }))
    t.match(answer.body, { statusCode: 200, data: { success: true } })
  })

  t.test('the same nonce twice → 1306 on the second, which removes nothing', async (t) => {
    const sandbox = await sandboxFor(t)
    const headers = sdkHeaders({ body: { ...BODY, provider: 'wechatwork' } })
    const first = await post(sandbox, DELETE, headers, { ...BODY, provider: 'wechatwork' })
    t.equal(first.body.statusCode, 200, 'the first is accepted')
    refused(t, await post(sandbox, DELETE, headers, { ...BODY, provider: 'wechatwork' }), 401, 1306)

    const nonce = headers['x-authing-signature-nonce'] as string
    refused(t, await post(sandbox, DELETE, sdkHeaders({ nonce })), 401, 1306)
    t.ok(hasLarkRelation(sandbox), 'a freshly signed request that reuses the nonce is refused too')
  })

  t.test('an unknown access key id → statusCode 404, apiCode 2224', async (t) => {
    const sandbox = await sandboxFor(t)
    refused(t, await post(sandbox, DELETE, sdkHeaders({ accessKeyId: 'someone-else', secret: 'SK' })), 404, 2224)
  })

  t.test('answers in English for x-authing-lang: en-US', async (t) => {
    const sandbox = await sandboxFor(t)
    const answer = await post(sandbox, DELETE, sdkHeaders({ lang: 'en-US', secret: 'not-SK' }))
    t.equal(answer.body.apiCode, 1300)
    t.match(answer.body.message, /^[\x20-\x7e]+$/, 'an ASCII message')
  })
})

async function fetchToken (sandbox: Sandbox, credentials: Record<string, unknown>): Promise<Answer> {
  return post(sandbox, TOKEN, { 'content-type': 'application/json' }, credentials)
}

function claimsOf (token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>
}

t.test('management-token mode', async (t) => {
  t.test('get-management-token with the right credentials → a JWT for the user pool, valid 7200 s', async (t) => {
    const sandbox = await sandboxFor(t)
    const answer = await fetchToken(sandbox, { accessKeyId: 'AK', accessKeySecret: 'SK' })
    t.equal(answer.httpStatus, 200)
    t.equal(answer.body.statusCode, 200)
    const token = answer.body.data?.access_token as string
    t.match(token, /^[\w-]+\.[\w-]+\.[\w-]+$/)
    t.equal(claimsOf(token).scoped_userpool_id, 'AK')
    t.equal(answer.body.data?.expires_in, 7200)
  })

  t.test('get-management-token with wrong credentials → statusCode 401 on HTTP 200', async (t) => {
    const sandbox = await sandboxFor(t)
    refused(t, await fetchToken(sandbox, { accessKeyId: 'AK', accessKeySecret: 'wrong' }), 401, undefined)
    refused(t, await fetchToken(sandbox, { accessKeyId: 'other', accessKeySecret: 'SK' }), 401, undefined)
    refused(t, await fetchToken(sandbox, { userPoolId: 'AK', secret: 'SK' }), 401, undefined)
  })

  async function tokenOf (sandbox: Sandbox): Promise<string> {
    return (await fetchToken(sandbox, { accessKeyId: 'AK', accessKeySecret: 'SK' })).body.data?.access_token as string
  }

  t.test('accepts Authorization: Bearer <token> with x-authing-userpool-id', async (t) => {
    const sandbox = await sandboxFor(t)
    const token = await tokenOf(sandbox)
    const answer = await post(sandbox, DELETE, { 'content-type': 'application/json', authorization: `Bearer ${token}`, 'x-authing-userpool-id': 'AK' })
    t.match(answer.body, { statusCode: 200, data: { success: true } })
  })

  t.test('accepts the raw token without Bearer, as the Java SDK sends it', async (t) => {
    const sandbox = await sandboxFor(t)
    const token = await tokenOf(sandbox)
    const answer = await post(sandbox, DELETE, { 'content-type': 'application/json', authorization: token, 'x-authing-userpool-id': 'AK' })
    t.match(answer.body, { statusCode: 200, data: { success: true } })
  })

  t.test('refuses a wrong or missing user pool id → statusCode 404, apiCode 2224', async (t) => {
    const sandbox = await sandboxFor(t)
    const token = await tokenOf(sandbox)
    refused(t, await post(sandbox, DELETE, { 'content-type': 'application/json', authorization: `Bearer ${token}`, 'x-authing-userpool-id': 'other-pool' }), 404, 2224)
    refused(t, await post(sandbox, DELETE, { 'content-type': 'application/json', authorization: `Bearer ${token}` }), 404, 2224)
    t.ok(hasLarkRelation(sandbox))
  })

  t.test('refuses a missing, forged or tampered token → statusCode 401', async (t) => {
    const sandbox = await sandboxFor(t)
    const token = await tokenOf(sandbox)
    const [header, , signature] = token.split('.')
    const otherPool = Buffer.from(JSON.stringify({ ...claimsOf(token), scoped_userpool_id: 'other' })).toString('base64url')
    refused(t, await post(sandbox, DELETE, { 'content-type': 'application/json', 'x-authing-userpool-id': 'AK' }), 401, undefined)
    refused(t, await post(sandbox, DELETE, { 'content-type': 'application/json', authorization: 'Bearer not.a.token', 'x-authing-userpool-id': 'AK' }), 401, undefined)
    refused(t, await post(sandbox, DELETE, { 'content-type': 'application/json', authorization: `Bearer ${header}.${otherPool}.${signature}`, 'x-authing-userpool-id': 'other' }), 401, undefined)
    t.ok(hasLarkRelation(sandbox))
  })

  t.test('revokeTokens() invalidates every token issued before it', async (t) => {
    const sandbox = await sandboxFor(t)
    const old = await tokenOf(sandbox)
    sandbox.revokeTokens()
    refused(t, await post(sandbox, DELETE, { 'content-type': 'application/json', authorization: `Bearer ${old}`, 'x-authing-userpool-id': 'AK' }), 401, undefined)
    const fresh = await tokenOf(sandbox)
    const answer = await post(sandbox, DELETE, { 'content-type': 'application/json', authorization: `Bearer ${fresh}`, 'x-authing-userpool-id': 'AK' })
    t.match(answer.body, { statusCode: 200, data: { success: true } }, 'a token issued afterwards works')
  })

  t.test('a token stops working when it expires', async (t) => {
    const clock = { now: Date.now() }
    const sandbox = await sandboxFor(t, { now: () => clock.now, tokenTtlSeconds: 60 })
    const token = await tokenOf(sandbox)
    clock.now += 59_000
    const headers = { 'content-type': 'application/json', authorization: `Bearer ${token}`, 'x-authing-userpool-id': 'AK' }
    t.match((await post(sandbox, DELETE, headers, { ...BODY, provider: 'wechatwork' })).body, { statusCode: 200 }, 'valid just before')
    clock.now += 1000
    refused(t, await post(sandbox, DELETE, headers), 401, undefined)
  })
})
