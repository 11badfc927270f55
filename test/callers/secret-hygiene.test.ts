// The Authing secret, the request signatures and caller keys must never escape: not in logs (at the most
// verbose level), responses, the audit trail, metrics or the OpenAPI document, whatever happens upstream.
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { hashKey } from '../../src/callers/registry.ts'
import type { Fault } from '../../src/sandbox/emulator.ts'
import { buildTestApp, tempDir, ZHANGSAN } from '../helpers/app.ts'

const CALLER_KEY = 'srp_hygiene-test-caller-key-7f3a9c'

t.test('the secret, signatures and caller key appear nowhere, across success, every upstream error class, a timeout and a reset', async (t) => {
  const callers = join(tempDir('srp-hygiene-'), 'callers.json')
  writeFileSync(callers, JSON.stringify([{ name: 'hygiene', keys: [hashKey(CALLER_KEY)], providers: ['*'] }]))
  const logs: string[] = []
  const { app, sandbox, auditPath } = await buildTestApp(t, {
    CALLERS_FILE: callers,
    LOG_LEVEL: 'trace',
    UPSTREAM_ATTEMPT_TIMEOUT_MS: '200',
    UPSTREAM_TOTAL_TIMEOUT_MS: '400',
    UPSTREAM_MAX_ATTEMPTS: '2',
    UPSTREAM_RETRY_MAX_DELAY_MS: '1',
    BREAKER_FAILURE_THRESHOLD: '1000'
  }, { logStream: { write: (line) => { logs.push(line) } } })

  const faults: Array<Fault | undefined> = [
    undefined,
    { mode: 'http-status', status: 500 },
    { mode: 'http-status', status: 401 },
    { mode: 'http-429', retryAfter: 1 },
    { mode: 'html' },
    { mode: 'malformed-json' },
    { mode: 'throttle', times: 2 },
    { mode: 'latency', delayMs: 600, times: 2 },
    { mode: 'slow-body', delayMs: 600 },
    { mode: 'reset' }
  ]
  const seen: string[] = []
  for (const fault of faults) {
    sandbox.clearFaults()
    if (fault) sandbox.injectFault(fault)
    const response = await app.inject({ method: 'DELETE', url: `/users/${ZHANGSAN}/sync-relations/lark`, headers: { authorization: `Bearer ${CALLER_KEY}` } })
    seen.push(`${fault?.mode ?? 'none'}:${response.statusCode}`)
    logs.push(JSON.stringify(response.headers), response.body)
  }
  // A wrong key and the unknown-user answer too.
  logs.push((await app.inject({ method: 'DELETE', url: `/users/${ZHANGSAN}/sync-relations/lark`, headers: { authorization: `Bearer ${CALLER_KEY}x` } })).body)
  logs.push((await app.inject({ method: 'GET', url: '/metrics' })).body)
  logs.push((await app.inject({ method: 'GET', url: '/docs/json' })).body)
  await new Promise((resolve) => setTimeout(resolve, 700)) // let the slow answers finish
  logs.push(readFileSync(auditPath, 'utf8'))

  t.ok(seen.includes('none:200') && seen.some((s) => s.endsWith(':504')) && seen.some((s) => s.endsWith(':502')), `every class was exercised: ${seen.join(' ')}`)
  const signatures = sandbox.received
    .map((request) => String(request.headers.authorization ?? ''))
    .filter((value) => value.startsWith('authing '))
    .map((value) => value.slice(value.indexOf(':') + 1))
  t.ok(signatures.length >= faults.length, 'signed requests were sent')
  const everything = logs.join('\n')
  t.ok(logs.length > faults.length * 2, 'log output was captured')
  t.notOk(everything.includes(sandbox.accessKeySecret), 'the Authing secret never appears')
  t.notOk(everything.includes(CALLER_KEY), 'the caller key never appears')
  for (const signature of signatures) t.notOk(everything.includes(signature), `signature ${signature.slice(0, 6)}… never appears`)
  t.notOk(everything.includes(sandbox.url), 'the upstream address never appears')
})
