import t from 'tap'
import { AUTH, buildTestApp, ZHANGSAN, ZHAOLIU } from '../helpers/app.ts'

t.test('health endpoints need no key, are not audited, and stay out of the OpenAPI document', async (t) => {
  const { app, audit } = await buildTestApp(t)
  const before = audit().length
  const live = await app.inject({ method: 'GET', url: '/health/live' })
  t.equal(live.statusCode, 200)
  t.same(live.json(), { status: 'ok' })
  const ready = await app.inject({ method: 'GET', url: '/health/ready' })
  t.equal(ready.statusCode, 200)
  t.same(ready.json(), { status: 'ok', checks: { audit: true, circuit: 'closed', draining: false } })
  await app.inject({ method: 'GET', url: '/metrics' })
  t.equal(audit().length, before, 'no audit records for probes')
  const paths = Object.keys((await app.inject({ method: 'GET', url: '/docs/json' })).json().paths)
  t.same(paths, ['/users/{userId}/sync-relations/{provider}'])
})

t.test('while draining, readiness fails and new calls get 503 SHUTTING_DOWN, audited', async (t) => {
  const { app, audit, upstreamCalls } = await buildTestApp(t)
  app.draining = true
  const ready = await app.inject({ method: 'GET', url: '/health/ready' })
  t.equal(ready.statusCode, 503)
  t.match(ready.json(), { status: 'unavailable', checks: { draining: true } })
  const refused = await app.inject({ method: 'DELETE', url: `/users/${ZHANGSAN}/sync-relations/lark`, headers: AUTH })
  t.equal(refused.statusCode, 503)
  t.match(refused.json(), { code: 'SHUTTING_DOWN' })
  t.equal(refused.headers['retry-after'], '1')
  t.equal(upstreamCalls(), 0)
  t.match(audit().at(-1), { type: 'request', outcome: 'unavailable', code: 'SHUTTING_DOWN' })
  app.draining = false
})

t.test('metrics count requests, upstream calls by outcome and code, attempts, audit writes, and build info', async (t) => {
  const { app } = await buildTestApp(t)
  await app.inject({ method: 'DELETE', url: `/users/${ZHANGSAN}/sync-relations/lark`, headers: AUTH })
  await app.inject({ method: 'DELETE', url: `/users/${ZHAOLIU}/sync-relations/lark`, headers: AUTH })
  await app.inject({ method: 'DELETE', url: '/users/nobody/sync-relations/lark', headers: AUTH })
  await app.inject({ method: 'GET', url: '/health/ready' })
  const response = await app.inject({ method: 'GET', url: '/metrics' })
  t.equal(response.statusCode, 200)
  t.match(response.headers['content-type'], /^text\/plain/)
  const text = response.body
  const route = '/users/:userId/sync-relations/:provider'
  t.match(text, new RegExp(`http_requests_total\\{route="${route.replaceAll('/', '\\/')}",method="DELETE",status_code="200"\\} 1`))
  t.match(text, /http_requests_total\{[^}]*status_code="404"\} 2/)
  t.notMatch(text, /route="\/health\/ready"/, 'probes are not counted as traffic')
  t.match(text, /http_request_duration_seconds_bucket\{le="0.005"/)
  t.match(text, /authing_requests_total\{outcome="success",status_code="200",api_code="none"\} 1/)
  t.match(text, /authing_requests_total\{outcome="authing_error",status_code="404",api_code="2004"\} 1/)
  t.match(text, /authing_requests_total\{outcome="authing_error",status_code="404",api_code="none"\} 1/)
  t.match(text, /authing_request_duration_seconds_count\{outcome="success"\} 1/)
  t.match(text, /authing_call_attempts_sum 3/)
  t.match(text, /authing_queue_depth 0/)
  t.match(text, /authing_circuit_state\{state="closed"\} 1/)
  t.match(text, /audit_records_total \d+/)
  t.match(text, /audit_write_duration_seconds_count \d+/)
  t.match(text, /audit_write_failures_total\{stage="outcome"\} 0/)
  t.match(text, /sync_relations_proxy_build_info\{version="\d+\.\d+\.\d+",node_version="v24\./)
  t.match(text, /process_cpu_seconds_total/)
})

t.test('METRICS_ENABLED=false removes /metrics', async (t) => {
  const { app } = await buildTestApp(t, { METRICS_ENABLED: 'false' })
  t.equal((await app.inject({ method: 'GET', url: '/metrics' })).statusCode, 404)
})
