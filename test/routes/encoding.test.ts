// Over a real socket: inject() accepts URLs that a real HTTP parser would treat differently, so percent-
// encoding and '+' are checked the way a client sends them, byte for byte up to the body Authing receives.
import { request } from 'node:http'
import { connect, type AddressInfo } from 'node:net'
import t from 'tap'
import { buildTestApp, DEV_KEY } from '../helpers/app.ts'

interface RawResponse { status: number, headers: Record<string, string | string[] | undefined>, body: string }

/** Sends `path` exactly as written (no client-side normalisation). */
function rawDelete (port: number, path: string, headers: Record<string, string> = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method: 'DELETE', path, headers: { authorization: `Bearer ${DEV_KEY}`, ...headers } }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => { body += chunk })
      res.on('end', () => { resolve({ status: res.statusCode ?? 0, headers: res.headers, body }) })
    })
    req.on('error', reject)
    req.end()
  })
}

t.test('percent-encoded ids reach Authing decoded, byte for byte', async (t) => {
  const { app, sandbox } = await buildTestApp(t)
  await app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.server.address() as AddressInfo

  const cases: Array<[string, string, string, string]> = [
    // raw path segment, userIdType, provider, what Authing must receive
    ['dept%2F42%3Alisi', 'external_id', 'moka', 'dept/42:lisi'],
    ['li.si+hr@example.com', 'email', 'ldap', 'li.si+hr@example.com'],
    ['%E7%8E%8B%E4%BA%94', 'username', 'scim', '王五'],
    ['lark%3Aou_8bae746eac07cd2564654140d2a9ac61', 'sync_relation', 'lark', 'lark:ou_8bae746eac07cd2564654140d2a9ac61'],
    ['%2B86%20139-0013-9000', 'phone', 'wechatwork', '+86 139-0013-9000']
  ]
  for (const [segment, userIdType, provider, expected] of cases) {
    const before = sandbox.received.length
    const response = await rawDelete(port, `/users/${segment}/sync-relations/${provider}?userIdType=${userIdType}`)
    const sent = JSON.parse(sandbox.received[before]?.body ?? '{}')
    t.equal(sent.userId, expected, `${segment} arrives as ${expected}`)
    t.equal(Buffer.from(sent.userId).toString('hex'), Buffer.from(expected).toString('hex'), 'same bytes')
    t.equal(response.status, 200, `${segment}: the seeded user was found and the relation removed`)
  }
})

t.test('a + in the path is a plus, never a space', async (t) => {
  const { app, sandbox } = await buildTestApp(t)
  await app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.server.address() as AddressInfo
  const response = await rawDelete(port, '/users/li.si+hr@example.com/sync-relations/moka?userIdType=email')
  t.equal(response.status, 200, 'the seeded user li.si+hr@example.com was found')
  t.equal(JSON.parse(sandbox.received[0]?.body ?? '{}').userId, 'li.si+hr@example.com')
})

t.test('a malformed escape over a real socket gets 400 MALFORMED_URL in the envelope', async (t) => {
  const { app, upstreamCalls } = await buildTestApp(t)
  await app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.server.address() as AddressInfo
  const response = await rawDelete(port, '/users/100%/sync-relations/lark')
  t.equal(response.status, 400)
  const body = JSON.parse(response.body)
  t.match(body, { statusCode: 400, code: 'MALFORMED_URL' })
  t.equal(body.requestId, response.headers['x-request-id'])
  t.equal(upstreamCalls(), 0)
})

t.test('DELETE with Content-Type: application/json and Content-Length: 0 over a real socket behaves like a bare DELETE', async (t) => {
  const { app } = await buildTestApp(t)
  await app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.server.address() as AddressInfo
  const response = await rawDelete(port, '/users/6229ffaa0b1c2d3e4f5a6b7c/sync-relations/lark', { 'content-type': 'application/json', 'content-length': '0' })
  t.equal(response.status, 200)
})

t.test('requests the HTTP parser rejects are answered in the envelope and audited', async (t) => {
  const { app, audit } = await buildTestApp(t)
  await app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.server.address() as AddressInfo
  const oversized = await rawDelete(port, '/users/6229ffaa0b1c2d3e4f5a6b7c/sync-relations/lark', { 'x-padding': 'p'.repeat(20_000) })
  t.equal(oversized.status, 431)
  const body = JSON.parse(oversized.body)
  t.match(body, { statusCode: 431, code: 'HEADERS_TOO_LARGE' })
  t.equal(body.requestId, oversized.headers['x-request-id'])

  const garbage = await new Promise<string>((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => { socket.write('NOT HTTP AT ALL\r\n\r\n') })
    let data = ''
    socket.on('data', (chunk) => { data += chunk.toString() })
    socket.on('end', () => { resolve(data) })
    socket.on('error', reject)
  })
  t.match(garbage, /^HTTP\/1\.1 400 /)
  t.match(garbage, /"code":"INVALID_REQUEST"/)
  const codes = audit().filter((record) => record.type === 'request').map((record) => record.code)
  t.ok(codes.includes('HEADERS_TOO_LARGE') && codes.includes('INVALID_REQUEST'), 'both are on the audit trail')
})

/** Writes raw bytes and collects everything until the server closes the connection (or a short quiet). */
function rawExchange (port: number, bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => { socket.write(bytes) })
    let data = ''
    socket.setTimeout(2000, () => { socket.destroy(); resolve(data) })
    socket.on('data', (chunk) => { data += chunk.toString() })
    socket.on('close', () => { resolve(data) })
    socket.on('error', reject)
  })
}

t.test('regression: requests Node would answer bare (CONNECT, an unmet Expect, no Host) get the envelope and are audited', async (t) => {
  const { app, audit } = await buildTestApp(t)
  await app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.server.address() as AddressInfo
  const connectAnswer = await rawExchange(port, 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n')
  t.match(connectAnswer, /^HTTP\/1\.1 405 /)
  t.match(connectAnswer, /"code":"METHOD_NOT_ALLOWED"/)
  const expectAnswer = await rawExchange(port, 'DELETE /users/6229ffaa0b1c2d3e4f5a6b7c/sync-relations/lark HTTP/1.1\r\nHost: x\r\nExpect: 999-foo\r\nAuthorization: Bearer sandbox-dev-key\r\n\r\n')
  t.match(expectAnswer, /^HTTP\/1\.1 417 /)
  t.match(expectAnswer, /"code":"EXPECTATION_FAILED"/)
  const noHost = await rawExchange(port, 'DELETE /users/6229ffaa0b1c2d3e4f5a6b7f/sync-relations/lark HTTP/1.1\r\nAuthorization: Bearer sandbox-dev-key\r\nConnection: close\r\n\r\n')
  t.match(noHost, /x-request-id: /)
  t.match(noHost, /"code":"AUTHING_NOT_FOUND"/, 'a request without Host is handled like any other')
  const codes = audit().map((record) => record.code)
  t.ok(codes.includes('METHOD_NOT_ALLOWED') && codes.includes('EXPECTATION_FAILED'), 'both refusals are on the trail')
})
