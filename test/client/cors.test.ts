// Browser callers from other origins: CORS is off unless CORS_ORIGINS lists the origin. A preflight is
// answered before caller authentication (browsers send it without the Authorization header).
import t from 'tap'
import { AUTH, buildTestApp, routeUrl, ZHANGSAN } from '../helpers/app.ts'

const TOOLS = 'https://tools.example.com'
const OTHER = 'https://elsewhere.example.com'
const REMOVAL_URL = routeUrl(ZHANGSAN, 'lark')

function preflight (origin: string): { method: 'OPTIONS', url: string, headers: Record<string, string> } {
  return {
    method: 'OPTIONS',
    url: REMOVAL_URL,
    headers: { origin, 'access-control-request-method': 'DELETE', 'access-control-request-headers': 'authorization,x-request-id' }
  }
}

function corsHeaders (headers: Record<string, unknown>): string[] {
  return Object.keys(headers).filter((name) => name.startsWith('access-control-'))
}

t.test('by default CORS is off: a preflight gets no CORS headers, so browsers on other origins are refused', async (t) => {
  const { app, upstreamCalls } = await buildTestApp(t)
  const response = await app.inject(preflight(TOOLS))
  t.equal(response.statusCode, 405, 'OPTIONS is not a method of the route')
  t.equal(response.headers.allow, 'DELETE')
  t.equal(response.json().code, 'METHOD_NOT_ALLOWED', 'answered in the error envelope, not refused as unauthenticated')
  t.same(corsHeaders(response.headers), [])

  const removal = await app.inject({ method: 'DELETE', url: REMOVAL_URL, headers: { ...AUTH, origin: TOOLS } })
  t.equal(removal.statusCode, 200, 'a request with an Origin is still served (CORS binds browsers, not servers)')
  t.same(corsHeaders(removal.headers), [])
  t.equal(upstreamCalls(), 1)
})

t.test('with CORS_ORIGINS, a listed origin', async (t) => {
  const { app, upstreamCalls, audit } = await buildTestApp(t, { CORS_ORIGINS: `${TOOLS}, https://ops.example.com` })

  t.test('gets its preflight for DELETE with Authorization and X-Request-Id approved, without a caller key', async (t) => {
    const response = await app.inject(preflight(TOOLS))
    t.equal(response.statusCode, 204)
    t.equal(response.headers['access-control-allow-origin'], TOOLS)
    t.equal(response.headers['access-control-allow-methods'], 'DELETE')
    const allowed = String(response.headers['access-control-allow-headers']).split(',').map((name) => name.trim().toLowerCase())
    t.ok(allowed.includes('authorization'), 'Authorization may be sent')
    t.ok(allowed.includes('x-request-id'), 'X-Request-Id may be sent')
    t.equal(response.headers['access-control-max-age'], '600')
    t.match(response.headers.vary, /Origin/, 'caches keep answers for different origins apart')
    t.equal(response.headers['access-control-allow-credentials'], undefined, 'no cookies: the caller key travels in Authorization')
    t.equal(response.body, '')
    t.equal(upstreamCalls(), 0, 'a preflight never reaches Authing')
    const record = audit().find((entry) => entry.method === 'OPTIONS')
    t.match(record, { type: 'request', status: 204 }, 'and is audited like any request')
  })

  t.test('can read the answer of the actual DELETE, X-Request-Id included', async (t) => {
    const response = await app.inject({ method: 'DELETE', url: REMOVAL_URL, headers: { ...AUTH, origin: TOOLS } })
    t.equal(response.statusCode, 200)
    t.equal(response.headers['access-control-allow-origin'], TOOLS)
    const exposed = String(response.headers['access-control-expose-headers']).split(',').map((name) => name.trim().toLowerCase())
    t.ok(exposed.includes('x-request-id'), 'X-Request-Id is readable by the page')
    t.ok(exposed.includes('retry-after'), 'so is Retry-After')
  })

  t.test('can read an error too: a 401 carries the CORS headers', async (t) => {
    const response = await app.inject({ method: 'DELETE', url: REMOVAL_URL, headers: { authorization: 'Bearer wrong', origin: TOOLS } })
    t.equal(response.statusCode, 401)
    t.equal(response.headers['access-control-allow-origin'], TOOLS)
    t.equal(response.json().code, 'UNAUTHENTICATED')
  })
})

t.test('with CORS_ORIGINS, any other origin is refused: no CORS headers, as if CORS were off', async (t) => {
  const { app, upstreamCalls } = await buildTestApp(t, { CORS_ORIGINS: TOOLS })
  for (const origin of [OTHER, 'http://tools.example.com', 'https://tools.example.com.evil.test', 'null']) {
    const response = await app.inject(preflight(origin))
    t.equal(response.statusCode, 405, `preflight from ${origin}`)
    t.same(corsHeaders(response.headers), [], `no CORS headers for ${origin}`)
  }
  const removal = await app.inject({ method: 'DELETE', url: REMOVAL_URL, headers: { ...AUTH, origin: OTHER } })
  t.equal(removal.headers['access-control-allow-origin'], undefined, 'the page on the other origin cannot read the answer')
  t.equal(upstreamCalls(), 1)
})

t.test('an OPTIONS without Origin is not a preflight and is answered like CORS off', async (t) => {
  const { app } = await buildTestApp(t, { CORS_ORIGINS: TOOLS })
  const response = await app.inject({ method: 'OPTIONS', url: REMOVAL_URL })
  t.equal(response.statusCode, 405)
  t.equal(response.headers.allow, 'DELETE')
  t.same(corsHeaders(response.headers), [])
})

t.test('CORS_ORIGINS is compared without regard to case, as browsers send origins in lowercase', async (t) => {
  const { app } = await buildTestApp(t, { CORS_ORIGINS: 'https://Tools.Example.com' })
  const response = await app.inject(preflight(TOOLS))
  t.equal(response.statusCode, 204)
  t.equal(response.headers['access-control-allow-origin'], TOOLS)
})
