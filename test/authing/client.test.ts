// AuthingClient on its own, against a plain HTTP stub: regressions found by reading the code.
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import { AuthingClient, type AuthingClientOptions } from '../../src/authing/client.ts'
import { createAgent, createFetch } from '../../src/authing/transport.ts'
import { CircuitBreaker } from '../../src/resilience/breaker.ts'
import { Bulkhead } from '../../src/resilience/bulkhead.ts'

const INPUT = { provider: 'lark', userId: 'u1', userIdType: 'user_id' }

async function stub (t: { teardown: (fn: () => unknown) => void }, answer: (url: string) => string): Promise<Omit<AuthingClientOptions, 'authMode' | 'breaker'>> {
  const server: Server = createServer((request, response) => {
    request.resume()
    request.on('end', () => { response.writeHead(200, { 'content-type': 'application/json' }).end(answer(request.url ?? '')) })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const agent = createAgent({ keepAliveTimeoutMs: 1000, connections: 2, connectTimeoutMs: 1000 })
  t.teardown(async () => { await agent.close(); server.close() })
  return {
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    credentials: { accessKeyId: 'AK', accessKeySecret: 'SK' },
    lang: 'zh-CN',
    attemptTimeoutMs: 2000,
    maxAttempts: 1,
    retryBaseMs: 1,
    retryMaxDelayMs: 10,
    bulkhead: new Bulkhead(2, 2),
    fetch: createFetch(agent)
  }
}

t.test('regression: a token endpoint answering JSON null maps to UPSTREAM_BAD_RESPONSE instead of throwing', async (t) => {
  const options = await stub(t, (url) => (url.includes('token') ? 'null' : '{"statusCode":200,"message":"ok","data":{"success":true}}'))
  const client = new AuthingClient({ ...options, authMode: 'token', breaker: new CircuitBreaker({ failureThreshold: 5, openMs: 1000 }) })
  const report = await client.deleteUserSyncRelations(INPUT, Date.now() + 3000)
  t.equal(report.mapped.ok, false)
  t.equal(report.mapped.ok ? undefined : report.mapped.error.code, 'UPSTREAM_BAD_RESPONSE')
})

t.test('regression: a half-open probe that fails inside the client does not wedge the circuit', async (t) => {
  const options = await stub(t, () => '{"statusCode":200,"message":"ok","data":{"success":true}}')
  let now = 0
  const breaker = new CircuitBreaker({ failureThreshold: 1, openMs: 1000, now: () => now })
  breaker.failure(breaker.admit())
  t.equal(breaker.state, 'open')
  now = 1000
  let throwOnce = true
  const client = new AuthingClient({ ...options, authMode: 'signature', breaker, onAttempt: () => { if (throwOnce) { throwOnce = false; throw new Error('observer failed') } } })
  await t.rejects(client.deleteUserSyncRelations(INPUT, Date.now() + 3000), /observer failed/)
  const later = await client.deleteUserSyncRelations(INPUT, Date.now() + 3000)
  t.equal(later.mapped.ok, true, 'the next call is let through as a probe, and succeeds')
  t.equal(breaker.state, 'closed')
})
