import t from 'tap'
import { AUTH, buildTestApp, ZHANGSAN } from '../helpers/app.ts'

// Each row: a raw URL (already percent-encoded as a client would send it) → the 400 code expected.
// None of these may reach Authing.
const REJECTED: Array<[string, string, string]> = [
  ['blank userId segment', '/users//sync-relations/lark', 'INVALID_USER_ID'],
  ['whitespace-only userId', '/users/%20%20/sync-relations/lark', 'INVALID_USER_ID'],
  ['a control character in userId', '/users/u%0A1/sync-relations/lark', 'INVALID_USER_ID'],
  ['a NUL byte in userId', '/users/u%001/sync-relations/lark', 'INVALID_USER_ID'],
  ['513 characters after decoding', `/users/${'%E5%BC%A0'.repeat(513)}/sync-relations/lark`, 'INVALID_USER_ID'],
  ['identity without a 24-hex extIdpId', '/users/abc%3Aou_1/sync-relations/lark?userIdType=identity', 'INVALID_USER_ID'],
  ['identity without the id part', '/users/62f20932716fbcc10d966ee5%3A/sync-relations/lark?userIdType=identity', 'INVALID_USER_ID'],
  ['sync_relation with an unknown provider', '/users/myspace%3A42/sync-relations/lark?userIdType=sync_relation', 'INVALID_USER_ID'],
  ['sync_relation without a colon', '/users/lark/sync-relations/lark?userIdType=sync_relation', 'INVALID_USER_ID'],
  ['an email without @', '/users/zhangsan.example.com/sync-relations/lark?userIdType=email', 'INVALID_USER_ID'],
  ['a phone with letters', '/users/138-abc/sync-relations/lark?userIdType=phone', 'INVALID_USER_ID'],
  ['an unknown provider', `/users/${ZHANGSAN}/sync-relations/myspace`, 'UNSUPPORTED_PROVIDER'],
  ['a provider in the wrong case', `/users/${ZHANGSAN}/sync-relations/Lark`, 'UNSUPPORTED_PROVIDER'],
  ['a blank provider', `/users/${ZHANGSAN}/sync-relations/`, 'UNSUPPORTED_PROVIDER'],
  ['userIdType in the wrong case', `/users/${ZHANGSAN}/sync-relations/lark?userIdType=USER_ID`, 'INVALID_USER_ID_TYPE'],
  ['the undocumented custom_field userIdType', `/users/${ZHANGSAN}/sync-relations/lark?userIdType=custom_field`, 'INVALID_USER_ID_TYPE'],
  ['an empty userIdType', `/users/${ZHANGSAN}/sync-relations/lark?userIdType=`, 'INVALID_USER_ID_TYPE'],
  ['an unknown query key', `/users/${ZHANGSAN}/sync-relations/lark?force=true`, 'UNKNOWN_QUERY_PARAMETER'],
  ['a query key in the wrong case', `/users/${ZHANGSAN}/sync-relations/lark?useridtype=email`, 'UNKNOWN_QUERY_PARAMETER'],
  ['a repeated userIdType', `/users/${ZHANGSAN}/sync-relations/lark?userIdType=email&userIdType=phone`, 'REPEATED_QUERY_PARAMETER'],
  ['a malformed percent-escape', '/users/100%/sync-relations/lark', 'MALFORMED_URL'],
  ['a truncated UTF-8 escape', '/users/%E5%BC/sync-relations/lark', 'MALFORMED_URL']
]

t.test('rejects invalid requests with 400, one readable message, and no call to Authing', async (t) => {
  const { app, upstreamCalls } = await buildTestApp(t)
  for (const [name, url, code] of REJECTED) {
    const response = await app.inject({ method: 'DELETE', url, headers: AUTH })
    t.equal(response.statusCode, 400, `${name}: status`)
    const body = response.json()
    t.equal(body.code, code, `${name}: code`)
    t.equal(body.statusCode, 400, `${name}: envelope statusCode`)
    t.equal(body.requestId, response.headers['x-request-id'], `${name}: request id`)
    t.ok(body.message.length > 0 && body.message.length < 200 && !body.message.includes('\n'), `${name}: one short message`)
  }
  t.equal(upstreamCalls(), 0, 'nothing reached Authing')
})

t.test('a too-long userId gets a 4xx that does not echo the value, however long it is', async (t) => {
  const { app, upstreamCalls } = await buildTestApp(t)
  for (const length of [513, 2000, 9000]) {
    const userId = `u${'x'.repeat(length - 1)}`
    const response = await app.inject({ method: 'DELETE', url: `/users/${userId}/sync-relations/lark`, headers: AUTH })
    t.equal(response.statusCode, 400, `${length} characters`)
    t.equal(response.json().code, 'INVALID_USER_ID')
    t.match(response.json().message, /at most 512 characters/)
    t.notOk(response.body.includes('xxxxxxxxxx'), 'the value is not echoed')
  }
  t.equal(upstreamCalls(), 0)
})

t.test('accepts exactly 512 characters after decoding, multi-byte ones included', async (t) => {
  const { app, sandbox } = await buildTestApp(t)
  const userId = '张'.repeat(511) + '😀' // 512 characters, 513 UTF-16 code units
  const response = await app.inject({ method: 'DELETE', url: `/users/${encodeURIComponent(userId)}/sync-relations/lark?userIdType=username`, headers: AUTH })
  t.equal(response.statusCode, 404, 'validated, sent, and not found upstream')
  t.equal(response.json().code, 'USER_NOT_FOUND')
  t.equal(JSON.parse(sandbox.received[0]?.body ?? '{}').userId, userId)
})

t.test('AUTHING_EXTRA_PROVIDERS adds providers without a code change', async (t) => {
  const { app, sandbox } = await buildTestApp(t, { AUTHING_EXTRA_PROVIDERS: 'lark-international' })
  const response = await app.inject({ method: 'DELETE', url: `/users/${ZHANGSAN}/sync-relations/lark-international`, headers: AUTH })
  t.equal(response.statusCode, 404, 'accepted and forwarded (the demo user has no such relation)')
  t.equal(JSON.parse(sandbox.received[0]?.body ?? '{}').provider, 'lark-international')
})

t.test('validation runs after authentication: an unauthenticated bad request gets 401', async (t) => {
  const { app } = await buildTestApp(t)
  const response = await app.inject({ method: 'DELETE', url: '/users//sync-relations/myspace' })
  t.equal(response.statusCode, 401)
})

t.test('regression: an oversized provider segment is named as the provider, not the user id', async (t) => {
  const { app, upstreamCalls } = await buildTestApp(t)
  const response = await app.inject({ method: 'DELETE', url: `/users/${ZHANGSAN}/sync-relations/${'p'.repeat(9000)}`, headers: AUTH })
  t.equal(response.statusCode, 400)
  t.equal(response.json().code, 'UNSUPPORTED_PROVIDER')
  t.notOk(response.body.includes('pppppppppp'))
  t.equal(upstreamCalls(), 0)
})
