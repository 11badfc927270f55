// The cheap client path (issue 6) must not change what reaches Authing or what the client reads back:
// the prepared request (headers and body handed to our fetch beside ky's Request) puts the same bytes on
// the wire as the general path, and the buffered Response answers like a WHATWG Response.
import { getEventListeners } from 'node:events'
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import { AuthingClient } from '../../src/authing/client.ts'
import { acceptsPreparedRequest, BufferedResponse, createAgent, createFetch, ResponseTooLargeError } from '../../src/authing/transport.ts'
import { CircuitBreaker } from '../../src/resilience/breaker.ts'
import { Bulkhead } from '../../src/resilience/bulkhead.ts'

interface Recorded { method: string, url: string, headers: IncomingMessage['headers'], body: string }

async function recorder (t: { teardown: (fn: () => unknown) => void }, answer: (request: IncomingMessage, response: import('node:http').ServerResponse) => void): Promise<{ url: string, seen: Recorded[] }> {
  const seen: Recorded[] = []
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => {
      seen.push({ method: request.method ?? '', url: request.url ?? '', headers: request.headers, body: Buffer.concat(chunks).toString('utf8') })
      answer(request, response)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => { server.closeAllConnections(); server.close() })
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen }
}

const OK = '{"statusCode":200,"message":"ok","requestId":"r-1","data":{"success":true}}'
const VARYING = new Set(['date', 'x-authing-signature-nonce', 'authorization'])

t.test('the prepared path and the general path put the same request on the wire', async (t) => {
  const upstream = await recorder(t, (_request, response) => { response.writeHead(200, { 'content-type': 'application/json' }).end(OK) })
  const agent = createAgent({ keepAliveTimeoutMs: 1000, connections: 2, connectTimeoutMs: 1000 })
  t.teardown(() => agent.close())
  const fast = createFetch(agent)
  // The same transport behind a plain function: the client cannot tell it takes prepared requests.
  const general: typeof fetch = async (input, init) => fast(input, init)
  t.ok(acceptsPreparedRequest(fast))
  t.notOk(acceptsPreparedRequest(general))

  for (const fetchFunction of [fast, general]) {
    const client = new AuthingClient({
      baseUrl: upstream.url,
      credentials: { accessKeyId: 'AK', accessKeySecret: 'SK' },
      lang: 'en-US',
      tenantId: 'tenant-1',
      authMode: 'signature',
      attemptTimeoutMs: 2000,
      maxAttempts: 1,
      retryBaseMs: 1,
      retryMaxDelayMs: 10,
      bulkhead: new Bulkhead(2, 2),
      breaker: new CircuitBreaker({ failureThreshold: 5, openMs: 1000 }),
      fetch: fetchFunction
    })
    const report = await client.deleteUserSyncRelations({ provider: 'lark', userId: '王五 dept/42:x', userIdType: 'username' }, Date.now() + 3000)
    t.equal(report.mapped.ok, true)
  }
  const [viaPrepared, viaGeneral] = upstream.seen as [Recorded, Recorded]
  t.equal(viaPrepared.method, viaGeneral.method)
  t.equal(viaPrepared.url, viaGeneral.url)
  t.equal(viaPrepared.body, viaGeneral.body, 'the same body bytes')
  t.same(Object.keys(viaPrepared.headers).sort(), Object.keys(viaGeneral.headers).sort(), 'the same header names')
  for (const name of Object.keys(viaGeneral.headers)) {
    if (!VARYING.has(name)) t.equal(viaPrepared.headers[name], viaGeneral.headers[name], `same ${name}`)
  }
  t.equal(viaPrepared.headers['content-length'], String(Buffer.byteLength(viaPrepared.body)))
})

t.test('createFetch still serves a plain fetch call (URL and init, no prepared request)', async (t) => {
  const upstream = await recorder(t, (_request, response) => { response.writeHead(201, { 'content-type': 'text/plain', 'x-many': ['a', 'b'] }).end('created') })
  const agent = createAgent({ keepAliveTimeoutMs: 1000, connections: 2, connectTimeoutMs: 1000 })
  t.teardown(() => agent.close())
  const response = await createFetch(agent)(`${upstream.url}/x`, { method: 'POST', headers: { 'x-one': '1' }, body: 'hello' })
  t.equal(response.status, 201)
  t.equal(response.ok, true)
  t.equal(response.headers.get('X-Many'), 'a, b', 'repeated headers are joined as Headers does')
  t.equal(await response.text(), 'created')
  t.equal(upstream.seen[0]?.body, 'hello')
  t.equal(upstream.seen[0]?.headers['x-one'], '1')
})

t.test('the buffered Response reads like a WHATWG Response', async (t) => {
  const bytes = Buffer.from('\uFEFF{"a":"é"}', 'utf8')
  const buffered = new BufferedResponse(200, { 'content-type': 'application/json', 'set-x': ['1', '2'] }, bytes, 'http://x/')
  const standard = new Response(bytes, { status: 200, headers: { 'content-type': 'application/json' } })
  t.equal(Object.prototype.toString.call(buffered), '[object Response]', 'ky accepts it as a Response')
  t.equal(await buffered.clone().text(), await standard.clone().text(), 'text() drops a byte order mark like Response')
  t.same(await buffered.clone().json(), await standard.clone().json())
  t.same(Buffer.from(await buffered.clone().arrayBuffer()), Buffer.from(await standard.clone().arrayBuffer()))
  t.equal(buffered.headers.get('content-type'), 'application/json')
  t.equal(buffered.headers.get('missing'), null)
  t.same([...buffered.headers.keys()], ['content-type', 'set-x'])
  const fromStream = Buffer.from(await new Response(buffered.body).arrayBuffer())
  t.same(fromStream, bytes, 'body is a stream over the same bytes')
  t.equal(buffered.bodyUsed, false)
  await buffered.text()
  t.equal(buffered.bodyUsed, true)
  await t.rejects(buffered.text(), TypeError, 'a body is read once')
  t.throws(() => buffered.clone(), TypeError, 'a used body cannot be cloned')
  t.equal(new BufferedResponse(204, {}, null, 'http://x/').body, null, 'no body for 204')
  t.equal(await new BufferedResponse(204, {}, null, 'http://x/').text(), '')
})

t.test('an oversized answer is refused and an answer cut short fails', async (t) => {
  const upstream = await recorder(t, (request, response) => {
    if (request.url === '/big') {
      response.writeHead(200, { 'content-type': 'application/json' }).end('x'.repeat(70 * 1024))
      return
    }
    response.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' })
    response.write('{"partial":')
    setTimeout(() => { response.socket?.destroy() }, 20)
  })
  const agent = createAgent({ keepAliveTimeoutMs: 1000, connections: 2, connectTimeoutMs: 1000 })
  t.teardown(() => agent.close())
  const fetchFunction = createFetch(agent)
  await t.rejects(fetchFunction(`${upstream.url}/big`, { method: 'POST' }), ResponseTooLargeError)
  await t.rejects(fetchFunction(`${upstream.url}/cut`, { method: 'POST' }), 'a truncated body rejects')
})

t.test('the shutdown signal cuts off a call in flight as a timeout, and leaves no listener behind', async (t) => {
  let hang = false
  const upstream = await recorder(t, (_request, response) => {
    if (hang) return
    response.writeHead(200, { 'content-type': 'application/json' }).end(OK)
  })
  const agent = createAgent({ keepAliveTimeoutMs: 1000, connections: 2, connectTimeoutMs: 1000 })
  t.teardown(() => agent.destroy())
  const shutdown = new AbortController()
  const client = new AuthingClient({
    baseUrl: upstream.url,
    credentials: { accessKeyId: 'AK', accessKeySecret: 'SK' },
    lang: 'zh-CN',
    authMode: 'signature',
    attemptTimeoutMs: 10_000,
    maxAttempts: 3,
    retryBaseMs: 1,
    retryMaxDelayMs: 10,
    bulkhead: new Bulkhead(2, 2),
    breaker: new CircuitBreaker({ failureThreshold: 5, openMs: 1000 }),
    fetch: createFetch(agent),
    shutdownSignal: shutdown.signal
  })
  const done = await client.deleteUserSyncRelations({ provider: 'lark', userId: 'u1', userIdType: 'user_id' }, Date.now() + 20_000)
  t.equal(done.mapped.ok, true)
  t.equal(getEventListeners(shutdown.signal, 'abort').length, 0, 'no listener stays on the shutdown signal')

  hang = true
  const started = Date.now()
  const call = client.deleteUserSyncRelations({ provider: 'lark', userId: 'u2', userIdType: 'user_id' }, Date.now() + 20_000)
  setTimeout(() => { shutdown.abort() }, 100)
  const cut = await call
  t.ok(Date.now() - started < 5000, 'the call ends at shutdown, not at its timeout')
  t.equal(cut.mapped.ok, false)
  t.equal(cut.mapped.ok ? undefined : cut.mapped.error.code, 'UPSTREAM_TIMEOUT', 'answered as a timeout: the outcome is unknown')
  t.equal(cut.attempts, 1, 'not retried')
})
