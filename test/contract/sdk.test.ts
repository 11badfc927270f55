// The contract test: for the same input, the official Node SDK and this service's AuthingClient must put
// indistinguishable requests on the wire (authing-contract.md §1a, §6). Both talk to one recorder; the
// signatures are checked with a verifier written here from the contract, not with the service's code.
import { createHmac } from 'node:crypto'
import t from 'tap'
import { ManagementClient } from 'authing-node-sdk'
import { AuthingClient } from '../../src/authing/client.ts'
import { createAgent, createFetch } from '../../src/authing/transport.ts'
import { CircuitBreaker } from '../../src/resilience/breaker.ts'
import { Bulkhead } from '../../src/resilience/bulkhead.ts'
import { startRecorder, type RecordedRequest } from '../helpers/recorder.ts'

const PATH = '/api/v3/delete-user-sync-relations'
const RFC_1123 = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} GMT$/
const COMPARED_HEADERS = ['x-authing-signature-method', 'x-authing-signature-version', 'x-authing-sdk-version', 'x-authing-lang', 'x-authing-app-id']

type SdkInput = Parameters<ManagementClient['deleteUserSyncRelations']>[0]
type SdkLang = NonNullable<ConstructorParameters<typeof ManagementClient>[0]['lang']>

interface Case {
  label: string
  body: { provider: string, userId: string, userIdType: string }
  options?: { tenantId?: string, lang?: string }
}

const cases: Case[] = [
  { label: 'a plain user_id', body: { provider: 'lark', userId: '6229ffaa0b1c2d3e4f5a6b7c', userIdType: 'user_id' } },
  { label: 'a sync_relation id with a colon', body: { provider: 'lark', userId: 'lark:ou_8bae746eac07cd2564654140d2a9ac61', userIdType: 'sync_relation' } },
  { label: 'a UTF-8 username', body: { provider: 'wechatwork', userId: '张三', userIdType: 'username' } },
  { label: 'an external id with /, +, &, = and spaces', body: { provider: 'ldap', userId: 'dept/42 a+b&c=d  x', userIdType: 'external_id' } },
  { label: 'an email with +', body: { provider: 'moka', userId: 'li.si+hr@example.com', userIdType: 'email' } },
  { label: 'tenantId T1 with lang en-US', body: { provider: 'lark', userId: 'u1', userIdType: 'user_id' }, options: { tenantId: 'T1', lang: 'en-US' } },
  { label: 'lang en-US without a tenant', body: { provider: 'dingtalk', userId: 'u1', userIdType: 'user_id' }, options: { lang: 'en-US' } },
  { label: 'tenantId alone', body: { provider: 'scim', userId: 'u1', userIdType: 'user_id' }, options: { tenantId: 'T1' } }
]

/** The string-to-sign of contract §1a, rebuilt from what arrived on the wire. */
function independentStringToSign (request: RecordedRequest): string {
  const signed = Object.keys(request.headers).filter((name) => name === 'date' || name.startsWith('x-authing-')).sort()
  const headerLines = signed.map((name) => `${name}:${String(request.headers[name]).replace(/[\t\n\r\f]/g, ' ').trim()}\n`).join('')
  const body = JSON.parse(request.body) as Record<string, unknown>
  const keys = Object.keys(body).sort()
  const pairs = keys.map((key) => {
    const value = body[key]
    return `${key}=${typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value)}`
  })
  const resource = keys.length === 0 ? request.url : `${request.url}?${pairs.join('&')}`
  return `${request.method}\n${headerLines}${resource}`
}

function independentAuthorization (request: RecordedRequest, accessKeyId: string, secret: string): string {
  const signature = createHmac('sha1', Buffer.from(secret, 'utf8')).update(Buffer.from(independentStringToSign(request), 'utf8')).digest('base64')
  return `authing ${accessKeyId}:${signature}`
}

function signedNames (request: RecordedRequest): string[] {
  return Object.keys(request.headers).filter((name) => name === 'date' || name.startsWith('x-authing-')).sort()
}

/** Names as they were sent on the wire, for headers that take part in the signature. */
function signedWireNames (request: RecordedRequest): string[] {
  return request.rawHeaders.filter((_, i) => i % 2 === 0).filter((name) => {
    const lower = name.toLowerCase()
    return lower === 'date' || lower.startsWith('x-authing-')
  })
}

t.test('the service and the official SDK send the same delete-user-sync-relations request', async (t) => {
  const agent = createAgent({ keepAliveTimeoutMs: 1000, connections: 4, connectTimeoutMs: 2000 })
  t.teardown(() => agent.close())
  const fetch = createFetch(agent)
  const serviceNonces: string[] = []

  for (const { label, body, options = {} } of cases) {
    await t.test(label, async (t) => {
      const recorder = await startRecorder()
      t.teardown(() => recorder.close())

      // The SDK writes the global axios default baseURL in its constructor; the instance it creates
      // copies it at once, and nothing else in this process uses axios, so a fresh client per case is safe.
      const sdk = new ManagementClient({
        accessKeyId: 'AK',
        accessKeySecret: 'SK',
        host: recorder.url,
        ...(options.tenantId !== undefined ? { tenantId: options.tenantId } : {}),
        ...(options.lang !== undefined ? { lang: options.lang as SdkLang } : {})
      })
      const sdkAnswer = await sdk.deleteUserSyncRelations(body as SdkInput)
      t.same(sdkAnswer, { statusCode: 200, message: 'ok', requestId: 'r-1', data: { success: true } }, 'the SDK call went through')

      const client = new AuthingClient({
        baseUrl: recorder.url,
        credentials: { accessKeyId: 'AK', accessKeySecret: 'SK' },
        lang: options.lang ?? 'zh-CN',
        tenantId: options.tenantId,
        authMode: 'signature',
        attemptTimeoutMs: 5000,
        maxAttempts: 1,
        retryBaseMs: 10,
        retryMaxDelayMs: 100,
        bulkhead: new Bulkhead(4, 4),
        breaker: new CircuitBreaker({ failureThreshold: 5, openMs: 1000 }),
        fetch
      })
      const report = await client.deleteUserSyncRelations(body, Date.now() + 5000)
      t.equal(report.mapped.ok, true, 'the service call went through')
      t.equal(report.attempts, 1)

      t.equal(recorder.requests.length, 2, 'exactly one request each')
      const [fromSdk, fromService] = recorder.requests as [RecordedRequest, RecordedRequest]

      t.equal(fromService.method, fromSdk.method, 'method')
      t.equal(fromSdk.method, 'POST')
      t.equal(fromService.url, fromSdk.url, 'path')
      t.equal(fromSdk.url, PATH)

      t.same(JSON.parse(fromService.body), JSON.parse(fromSdk.body), 'JSON body, deep-equal')
      t.same(Object.keys(JSON.parse(fromService.body)), Object.keys(JSON.parse(fromSdk.body)), 'JSON body, same key order')
      t.equal(fromService.body, fromSdk.body, 'JSON body, same bytes')

      t.same(signedNames(fromService), signedNames(fromSdk), 'the same set of signed header names')
      for (const name of COMPARED_HEADERS) {
        t.equal(fromService.headers[name], fromSdk.headers[name], `same ${name}`)
      }
      t.equal(fromService.headers['x-authing-app-id'], options.tenantId, 'the tenant header only when a tenant is set')
      t.equal(fromService.headers['x-authing-lang'], options.lang ?? 'zh-CN')
      for (const name of ['accept', 'content-type']) {
        t.equal(fromService.headers[name], fromSdk.headers[name], `same ${name}`)
      }

      for (const request of [fromSdk, fromService]) {
        t.same(signedWireNames(request), signedWireNames(request).map((name) => name.toLowerCase()), 'signed header names go out in lowercase')
        t.match(request.headers['x-authing-signature-nonce'], /^[0-9a-f]{32}$/)
        t.match(request.headers.date, RFC_1123)
        t.ok(Math.abs(Date.parse(String(request.headers.date)) - Date.now()) < 60_000, 'the date is the current time')
        t.equal(request.headers.authorization, independentAuthorization(request, 'AK', 'SK'), 'the authorization verifies with SK')
      }
      t.not(fromService.headers['x-authing-signature-nonce'], fromSdk.headers['x-authing-signature-nonce'], 'each request has its own nonce')
      serviceNonces.push(String(fromService.headers['x-authing-signature-nonce']))

      t.notOk('x-authing-userpool-id' in fromService.headers, 'no x-authing-userpool-id in signature mode')
      t.notOk('x-authing-request-from' in fromService.headers, 'no x-authing-request-from in signature mode')
    })
  }

  t.equal(new Set(serviceNonces).size, cases.length, 'the service never reuses a nonce across calls')
})

t.test('the independent verifier refuses a request signed with another secret', async (t) => {
  // Guards the guard: a verifier that accepted anything would make the contract test above meaningless.
  const recorder = await startRecorder()
  t.teardown(() => recorder.close())
  const sdk = new ManagementClient({ accessKeyId: 'AK', accessKeySecret: 'not-SK', host: recorder.url })
  await sdk.deleteUserSyncRelations({ provider: 'lark', userId: 'u1', userIdType: 'user_id' } as SdkInput)
  const [request] = recorder.requests as [RecordedRequest]
  t.not(request.headers.authorization, independentAuthorization(request, 'AK', 'SK'))
  t.equal(request.headers.authorization, independentAuthorization(request, 'AK', 'not-SK'))
})
