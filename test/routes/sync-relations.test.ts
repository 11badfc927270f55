import t from 'tap'
import { AUTH, buildTestApp, LISI, recordsFor, routeUrl, WANGWU, ZHANGSAN, ZHAOLIU } from '../helpers/app.ts'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

t.test('DELETE /users/:userId/sync-relations/:provider', async (t) => {
  t.test('removes a seeded relation and passes Authing\'s envelope through', async (t) => {
    const { app, sandbox, audit } = await buildTestApp(t)
    const response = await app.inject({ method: 'DELETE', url: routeUrl(ZHANGSAN, 'lark'), headers: AUTH })
    t.equal(response.statusCode, 200)
    const body = response.json()
    t.equal(body.statusCode, 200)
    t.equal(body.message, '操作成功')
    t.same(body.data, { success: true })
    t.type(body.requestId, 'string', "Authing's request id is passed through")
    t.match(response.headers['x-request-id'], UUID)
    t.notOk(sandbox.tenant.find('user_id', ZHANGSAN)?.relations.lark, 'the relation is gone upstream')
    t.same(JSON.parse(sandbox.received[0]?.body ?? '{}'), { provider: 'lark', userId: ZHANGSAN, userIdType: 'user_id' })

    const records = recordsFor(audit(), String(response.headers['x-request-id']))
    t.same(records.map((record) => record.type), ['attempt', 'outcome'])
    t.match(records[1], { outcome: 'success', status: 200, attempts: 1, success: true, caller: 'sandbox-dev', provider: 'lark', userId: ZHANGSAN, authing: { statusCode: 200, requestId: body.requestId } })
  })

  t.test('finds users by each of the seven userIdTypes', async (t) => {
    const { app } = await buildTestApp(t)
    const cases: Array<[string, string, string]> = [
      ['user_id', ZHANGSAN, 'wechatwork'],
      ['phone', '13800138000', 'dingtalk'],
      ['email', 'li.si+hr@example.com', 'moka'],
      ['username', '王五', 'scim'],
      ['external_id', 'dept/42:lisi', 'ldap'],
      ['identity', '62f20932716fbcc10d966ee5:ou_5f0c1e8d2b7a4c3e9d6f1a2b3c4d5e6f', 'lark'],
      ['sync_relation', 'wechatwork:LiSi', 'wechatwork']
    ]
    for (const [userIdType, userId, provider] of cases) {
      const response = await app.inject({ method: 'DELETE', url: routeUrl(userId, provider, `?userIdType=${userIdType}`), headers: AUTH })
      t.equal(response.statusCode, 200, `${userIdType} ${userId}`)
    }
  })

  t.test('answers 404 USER_NOT_FOUND with Authing\'s apiCode for an unknown user', async (t) => {
    const { app, audit } = await buildTestApp(t)
    const response = await app.inject({ method: 'DELETE', url: routeUrl('nobody@example.com', 'lark', '?userIdType=email'), headers: AUTH })
    t.equal(response.statusCode, 404)
    t.match(response.json(), { statusCode: 404, code: 'USER_NOT_FOUND', apiCode: 2004, authingStatusCode: 404, requestId: response.headers['x-request-id'] })
    t.type(response.json().authingRequestId, 'string')
    const outcome = recordsFor(audit(), String(response.headers['x-request-id'])).find((record) => record.type === 'outcome')
    t.match(outcome, { outcome: 'authing_error', status: 404, code: 'USER_NOT_FOUND', authing: { statusCode: 404, apiCode: 2004 } })
    t.notOk(outcome?.userId, 'an email is not stored in the clear')
    t.match(outcome?.userIdHmac, /^[0-9a-f]{64}$/)
  })

  t.test('answers 404 AUTHING_NOT_FOUND when the user has no relation with the provider', async (t) => {
    const { app } = await buildTestApp(t)
    const response = await app.inject({ method: 'DELETE', url: routeUrl(ZHAOLIU, 'moka'), headers: AUTH })
    t.equal(response.statusCode, 404)
    t.match(response.json(), { code: 'AUTHING_NOT_FOUND', authingStatusCode: 404 })
    t.notOk('apiCode' in response.json())
  })

  t.test('treats DELETE with Content-Type: application/json and an empty body like a bare DELETE', async (t) => {
    const { app } = await buildTestApp(t)
    const withType = await app.inject({ method: 'DELETE', url: routeUrl(WANGWU, 'italent'), headers: { ...AUTH, 'content-type': 'application/json' } })
    t.equal(withType.statusCode, 200)
    const withBody = await app.inject({ method: 'DELETE', url: routeUrl(WANGWU, 'maycur'), headers: { ...AUTH, 'content-type': 'application/json' }, payload: '{"ignored":true}' })
    t.equal(withBody.statusCode, 200, 'a body is ignored, not parsed')
    const withBrokenJson = await app.inject({ method: 'DELETE', url: routeUrl(WANGWU, 'welink'), headers: { ...AUTH, 'content-type': 'application/json' }, payload: '{' })
    t.equal(withBrokenJson.statusCode, 200)
  })

  t.test('keeps a well-formed caller X-Request-Id and replaces anything else', async (t) => {
    const { app } = await buildTestApp(t)
    const mine = '0f8fad5b-d9cb-469f-a165-70867728950e'
    const kept = await app.inject({ method: 'DELETE', url: routeUrl(LISI, 'wechatwork'), headers: { ...AUTH, 'x-request-id': mine } })
    t.equal(kept.headers['x-request-id'], mine)
    const replaced = await app.inject({ method: 'DELETE', url: routeUrl(LISI, 'wechatwork'), headers: { ...AUTH, 'x-request-id': 'drop table users; --' } })
    t.match(replaced.headers['x-request-id'], UUID)
    t.equal(replaced.json().requestId, replaced.headers['x-request-id'])
  })

  t.test('answers 405 with Allow: DELETE for another method on the route', async (t) => {
    const { app } = await buildTestApp(t)
    const response = await app.inject({ method: 'GET', url: routeUrl(ZHANGSAN, 'lark'), headers: AUTH })
    t.equal(response.statusCode, 405)
    t.equal(response.headers.allow, 'DELETE')
    t.match(response.json(), { code: 'METHOD_NOT_ALLOWED' })
  })

  t.test('answers 404 in the envelope for an unknown route, and audits it without the user id', async (t) => {
    const { app, audit } = await buildTestApp(t)
    const response = await app.inject({ method: 'DELETE', url: '/users/alice@example.com/sync-relation/lark', headers: AUTH })
    t.equal(response.statusCode, 404)
    t.match(response.json(), { statusCode: 404, code: 'NOT_FOUND', requestId: response.headers['x-request-id'] })
    const [record] = recordsFor(audit(), String(response.headers['x-request-id']))
    t.match(record, { type: 'request', outcome: 'rejected', status: 404, code: 'NOT_FOUND', path: '/users/*/sync-relation/lark' })
    t.notMatch(JSON.stringify(record), /alice/)
  })
})
