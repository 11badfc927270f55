import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { hashKey } from '../../src/callers/registry.ts'
import { AUTH, buildTestApp, LISI, recordsFor, tempDir, WANGWU, ZHANGSAN, ZHAOLIU } from '../helpers/app.ts'

const HR_KEY = 'srp_hr-offboarding-test-key-0001'
const HR_NEXT_KEY = 'srp_hr-offboarding-test-key-0002'
const OPS_KEY = 'srp_ops-test-key-0001'

function callersFile (entries: unknown): string {
  const file = join(tempDir('srp-callers-'), 'callers.json')
  writeFileSync(file, JSON.stringify(entries))
  return file
}

const CALLERS = [
  { name: 'hr-offboarding', keys: [hashKey(HR_KEY), hashKey(HR_NEXT_KEY)], providers: ['moka', 'lark'] },
  { name: 'ops', keys: [hashKey(OPS_KEY)], providers: ['*'] }
]

const bearer = (key: string): Record<string, string> => ({ authorization: `Bearer ${key}` })

t.test('a missing key gets 401 with WWW-Authenticate: Bearer, audited, and nothing reaches Authing', async (t) => {
  const { app, audit, upstreamCalls } = await buildTestApp(t)
  const response = await app.inject({ method: 'DELETE', url: `/users/${ZHANGSAN}/sync-relations/lark` })
  t.equal(response.statusCode, 401)
  t.match(response.headers['www-authenticate'], /^Bearer realm="sync-relations-proxy"$/)
  t.match(response.json(), { statusCode: 401, code: 'UNAUTHENTICATED' })
  t.match(recordsFor(audit(), String(response.headers['x-request-id'])), [{ type: 'request', status: 401, reason: 'missing key' }])
  t.equal(upstreamCalls(), 0)
})

t.test('an unknown or malformed key gets 401 with error="invalid_token"', async (t) => {
  const { app, audit, upstreamCalls } = await buildTestApp(t)
  for (const authorization of ['Bearer not-a-key', 'Basic c2FuZGJveC1kZXYta2V5', 'Bearer', `Bearer ${'k'.repeat(600)}`, 'Bearer sandbox-dev-key extra']) {
    const response = await app.inject({ method: 'DELETE', url: `/users/${ZHANGSAN}/sync-relations/lark`, headers: { authorization } })
    t.equal(response.statusCode, 401, authorization.slice(0, 30))
    t.match(response.headers['www-authenticate'], /error="invalid_token"/)
    const [record] = recordsFor(audit(), String(response.headers['x-request-id']))
    t.match(record?.reason, /unknown key|malformed/)
    t.notOk(JSON.stringify(record).includes('not-a-key'), 'the presented key is not audited')
  }
  t.equal(upstreamCalls(), 0)
})

t.test('the bearer scheme is case-insensitive, as HTTP says', async (t) => {
  const { app } = await buildTestApp(t)
  const response = await app.inject({ method: 'DELETE', url: `/users/${ZHANGSAN}/sync-relations/lark`, headers: { authorization: 'bearer sandbox-dev-key' } })
  t.equal(response.statusCode, 200)
})

t.test('CALLERS_FILE replaces the sandbox caller; each caller acts only on its providers', async (t) => {
  const { app, audit, upstreamCalls } = await buildTestApp(t, { CALLERS_FILE: callersFile(CALLERS) })
  const dev = await app.inject({ method: 'DELETE', url: `/users/${ZHANGSAN}/sync-relations/lark`, headers: AUTH })
  t.equal(dev.statusCode, 401, 'the development key no longer works')

  const allowed = await app.inject({ method: 'DELETE', url: `/users/${ZHANGSAN}/sync-relations/lark`, headers: bearer(HR_KEY) })
  t.equal(allowed.statusCode, 200)
  t.match(recordsFor(audit(), String(allowed.headers['x-request-id'])), [{ type: 'attempt', caller: 'hr-offboarding' }, { type: 'outcome', caller: 'hr-offboarding' }])

  const calls = upstreamCalls()
  const forbidden = await app.inject({ method: 'DELETE', url: `/users/${ZHANGSAN}/sync-relations/dingtalk`, headers: bearer(HR_KEY) })
  t.equal(forbidden.statusCode, 403)
  t.match(forbidden.json(), { code: 'FORBIDDEN_PROVIDER' })
  t.match(recordsFor(audit(), String(forbidden.headers['x-request-id'])), [{ type: 'request', status: 403, caller: 'hr-offboarding', reason: 'provider not allowed', provider: 'dingtalk' }])
  t.equal(upstreamCalls(), calls, 'a forbidden call does not reach Authing')

  const wildcard = await app.inject({ method: 'DELETE', url: `/users/${ZHANGSAN}/sync-relations/dingtalk`, headers: bearer(OPS_KEY) })
  t.equal(wildcard.statusCode, 200, '"*" allows every provider')
})

t.test('both keys of a caller work during a rotation; SIGHUP applies a revocation without a restart', async (t) => {
  const file = callersFile(CALLERS)
  const { app } = await buildTestApp(t, { CALLERS_FILE: file })
  t.equal((await app.inject({ method: 'DELETE', url: `/users/${LISI}/sync-relations/moka`, headers: bearer(HR_KEY) })).statusCode, 200)
  t.equal((await app.inject({ method: 'DELETE', url: `/users/${WANGWU}/sync-relations/lark`, headers: bearer(HR_NEXT_KEY) })).statusCode, 200)

  writeFileSync(file, JSON.stringify([{ ...CALLERS[0], keys: [hashKey(HR_NEXT_KEY)] }, CALLERS[1]]))
  process.emit('SIGHUP', 'SIGHUP')
  const revoked = await app.inject({ method: 'DELETE', url: `/users/${ZHANGSAN}/sync-relations/lark`, headers: bearer(HR_KEY) })
  t.equal(revoked.statusCode, 401, 'the old key is revoked')
  const kept = await app.inject({ method: 'DELETE', url: `/users/${ZHANGSAN}/sync-relations/lark`, headers: bearer(HR_NEXT_KEY) })
  t.equal(kept.statusCode, 200, 'the new key keeps working')
})

t.test('a broken callers file on reload keeps the last good callers and says why in the log', async (t) => {
  const file = callersFile(CALLERS)
  const lines: string[] = []
  const { app } = await buildTestApp(t, { CALLERS_FILE: file, LOG_LEVEL: 'info' }, { logStream: { write: (line) => { lines.push(line) } } })
  for (const broken of ['{not json', JSON.stringify([{ name: 'x', keys: ['plaintext-key'], providers: ['lark'] }])]) {
    writeFileSync(file, broken)
    process.emit('SIGHUP', 'SIGHUP')
    const response = await app.inject({ method: 'DELETE', url: `/users/${ZHANGSAN}/sync-relations/lark`, headers: bearer(HR_KEY) })
    t.not(response.statusCode, 401, 'the previous callers still apply')
  }
  const rejected = lines.map((line) => JSON.parse(line)).filter((entry) => entry.msg === 'callers file rejected; keeping the previous callers')
  t.equal(rejected.length, 2)
  t.match(rejected[0].problems, ['the file is not valid JSON'])
  t.match(rejected[1].problems.join(' '), /keys\/0/)
})

t.test('the callers file is re-read when it changes', async (t) => {
  const file = callersFile(CALLERS)
  const { app } = await buildTestApp(t, { CALLERS_FILE: file }, { callersWatchIntervalMs: 50 })
  writeFileSync(file, JSON.stringify([CALLERS[1]]))
  let status = 0
  for (let i = 0; i < 100 && status !== 401; i++) {
    await new Promise((resolve) => setTimeout(resolve, 50))
    status = (await app.inject({ method: 'DELETE', url: `/users/${ZHANGSAN}/sync-relations/lark`, headers: bearer(HR_KEY) })).statusCode
  }
  t.equal(status, 401, 'the removed caller is refused without a signal')
})

t.test('a caller over its rate limit gets 429 with Retry-After and rate-limit headers; other callers are unaffected', async (t) => {
  const { app, audit } = await buildTestApp(t, { CALLERS_FILE: callersFile(CALLERS), CALLER_RATE_LIMIT_MAX: '2' })
  const url = `/users/${ZHAOLIU}/sync-relations/lark`
  const first = await app.inject({ method: 'DELETE', url, headers: bearer(HR_KEY) })
  t.equal(first.headers['x-ratelimit-limit'], '2')
  await app.inject({ method: 'DELETE', url, headers: bearer(HR_NEXT_KEY) })
  const limited = await app.inject({ method: 'DELETE', url, headers: bearer(HR_KEY) })
  t.equal(limited.statusCode, 429)
  t.match(limited.json(), { statusCode: 429, code: 'RATE_LIMITED' })
  t.ok(Number(limited.headers['retry-after']) >= 1)
  t.equal(limited.headers['x-ratelimit-remaining'], '0')
  t.match(recordsFor(audit(), String(limited.headers['x-request-id'])), [{ type: 'request', status: 429, code: 'RATE_LIMITED', caller: 'hr-offboarding', reason: 'rate limit' }])
  const other = await app.inject({ method: 'DELETE', url, headers: bearer(OPS_KEY) })
  t.not(other.statusCode, 429, 'the limit is per caller, not global')
})

t.test('a caller entry can override the rate limit', async (t) => {
  const entries = [{ ...CALLERS[0], rateLimitMax: 1 }, CALLERS[1]]
  const { app } = await buildTestApp(t, { CALLERS_FILE: callersFile(entries) })
  const url = `/users/${ZHAOLIU}/sync-relations/lark`
  await app.inject({ method: 'DELETE', url, headers: bearer(HR_KEY) })
  t.equal((await app.inject({ method: 'DELETE', url, headers: bearer(HR_KEY) })).statusCode, 429)
  t.not((await app.inject({ method: 'DELETE', url, headers: bearer(OPS_KEY) })).statusCode, 429)
})

t.test('a caller over its in-flight bound gets 429 TOO_MANY_IN_FLIGHT at once', async (t) => {
  const { app, sandbox } = await buildTestApp(t, { CALLER_MAX_IN_FLIGHT: '1' })
  sandbox.injectFault({ mode: 'latency', delayMs: 300 })
  const slow = app.inject({ method: 'DELETE', url: `/users/${ZHANGSAN}/sync-relations/lark`, headers: AUTH })
  await new Promise((resolve) => setTimeout(resolve, 50))
  const second = await app.inject({ method: 'DELETE', url: `/users/${ZHANGSAN}/sync-relations/wechatwork`, headers: AUTH })
  t.equal(second.statusCode, 429)
  t.match(second.json(), { code: 'TOO_MANY_IN_FLIGHT' })
  t.equal(second.headers['retry-after'], '1')
  t.equal((await slow).statusCode, 200)
  const third = await app.inject({ method: 'DELETE', url: `/users/${ZHANGSAN}/sync-relations/wechatwork`, headers: AUTH })
  t.equal(third.statusCode, 200, 'the slot is given back')
})


t.test('regression: an address that keeps failing authentication is slowed down with 429, and its ids are only hashed', async (t) => {
  const { app, audit } = await buildTestApp(t, { UNAUTHENTICATED_RATE_LIMIT_MAX: '3' })
  const statuses: number[] = []
  for (let i = 0; i < 5; i++) {
    statuses.push((await app.inject({ method: 'DELETE', url: '/users/zhangsan@example.com/sync-relations/lark', headers: { authorization: `Bearer wrong-${i}` } })).statusCode)
  }
  t.same(statuses, [401, 401, 401, 429, 429])
  const limited = await app.inject({ method: 'DELETE', url: '/users/x/sync-relations/lark', headers: { authorization: 'Bearer wrong-again' } })
  t.ok(Number(limited.headers['retry-after']) >= 1)
  t.match(limited.json(), { code: 'RATE_LIMITED', message: /failed authentications from this address/ })
  t.match(audit().at(-1), { status: 429, code: 'RATE_LIMITED', reason: 'too many failed authentications' })
  const valid = await app.inject({ method: 'DELETE', url: `/users/${ZHANGSAN}/sync-relations/lark`, headers: AUTH })
  t.equal(valid.statusCode, 200, 'a valid key from the same address (say, behind the same gateway) still passes')
  t.notOk(JSON.stringify(audit()).includes('zhangsan@example.com'), 'ids in anonymous requests are never stored in the clear')
})

t.test('regression: more than one Authorization header is refused rather than silently using the first', async (t) => {
  const { app } = await buildTestApp(t)
  const response = await app.inject({ method: 'DELETE', url: `/users/${ZHANGSAN}/sync-relations/lark`, headers: { authorization: ['Bearer sandbox-dev-key', 'Bearer other'] as unknown as string } })
  t.equal(response.statusCode, 401)
  t.match(response.headers['www-authenticate'], /invalid_token/)
})
