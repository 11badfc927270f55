// Management-token mode (AUTHING_AUTH_MODE=token): one cached token for all calls, one shared refresh,
// and a refused token refreshed once and retried once.
import t from 'tap'
import { AUTH, buildTestApp, LISI, WANGWU, ZHANGSAN } from '../helpers/app.ts'

const TOKEN = { AUTHING_AUTH_MODE: 'token' }
const urls = (request: { url: string }): string => request.url.replace('/api/v3/', '')

t.test('fetches a token once and sends it as Bearer with the user pool id, unsigned', async (t) => {
  const { app, sandbox } = await buildTestApp(t, TOKEN)
  const response = await app.inject({ method: 'DELETE', url: `/users/${ZHANGSAN}/sync-relations/lark`, headers: AUTH })
  t.equal(response.statusCode, 200)
  t.same(sandbox.received.map(urls), ['get-management-token', 'delete-user-sync-relations'])
  const call = sandbox.received[1]
  t.match(call?.headers.authorization, /^Bearer [\w-]+\.[\w-]+\.[\w-]+$/)
  t.equal(call?.headers['x-authing-userpool-id'], sandbox.accessKeyId)
  t.notOk(call?.headers['x-authing-signature-nonce'], 'no signature headers in token mode')
  t.same(JSON.parse(sandbox.received[0]?.body ?? '{}'), { accessKeyId: sandbox.accessKeyId, accessKeySecret: sandbox.accessKeySecret })
})

t.test('concurrent calls share one token fetch, and later calls reuse the cached token', async (t) => {
  const { app, sandbox } = await buildTestApp(t, TOKEN)
  const users = [ZHANGSAN, LISI, WANGWU]
  const responses = await Promise.all(users.map((user) => app.inject({ method: 'DELETE', url: `/users/${user}/sync-relations/wechatwork`, headers: AUTH })))
  t.same(responses.map((response) => response.statusCode), [200, 200, 404])
  await app.inject({ method: 'DELETE', url: `/users/${ZHANGSAN}/sync-relations/lark`, headers: AUTH })
  t.equal(sandbox.received.filter((request) => request.url.endsWith('get-management-token')).length, 1)
})

t.test('a token Authing refuses is refreshed once and the call retried once', async (t) => {
  const { app, sandbox } = await buildTestApp(t, TOKEN)
  t.equal((await app.inject({ method: 'DELETE', url: `/users/${ZHANGSAN}/sync-relations/lark`, headers: AUTH })).statusCode, 200)
  sandbox.revokeTokens()
  const before = sandbox.received.length
  const response = await app.inject({ method: 'DELETE', url: `/users/${ZHANGSAN}/sync-relations/wechatwork`, headers: AUTH })
  t.equal(response.statusCode, 200)
  const after = sandbox.received.slice(before)
  t.same(after.map(urls), ['delete-user-sync-relations', 'get-management-token', 'delete-user-sync-relations'])
  t.equal(after[0]?.answer.statusCode, 401)
})

t.test('a token that keeps being refused is not retried in a loop, and never reaches the caller as 401', async (t) => {
  const { app, sandbox } = await buildTestApp(t, TOKEN)
  t.equal((await app.inject({ method: 'DELETE', url: `/users/${ZHANGSAN}/sync-relations/lark`, headers: AUTH })).statusCode, 200)
  sandbox.injectFault({ mode: 'http-status', status: 401, times: 5 })
  const before = sandbox.received.length
  const response = await app.inject({ method: 'DELETE', url: `/users/${ZHANGSAN}/sync-relations/wechatwork`, headers: AUTH })
  t.equal(response.statusCode, 502)
  t.equal(response.json().code, 'UPSTREAM_AUTH_REJECTED')
  t.ok(sandbox.received.length - before <= 3, 'one refresh and one retry at most')
})

t.test('a failing token endpoint maps like any upstream fault', async (t) => {
  const { app, sandbox } = await buildTestApp(t, { ...TOKEN, BREAKER_FAILURE_THRESHOLD: '1000' })
  sandbox.injectFault({ mode: 'http-status', status: 500 })
  const response = await app.inject({ method: 'DELETE', url: `/users/${ZHANGSAN}/sync-relations/lark`, headers: AUTH })
  t.equal(response.statusCode, 502)
  t.equal(response.json().code, 'UPSTREAM_ERROR')
  t.equal((await app.inject({ method: 'DELETE', url: `/users/${ZHANGSAN}/sync-relations/lark`, headers: AUTH })).statusCode, 200, 'the next call fetches a token again')
})
