// Shutdown is bounded: calls that outlast SHUTDOWN_TIMEOUT_MS are answered as timeouts with their outcome
// records, queued calls are refused, and a client that never finishes its request cannot hold the process.
import { connect, type AddressInfo } from 'node:net'
import t from 'tap'
import { startSandbox } from '../../src/sandbox/emulator.ts'
import { AUTH, buildTestApp, recordsFor, ZHANGSAN } from '../helpers/app.ts'

t.test('calls still waiting on Authing near the shutdown bound get 504 with an outcome record; queued ones get 503', async (t) => {
  // The sandbox lives outside the app here, so closing the app does not also close Authing under it.
  const sandbox = await startSandbox()
  t.teardown(() => sandbox.close())
  const logs: string[] = []
  const { app, audit } = await buildTestApp(t, {
    SHUTDOWN_TIMEOUT_MS: '1000',
    UPSTREAM_ATTEMPT_TIMEOUT_MS: '30000',
    UPSTREAM_TOTAL_TIMEOUT_MS: '30000',
    UPSTREAM_MAX_CONCURRENCY: '2',
    UPSTREAM_MAX_QUEUE: '5',
    LOG_LEVEL: 'warn'
  }, { sandbox, logStream: { write: (line) => { logs.push(line) } } })
  sandbox.injectFault({ mode: 'latency', delayMs: 5000, times: 4 })
  const providers = ['lark', 'wechatwork', 'dingtalk']
  const calls = providers.map((provider) => app.inject({ method: 'DELETE', url: `/users/${ZHANGSAN}/sync-relations/${provider}`, headers: AUTH }))
  await new Promise((resolve) => setTimeout(resolve, 100))
  const started = Date.now()
  const closing = app.close()
  const responses = await Promise.all(calls)
  const elapsed = Date.now() - started
  await closing
  t.ok(elapsed < 1000, `answered within the bound (${elapsed} ms)`)
  const byStatus = responses.map((response) => `${response.statusCode} ${response.json().code}`).sort()
  const expected = ['503 SHUTTING_DOWN', '504 UPSTREAM_TIMEOUT', '504 UPSTREAM_TIMEOUT']
  t.same(byStatus, expected, 'two cut off as timeouts, the queued one refused')
  if (JSON.stringify(byStatus) !== JSON.stringify(expected)) t.comment(logs.join(''))
  for (const response of responses) {
    const records = recordsFor(audit(), String(response.headers['x-request-id']))
    t.same(records.map((record) => record.type), ['attempt', 'outcome'], 'every call has its attempt and outcome')
  }
  t.match(audit().at(-1), { type: 'lifecycle', event: 'stop' })
})

t.test('regression: a client that stalls mid-body gets 408 instead of a connection held open forever', async (t) => {
  const { app, audit } = await buildTestApp(t, { REQUEST_TIMEOUT_MS: '1000' })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.server.address() as AddressInfo
  const started = Date.now()
  const answer = await new Promise<string>((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.write(`DELETE /users/${ZHANGSAN}/sync-relations/lark HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer sandbox-dev-key\r\nContent-Length: 50\r\n\r\nabc`)
    })
    let data = ''
    socket.on('data', (chunk) => { data += chunk.toString() })
    socket.on('close', () => { resolve(data) })
    socket.on('error', reject)
  })
  t.ok(Date.now() - started < 5000, 'answered within seconds')
  t.match(answer, /^HTTP\/1\.1 408 /)
  t.match(answer, /"code":"REQUEST_TIMEOUT"/)
  t.ok(audit().some((record) => record.code === 'REQUEST_TIMEOUT'), 'audited')
})
