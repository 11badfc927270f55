// Each way Authing can misbehave, injected into the sandbox: the caller's status and code, how many
// requests reached Authing (each freshly signed, so with a distinct nonce), and the audit outcome.
import t from 'tap'
import type { Fault } from '../../src/sandbox/emulator.ts'
import { AUTH, buildTestApp, recordsFor, ZHANGSAN, ZHAOLIU } from '../helpers/app.ts'

const FAST = {
  UPSTREAM_ATTEMPT_TIMEOUT_MS: '300',
  UPSTREAM_TOTAL_TIMEOUT_MS: '2000',
  UPSTREAM_MAX_ATTEMPTS: '3',
  BREAKER_FAILURE_THRESHOLD: '1000'
}
const noJitter = { random: () => 0 }

interface Row {
  name: string
  faults: Fault[]
  /** Make one successful call first, then wait this long, so the next request reuses a kept-alive socket that sat idle. */
  warm?: number
  status: number
  code?: string
  attempts: number
  outcome: string
  retryAfter?: string
}

const ROWS: Row[] = [
  { name: 'added latency under the attempt timeout', faults: [{ mode: 'latency', delayMs: 50 }], status: 200, attempts: 1, outcome: 'success' },
  { name: 'latency beyond the attempt timeout is not retried (Authing may have acted)', faults: [{ mode: 'latency', delayMs: 600 }], status: 504, code: 'UPSTREAM_TIMEOUT', attempts: 1, outcome: 'upstream_fault' },
  { name: 'a slow body beyond the attempt timeout', faults: [{ mode: 'slow-body', delayMs: 600 }], status: 504, code: 'UPSTREAM_TIMEOUT', attempts: 1, outcome: 'upstream_fault' },
  { name: 'a reset on a fresh connection is not retried', faults: [{ mode: 'reset' }], status: 502, code: 'UPSTREAM_CONNECTION_FAILED', attempts: 1, outcome: 'upstream_fault' },
  { name: 'a reset of a kept-alive socket reused after an idle second, before any answer, is retried (a stale socket)', faults: [{ mode: 'reset' }], warm: 1100, status: 200, attempts: 2, outcome: 'success' },
  { name: 'regression: a reset of a socket reused at once is not retried (the far side may have acted before dropping it)', faults: [{ mode: 'reset' }], warm: 0, status: 502, code: 'UPSTREAM_CONNECTION_FAILED', attempts: 1, outcome: 'upstream_fault' },
  { name: 'HTTP 500 is not retried', faults: [{ mode: 'http-status', status: 500 }], status: 502, code: 'UPSTREAM_ERROR', attempts: 1, outcome: 'upstream_fault' },
  { name: 'HTTP 503 is retried, then succeeds', faults: [{ mode: 'http-status', status: 503 }], status: 200, attempts: 2, outcome: 'success' },
  { name: 'HTTP 503 on every attempt', faults: [{ mode: 'http-status', status: 503, times: 3 }], status: 503, code: 'UPSTREAM_UNAVAILABLE', attempts: 3, outcome: 'upstream_fault', retryAfter: '1' },
  { name: 'HTTP 429 with Retry-After: 0 is retried, then succeeds', faults: [{ mode: 'http-429', retryAfter: 0 }], status: 200, attempts: 2, outcome: 'success' },
  { name: 'HTTP 429 asking for a longer wait than allowed goes back to the caller with Retry-After', faults: [{ mode: 'http-429', retryAfter: 30 }], status: 429, code: 'AUTHING_THROTTLED', attempts: 1, outcome: 'authing_error', retryAfter: '30' },
  { name: 'an HTML error page with HTTP 502', faults: [{ mode: 'html' }], status: 502, code: 'UPSTREAM_ERROR', attempts: 1, outcome: 'upstream_fault' },
  { name: 'an HTML page with HTTP 200', faults: [{ mode: 'html', status: 200 }], status: 502, code: 'UPSTREAM_BAD_RESPONSE', attempts: 1, outcome: 'upstream_fault' },
  { name: 'malformed JSON', faults: [{ mode: 'malformed-json' }], status: 502, code: 'UPSTREAM_BAD_RESPONSE', attempts: 1, outcome: 'upstream_fault' },
  { name: 'a throttle statusCode once is retried, then succeeds', faults: [{ mode: 'throttle' }], status: 200, attempts: 2, outcome: 'success' },
  { name: 'a throttle statusCode on every attempt', faults: [{ mode: 'throttle', times: 3 }], status: 429, code: 'AUTHING_THROTTLED', attempts: 3, outcome: 'authing_error', retryAfter: '1' }
]

for (const row of ROWS) {
  t.test(`${row.name} → ${row.status}${row.code ? ` ${row.code}` : ''}, ${row.attempts} attempt(s)`, async (t) => {
    const { app, sandbox, audit } = await buildTestApp(t, FAST, noJitter)
    await app.listen({ port: 0, host: '127.0.0.1' }) // the upstream is a real socket either way; this keeps timings honest
    if (row.warm !== undefined) {
      t.equal((await app.inject({ method: 'DELETE', url: `/users/${ZHANGSAN}/sync-relations/wechatwork`, headers: AUTH })).statusCode, 200, 'warm-up call')
      await new Promise((resolve) => setTimeout(resolve, row.warm))
    }
    const before = sandbox.received.length
    for (const fault of row.faults) sandbox.injectFault(fault)
    const response = await app.inject({ method: 'DELETE', url: `/users/${ZHANGSAN}/sync-relations/lark`, headers: AUTH })

    t.equal(response.statusCode, row.status, 'status')
    if (row.code) t.equal(response.json().code, row.code, 'code')
    if (row.retryAfter) t.equal(response.headers['retry-after'], row.retryAfter, 'Retry-After')
    await new Promise((resolve) => setTimeout(resolve, row.status === 504 ? 400 : 0)) // let a late answer land
    const requests = sandbox.received.slice(before)
    t.equal(requests.length, row.attempts, 'requests that reached Authing')
    const nonces = requests.map((request) => request.headers['x-authing-signature-nonce'])
    t.equal(new Set(nonces).size, nonces.length, 'each attempt has its own nonce')
    t.notOk(requests.some((request) => request.answer.apiCode === 1306), 'no attempt was refused as a replay')

    const outcome = recordsFor(audit(), String(response.headers['x-request-id'])).find((record) => record.type === 'outcome')
    t.match(outcome, { outcome: row.outcome, status: row.status, attempts: row.attempts, ...(row.code ? { code: row.code } : {}) }, 'audit outcome')
    t.notOk(JSON.stringify(response.json()).includes(sandbox.url.replace('http://', '')), 'no upstream address in the answer')
  })
}

t.test('connection refused is retried up to the attempt limit, then 502', async (t) => {
  const { app } = await buildTestApp(t, { ...FAST, SANDBOX: 'false', AUTHING_HOST: 'http://127.0.0.1:9', AUTHING_ACCESS_KEY_ID: 'AK', AUTHING_ACCESS_KEY_SECRET: 'SK', AUDIT_HMAC_KEY: 'k'.repeat(32), CALLERS_FILE: callersFileForDevKey() }, noJitter)
  const response = await app.inject({ method: 'DELETE', url: `/users/${ZHANGSAN}/sync-relations/lark`, headers: AUTH })
  t.equal(response.statusCode, 502)
  t.equal(response.json().code, 'UPSTREAM_CONNECTION_FAILED')
  t.notOk(response.body.includes('127.0.0.1'), 'the upstream host is not revealed')
})

t.test('the total deadline bounds a call, retries included', async (t) => {
  const { app, sandbox } = await buildTestApp(t, { UPSTREAM_ATTEMPT_TIMEOUT_MS: '250', UPSTREAM_TOTAL_TIMEOUT_MS: '400', BREAKER_FAILURE_THRESHOLD: '1000' }, noJitter)
  sandbox.injectFault({ mode: 'latency', delayMs: 2000, times: 5 })
  const started = Date.now()
  const response = await app.inject({ method: 'DELETE', url: `/users/${ZHANGSAN}/sync-relations/lark`, headers: AUTH })
  t.equal(response.statusCode, 504)
  t.ok(Date.now() - started < 1500, 'the caller was not left hanging')
})

t.test('the circuit opens after sustained faults, fails fast, and closes after a successful probe', async (t) => {
  const { app, sandbox, audit } = await buildTestApp(t, { ...FAST, BREAKER_FAILURE_THRESHOLD: '2', BREAKER_OPEN_MS: '300' }, noJitter)
  sandbox.injectFault({ mode: 'http-status', status: 500, times: 2 })
  for (let i = 0; i < 2; i++) {
    t.equal((await app.inject({ method: 'DELETE', url: `/users/${ZHANGSAN}/sync-relations/lark`, headers: AUTH })).statusCode, 502)
  }
  const before = sandbox.received.length
  const open = await app.inject({ method: 'DELETE', url: `/users/${ZHANGSAN}/sync-relations/lark`, headers: AUTH })
  t.equal(open.statusCode, 503)
  t.equal(open.json().code, 'UPSTREAM_CIRCUIT_OPEN')
  t.ok(Number(open.headers['retry-after']) >= 1)
  t.equal(sandbox.received.length, before, 'an open circuit sends nothing')
  t.match(recordsFor(audit(), String(open.headers['x-request-id'])), [{ type: 'request', outcome: 'unavailable', status: 503, code: 'UPSTREAM_CIRCUIT_OPEN' }], 'one record, no attempt')
  t.equal((await app.inject({ method: 'GET', url: '/health/ready' })).statusCode, 503, 'not ready while open')
  t.match((await app.inject({ method: 'GET', url: '/metrics' })).body, /authing_circuit_state\{state="open"\} 1/)

  await new Promise((resolve) => setTimeout(resolve, 350))
  const probe = await app.inject({ method: 'DELETE', url: `/users/${ZHANGSAN}/sync-relations/lark`, headers: AUTH })
  t.equal(probe.statusCode, 200, 'the probe goes through and succeeds')
  t.equal((await app.inject({ method: 'GET', url: '/health/ready' })).statusCode, 200, 'ready again')
})

t.test('past the concurrency bound and a full queue, callers get 503 with Retry-After at once', async (t) => {
  const { app, sandbox, audit } = await buildTestApp(t, { ...FAST, UPSTREAM_MAX_CONCURRENCY: '1', UPSTREAM_MAX_QUEUE: '1' }, noJitter)
  sandbox.injectFault({ mode: 'latency', delayMs: 200, times: 2 })
  const first = app.inject({ method: 'DELETE', url: `/users/${ZHANGSAN}/sync-relations/lark`, headers: AUTH })
  const second = app.inject({ method: 'DELETE', url: `/users/${ZHANGSAN}/sync-relations/wechatwork`, headers: AUTH })
  await new Promise((resolve) => setTimeout(resolve, 50))
  const started = Date.now()
  const third = await app.inject({ method: 'DELETE', url: `/users/${ZHANGSAN}/sync-relations/dingtalk`, headers: AUTH })
  t.equal(third.statusCode, 503)
  t.equal(third.json().code, 'UPSTREAM_OVERLOADED')
  t.equal(third.headers['retry-after'], '1')
  t.ok(Date.now() - started < 150, 'refused at once, not after waiting')
  t.match(recordsFor(audit(), String(third.headers['x-request-id'])), [{ type: 'request', outcome: 'unavailable', code: 'UPSTREAM_OVERLOADED' }])
  t.equal((await first).statusCode, 200)
  t.equal((await second).statusCode, 200, 'the queued call was served')
})

t.test('a relation that is already gone is reported, not retried', async (t) => {
  const { app, sandbox } = await buildTestApp(t, FAST, noJitter)
  const response = await app.inject({ method: 'DELETE', url: `/users/${ZHAOLIU}/sync-relations/lark`, headers: AUTH })
  t.equal(response.statusCode, 404)
  t.equal(sandbox.received.length, 1)
})

function callersFileForDevKey (): string {
  return new URL('../fixtures/callers-dev.json', import.meta.url).pathname
}
