// What the trail says about each kind of request, read back from the real file after going through the
// whole app: one table of scenarios, each with the records it must leave (as Kubernetes' audit
// integration tests do). Then the sink-failure stance: fail closed before Authing, not ready after.
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { verifyChain } from '../../src/audit/chain.ts'
import { keyedHash } from '../../src/audit/records.ts'
import { hashKey } from '../../src/callers/registry.ts'
import type { Fault } from '../../src/sandbox/emulator.ts'
import { AUTH, buildTestApp, LISI, routeUrl, tempDir, WANGWU, ZHANGSAN, type TestApp } from '../helpers/app.ts'
import { ControlledSink, errnoError, failRecordsOfType } from '../helpers/audit-files.ts'

const HR_KEY = 'hr-sync-key-0123456789abcdef'
const HR_AUTH = { authorization: `Bearer ${HR_KEY}` }

interface Call { method?: string, url: string, headers?: Record<string, string> }

/** One record as the table states it; `hmac` is the plain id whose keyed hash the record must hold. */
interface Expected {
  /** Which call of the scenario the record is about (its X-Request-Id), if any. */
  call?: number
  type: string
  outcome?: string
  status?: number
  code?: string
  reason?: string
  caller?: string
  provider?: string
  userIdType?: string
  userId?: string
  hmac?: string
  route?: string
  path?: string
  attempts?: number
  authingStatus?: number
  apiCode?: number
}

interface Scenario {
  name: string
  env?: Record<string, string>
  /** Callers file entries (key hashes are filled in); the sandbox caller is used otherwise. */
  callers?: Array<{ name: string, key: string, providers: string[] }>
  calls: Call[]
  statuses: number[]
  records: Expected[]
  /** Strings that must appear nowhere in the trail file. */
  absent?: string[]
  /** Faults the sandbox (Authing) applies to the calls. */
  faults?: Fault[]
  /** Columns this scenario does not pin down. */
  ignore?: Array<keyof Expected>
}

const ROUTE = '/users/:userId/sync-relations/:provider'
const DELETE = (url: string, headers: Record<string, string> = AUTH): Call => ({ url, headers })

const SCENARIOS: Scenario[] = [
  {
    name: 'a removed relation leaves an attempt record before the call and an outcome record after it',
    calls: [DELETE(routeUrl(ZHANGSAN, 'lark'))],
    statuses: [200],
    records: [
      { call: 0, type: 'attempt', caller: 'sandbox-dev', route: ROUTE, provider: 'lark', userIdType: 'user_id', userId: ZHANGSAN },
      { call: 0, type: 'outcome', outcome: 'success', status: 200, caller: 'sandbox-dev', route: ROUTE, provider: 'lark', userIdType: 'user_id', userId: ZHANGSAN, attempts: 1, authingStatus: 200 }
    ]
  },
  {
    name: 'an error from Authing is an outcome with its statusCode and apiCode',
    calls: [DELETE(routeUrl('6229ffaa0b1c2d3e4f5a0000', 'lark'))],
    statuses: [404],
    records: [
      { call: 0, type: 'attempt', caller: 'sandbox-dev', route: ROUTE, provider: 'lark', userIdType: 'user_id', userId: '6229ffaa0b1c2d3e4f5a0000' },
      { call: 0, type: 'outcome', outcome: 'authing_error', status: 404, code: 'USER_NOT_FOUND', caller: 'sandbox-dev', route: ROUTE, provider: 'lark', userIdType: 'user_id', userId: '6229ffaa0b1c2d3e4f5a0000', attempts: 1, authingStatus: 404, apiCode: 2004 }
    ]
  },
  {
    name: 'a blank userId is a 400 request record',
    calls: [DELETE('/users/%20/sync-relations/lark')],
    statuses: [400],
    records: [{ call: 0, type: 'request', outcome: 'rejected', status: 400, code: 'INVALID_USER_ID', caller: 'sandbox-dev', route: ROUTE, provider: 'lark', userIdType: 'user_id', userId: ' ' }]
  },
  {
    name: 'an unknown query parameter is a 400 request record, without the parameter',
    calls: [DELETE(routeUrl(ZHANGSAN, 'lark', '?debug=carol@example.com'))],
    statuses: [400],
    records: [{ call: 0, type: 'request', outcome: 'rejected', status: 400, code: 'UNKNOWN_QUERY_PARAMETER', caller: 'sandbox-dev', route: ROUTE, provider: 'lark', userIdType: 'user_id', userId: ZHANGSAN }],
    absent: ['carol@example.com', 'carol%40example.com', 'debug']
  },
  {
    name: 'an unsupported provider is a 400 request record',
    calls: [DELETE(routeUrl(ZHANGSAN, 'myspace'))],
    statuses: [400],
    records: [{ call: 0, type: 'request', outcome: 'rejected', status: 400, code: 'UNSUPPORTED_PROVIDER', caller: 'sandbox-dev', route: ROUTE, provider: 'myspace', userIdType: 'user_id', userId: ZHANGSAN }]
  },
  {
    name: 'a missing caller key is a 401 with the reason "missing key" (an anonymous id is only stored hashed)',
    calls: [DELETE(routeUrl(ZHANGSAN, 'lark'), {})],
    statuses: [401],
    records: [{ call: 0, type: 'request', outcome: 'rejected', status: 401, code: 'UNAUTHENTICATED', reason: 'missing key', route: ROUTE, provider: 'lark', userIdType: 'user_id', hmac: ZHANGSAN }]
  },
  {
    name: 'an unknown caller key is a 401 with the reason "unknown key", and the key is not stored',
    calls: [DELETE(routeUrl(ZHANGSAN, 'lark'), { authorization: 'Bearer not-a-known-key-4b1d' })],
    statuses: [401],
    records: [{ call: 0, type: 'request', outcome: 'rejected', status: 401, code: 'UNAUTHENTICATED', reason: 'unknown key', route: ROUTE, provider: 'lark', userIdType: 'user_id', hmac: ZHANGSAN }],
    absent: ['not-a-known-key-4b1d', 'Bearer']
  },
  {
    name: 'a malformed Authorization header is a 401 with its reason',
    calls: [DELETE(routeUrl(ZHANGSAN, 'lark'), { authorization: 'Basic dXNlcjpwYXNz' })],
    statuses: [401],
    records: [{ call: 0, type: 'request', outcome: 'rejected', status: 401, code: 'UNAUTHENTICATED', reason: 'malformed Authorization header', route: ROUTE, provider: 'lark', userIdType: 'user_id', hmac: ZHANGSAN }],
    absent: ['dXNlcjpwYXNz']
  },
  {
    name: 'a provider the caller may not act on is a 403 naming the caller',
    callers: [{ name: 'hr-sync', key: HR_KEY, providers: ['dingtalk'] }],
    calls: [DELETE(routeUrl(ZHANGSAN, 'lark'), HR_AUTH)],
    statuses: [403],
    records: [{ call: 0, type: 'request', outcome: 'rejected', status: 403, code: 'FORBIDDEN_PROVIDER', reason: 'provider not allowed', caller: 'hr-sync', route: ROUTE, provider: 'lark', userIdType: 'user_id', userId: ZHANGSAN }],
    absent: [HR_KEY, hashKey(HR_KEY).slice('sha256:'.length)]
  },
  {
    name: 'an unknown route is a 404 with the path redacted',
    calls: [DELETE('/users/alice@example.com/sync-relation/lark?userIdType=email')],
    statuses: [404],
    records: [{ call: 0, type: 'request', outcome: 'rejected', status: 404, code: 'NOT_FOUND', path: '/users/*/sync-relation/lark', userIdType: 'email' }],
    absent: ['alice']
  },
  {
    name: 'another method on the route is a 405 with the path redacted',
    calls: [{ method: 'GET', url: routeUrl('alice@example.com', 'lark', '?userIdType=email'), headers: AUTH }],
    statuses: [405],
    records: [{ call: 0, type: 'request', outcome: 'rejected', status: 405, code: 'METHOD_NOT_ALLOWED', path: '/users/*/sync-relations/lark', userIdType: 'email' }],
    absent: ['alice']
  },
  {
    name: 'a malformed URL is a 400 MALFORMED_URL with the path redacted',
    calls: [DELETE('/users/100%/sync-relations/lark')],
    statuses: [400],
    records: [{ call: 0, type: 'request', outcome: 'rejected', status: 400, code: 'MALFORMED_URL', path: '/users/*/sync-relations/lark' }],
    absent: ['100%']
  },
  {
    name: 'a path parameter longer than the router limit is a 400 INVALID_USER_ID, audited with no user id',
    calls: [DELETE(`/users/${'x'.repeat(9000)}/sync-relations/lark`)],
    statuses: [400],
    records: [{ call: 0, type: 'request', outcome: 'rejected', status: 400, code: 'INVALID_USER_ID', path: '/users/*/sync-relations/lark' }],
    absent: ['xxxxxxxxxx']
  },
  {
    name: 'a userId over 512 characters within the router limit is a 400 INVALID_USER_ID, with the id hashed or kept as its type says',
    calls: [DELETE(routeUrl(`${'y'.repeat(600)}@example.com`, 'lark', '?userIdType=email'))],
    statuses: [400],
    records: [{ call: 0, type: 'request', outcome: 'rejected', status: 400, code: 'INVALID_USER_ID', caller: 'sandbox-dev', route: ROUTE, provider: 'lark', userIdType: 'email', hmac: `${'y'.repeat(600)}@example.com` }],
    absent: ['yyyyyyyyyy']
  },
  {
    name: 'a request over the caller\'s rate limit is a 429 with the reason "rate limit"',
    env: { CALLER_RATE_LIMIT_MAX: '1' },
    calls: [DELETE(routeUrl(LISI, 'wechatwork')), DELETE(routeUrl(LISI, 'moka'))],
    statuses: [200, 429],
    records: [
      { call: 0, type: 'attempt', caller: 'sandbox-dev', route: ROUTE, provider: 'wechatwork', userIdType: 'user_id', userId: LISI },
      { call: 0, type: 'outcome', outcome: 'success', status: 200, caller: 'sandbox-dev', route: ROUTE, provider: 'wechatwork', userIdType: 'user_id', userId: LISI, attempts: 1, authingStatus: 200 },
      { call: 1, type: 'request', outcome: 'rejected', status: 429, code: 'RATE_LIMITED', reason: 'rate limit', caller: 'sandbox-dev', route: ROUTE, provider: 'moka', userIdType: 'user_id', userId: LISI }
    ]
  },
  {
    name: 'health and metrics probes leave no record',
    calls: [{ method: 'GET', url: '/health/live' }, { method: 'GET', url: '/health/ready' }, { method: 'GET', url: '/metrics' }],
    statuses: [200, 200, 200],
    records: []
  },
  {
    name: 'the documentation is served and audited as served',
    calls: [{ method: 'GET', url: '/docs/json' }],
    statuses: [200],
    records: [{ call: 0, type: 'request', outcome: 'served', status: 200, route: '/docs/json' }],
    // The record names the default userIdType on any matched route, even one without a user id.
    ignore: ['userIdType']
  },
  {
    name: 'a connection Authing drops is an upstream_fault outcome, with no Authing facts',
    env: { UPSTREAM_RETRY_BASE_MS: '1' },
    faults: [{ mode: 'reset', times: 5 }],
    calls: [DELETE(routeUrl(ZHANGSAN, 'wechatwork'))],
    statuses: [502],
    records: [
      { call: 0, type: 'attempt', caller: 'sandbox-dev', route: ROUTE, provider: 'wechatwork', userIdType: 'user_id', userId: ZHANGSAN },
      { call: 0, type: 'outcome', outcome: 'upstream_fault', status: 502, code: 'UPSTREAM_CONNECTION_FAILED', caller: 'sandbox-dev', route: ROUTE, provider: 'wechatwork', userIdType: 'user_id', userId: ZHANGSAN, attempts: 1 }
    ]
  },
  {
    name: 'retries show in the outcome\'s attempts',
    env: { UPSTREAM_RETRY_BASE_MS: '1' },
    faults: [{ mode: 'http-status', status: 503, times: 3 }],
    calls: [DELETE(routeUrl(ZHANGSAN, 'wechatwork'))],
    statuses: [503],
    records: [
      { call: 0, type: 'attempt', caller: 'sandbox-dev', route: ROUTE, provider: 'wechatwork', userIdType: 'user_id', userId: ZHANGSAN },
      { call: 0, type: 'outcome', outcome: 'upstream_fault', status: 503, code: 'UPSTREAM_UNAVAILABLE', caller: 'sandbox-dev', route: ROUTE, provider: 'wechatwork', userIdType: 'user_id', userId: ZHANGSAN, attempts: 3 }
    ]
  },
  {
    name: 'email, phone and username ids appear only as keyed hashes',
    calls: [
      DELETE(routeUrl('li.si+hr@example.com', 'moka', '?userIdType=email')),
      DELETE(routeUrl('13800138000', 'dingtalk', '?userIdType=phone')),
      DELETE(routeUrl('王五', 'scim', '?userIdType=username'))
    ],
    statuses: [200, 200, 200],
    records: [
      { call: 0, type: 'attempt', caller: 'sandbox-dev', route: ROUTE, provider: 'moka', userIdType: 'email', hmac: 'li.si+hr@example.com' },
      { call: 0, type: 'outcome', outcome: 'success', status: 200, caller: 'sandbox-dev', route: ROUTE, provider: 'moka', userIdType: 'email', hmac: 'li.si+hr@example.com', attempts: 1, authingStatus: 200 },
      { call: 1, type: 'attempt', caller: 'sandbox-dev', route: ROUTE, provider: 'dingtalk', userIdType: 'phone', hmac: '13800138000' },
      { call: 1, type: 'outcome', outcome: 'success', status: 200, caller: 'sandbox-dev', route: ROUTE, provider: 'dingtalk', userIdType: 'phone', hmac: '13800138000', attempts: 1, authingStatus: 200 },
      { call: 2, type: 'attempt', caller: 'sandbox-dev', route: ROUTE, provider: 'scim', userIdType: 'username', hmac: '王五' },
      { call: 2, type: 'outcome', outcome: 'success', status: 200, caller: 'sandbox-dev', route: ROUTE, provider: 'scim', userIdType: 'username', hmac: '王五', attempts: 1, authingStatus: 200 }
    ],
    absent: ['li.si', 'li.si%2Bhr', '13800138000', '王五', encodeURIComponent('王五')]
  },
  {
    name: 'a personal id in a rejected request is hashed too',
    calls: [DELETE(routeUrl('carol@example.com', 'lark', '?userIdType=email'), {})],
    statuses: [401],
    records: [{ call: 0, type: 'request', outcome: 'rejected', status: 401, code: 'UNAUTHENTICATED', reason: 'missing key', route: ROUTE, provider: 'lark', userIdType: 'email', hmac: 'carol@example.com' }],
    absent: ['carol']
  },
  {
    name: 'an id whose userIdType is invalid or repeated is hashed, since its kind is unknown',
    calls: [
      DELETE(routeUrl('carol@example.com', 'lark', '?userIdType=EMAIL')),
      DELETE(routeUrl('carol@example.com', 'lark', '?userIdType=email&userIdType=email'))
    ],
    statuses: [400, 400],
    records: [
      { call: 0, type: 'request', outcome: 'rejected', status: 400, code: 'INVALID_USER_ID_TYPE', caller: 'sandbox-dev', route: ROUTE, provider: 'lark', userIdType: 'EMAIL', hmac: 'carol@example.com' },
      { call: 1, type: 'request', outcome: 'rejected', status: 400, code: 'REPEATED_QUERY_PARAMETER', caller: 'sandbox-dev', route: ROUTE, provider: 'lark', hmac: 'carol@example.com' }
    ],
    absent: ['carol']
  },
  {
    name: 'opaque ids (external_id, identity, sync_relation) stay readable',
    calls: [
      DELETE(routeUrl('dept/42:lisi', 'ldap', '?userIdType=external_id')),
      DELETE(routeUrl('62f20932716fbcc10d966ee5:ou_5f0c1e8d2b7a4c3e9d6f1a2b3c4d5e6f', 'lark', '?userIdType=identity'))
    ],
    statuses: [200, 200],
    records: [
      { call: 0, type: 'attempt', caller: 'sandbox-dev', route: ROUTE, provider: 'ldap', userIdType: 'external_id', userId: 'dept/42:lisi' },
      { call: 0, type: 'outcome', outcome: 'success', status: 200, caller: 'sandbox-dev', route: ROUTE, provider: 'ldap', userIdType: 'external_id', userId: 'dept/42:lisi', attempts: 1, authingStatus: 200 },
      { call: 1, type: 'attempt', caller: 'sandbox-dev', route: ROUTE, provider: 'lark', userIdType: 'identity', userId: '62f20932716fbcc10d966ee5:ou_5f0c1e8d2b7a4c3e9d6f1a2b3c4d5e6f' },
      { call: 1, type: 'outcome', outcome: 'success', status: 200, caller: 'sandbox-dev', route: ROUTE, provider: 'lark', userIdType: 'identity', userId: '62f20932716fbcc10d966ee5:ou_5f0c1e8d2b7a4c3e9d6f1a2b3c4d5e6f', attempts: 1, authingStatus: 200 }
    ]
  }
]

/** The columns of the table, read from a record; absent fields are left out. */
function project (record: Record<string, unknown>, plainById: Map<string, string>): Expected {
  const authing = (record.authing ?? {}) as Record<string, unknown>
  const hmac = typeof record.userIdHmac === 'string' ? plainById.get(record.userIdHmac) ?? `unknown hmac ${record.userIdHmac}` : undefined
  const row: Record<string, unknown> = {
    type: record.type,
    outcome: record.outcome,
    status: record.status,
    code: record.code,
    reason: record.reason,
    caller: record.caller,
    provider: record.provider,
    userIdType: record.userIdType,
    userId: record.userId,
    hmac,
    route: record.route,
    path: record.path,
    attempts: record.attempts,
    authingStatus: authing.statusCode,
    apiCode: authing.apiCode
  }
  for (const key of Object.keys(row)) if (row[key] === undefined) delete row[key]
  return row as unknown as Expected
}

async function setUp (t: { teardown: (fn: () => unknown) => void }, scenario: Scenario): Promise<TestApp> {
  const env: Record<string, string> = { ...scenario.env }
  if (scenario.callers !== undefined) {
    const file = join(tempDir('srp-callers-'), 'callers.json')
    writeFileSync(file, JSON.stringify(scenario.callers.map(({ name, key, providers }) => ({ name, keys: [hashKey(key)], providers }))))
    env.CALLERS_FILE = file
  }
  return buildTestApp(t, env)
}

t.test('the trail holds exactly the expected records for each kind of request', async (t) => {
  for (const scenario of SCENARIOS) {
    t.test(scenario.name, async (t) => {
      const { app, config, auditPath, sandbox } = await setUp(t, scenario)
      for (const fault of scenario.faults ?? []) sandbox.injectFault(fault)
      const requestIds: string[] = []
      const statuses: number[] = []
      for (const call of scenario.calls) {
        const response = await app.inject({ method: (call.method ?? 'DELETE') as 'GET', url: call.url, headers: call.headers ?? {} })
        requestIds.push(String(response.headers['x-request-id']))
        statuses.push(response.statusCode)
      }
      t.same(statuses, scenario.statuses, 'response statuses')

      // Read right after the responses: each record is on disk before the response it describes.
      const [start, ...written] = readFileSync(auditPath, 'utf8').split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as Record<string, unknown>)
      t.match(start, { type: 'lifecycle', event: 'start' }, 'the trail opens with the service start')

      const plainById = new Map<string, string>()
      for (const expected of scenario.records) if (expected.hmac !== undefined) plainById.set(keyedHash(config.audit.hmacKey, expected.hmac), expected.hmac)
      const ignored = (row: Expected): Expected => {
        const copy: Record<string, unknown> = { ...row }
        for (const column of scenario.ignore ?? []) delete copy[column]
        return copy as unknown as Expected
      }
      const actual = written.map((record) => ignored(project(record, plainById)))
      const wanted = scenario.records.map(({ call, ...columns }) => { void call; return ignored(columns) })
      t.same(actual, wanted, 'the records, in order')

      scenario.records.forEach((expected, index) => {
        const record = written[index]
        if (record === undefined) return
        t.equal(record.requestId, expected.call === undefined ? undefined : requestIds[expected.call], `record ${index + 1} carries the X-Request-Id of its request`)
        t.match(record, { v: 1, time: /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/ })
        if (record.type === 'outcome' || (record.type === 'request' && record.route !== undefined)) t.type(record.latencyMs, 'number', 'latency is recorded')
        if (record.type === 'outcome' && record.authing !== undefined) t.match(record.authing, { requestId: /^[0-9a-f-]{36}$/ }, "Authing's request id is kept")
      })

      const text = readFileSync(auditPath, 'utf8')
      for (const value of scenario.absent ?? []) t.notOk(text.includes(value), `"${value}" appears nowhere in the trail`)
      t.notOk(text.includes(config.audit.hmacKey), 'the HMAC key appears nowhere in the trail')
      t.match(await verifyChain([auditPath]), { ok: true }, 'the chain verifies')
    })
  }
})

t.test('unknown paths do not keep personal ids that sit elsewhere than right after /users/', async (t) => {
  const { app, auditPath } = await buildTestApp(t)
  for (const url of ['//users/dora@example.com/sync-relations/lark', '/users//dora@example.com/sync-relations/lark', '/api/users/dora@example.com/sync-relations/lark']) {
    const response = await app.inject({ method: 'DELETE', url, headers: AUTH })
    t.equal(response.statusCode, 404, url)
  }
  t.notOk(readFileSync(auditPath, 'utf8').includes('dora@example.com'), 'the email is not in the trail')
})

t.test('the stop record closes the trail when the app closes', async (t) => {
  const { app, auditPath } = await buildTestApp(t)
  await app.inject({ method: 'DELETE', url: routeUrl(WANGWU, 'lark'), headers: AUTH })
  await app.close()
  const lines = readFileSync(auditPath, 'utf8').split('\n').filter((line) => line !== '')
  t.match(JSON.parse(lines.at(-1) as string), { type: 'lifecycle', event: 'stop' })
  t.match(await verifyChain([auditPath]), { ok: true, records: lines.length })
})

// ---- the sink-failure stance --------------------------------------------------------------------------

async function metric (app: TestApp['app'], name: string, labels: string): Promise<number | undefined> {
  const text = (await app.inject({ method: 'GET', url: '/metrics' })).body
  const line = text.split('\n').find((each) => each.startsWith(`${name}{${labels}}`))
  return line === undefined ? undefined : Number(line.split(' ').at(-1))
}

t.test('fail closed: when the attempt record cannot be written, nothing is sent to Authing and the caller gets 503', async (t) => {
  const sink = new ControlledSink()
  const { app, sandbox, auditPath } = await buildTestApp(t, {}, { openAuditFile: sink.openFile })
  sink.failAppend = () => errnoError('ENOSPC')
  const response = await app.inject({ method: 'DELETE', url: routeUrl(ZHANGSAN, 'lark'), headers: AUTH })
  t.equal(response.statusCode, 503)
  t.match(response.json(), { statusCode: 503, code: 'AUDIT_UNAVAILABLE', requestId: response.headers['x-request-id'] })
  t.equal(response.headers['retry-after'], '5')
  t.equal(sandbox.received.length, 0, 'Authing received nothing')
  t.equal(await metric(app, 'audit_write_failures_total', 'stage="attempt"'), 1)
  t.equal(await metric(app, 'audit_write_failures_total', 'stage="request"'), 1, 'the 503 itself could not be recorded either')

  const ready = await app.inject({ method: 'GET', url: '/health/ready' })
  t.equal(ready.statusCode, 503)
  t.match(ready.json(), { status: 'unavailable', checks: { audit: false } })
  t.match(await verifyChain([auditPath]), { ok: true, records: 1 }, 'nothing half-written is left in the trail')
})

t.test('fail closed: a refused call is still recorded when only the attempt write fails', async (t) => {
  const sink = new ControlledSink()
  const { app, sandbox, auditPath } = await buildTestApp(t, {}, { openAuditFile: sink.openFile })
  sink.failAppend = failRecordsOfType('attempt')
  const response = await app.inject({ method: 'DELETE', url: routeUrl(ZHANGSAN, 'lark'), headers: AUTH })
  t.equal(response.statusCode, 503)
  t.equal(sandbox.received.length, 0)
  const records = readFileSync(auditPath, 'utf8').split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as Record<string, unknown>)
  t.match(records.at(-1), { type: 'request', requestId: response.headers['x-request-id'], outcome: 'unavailable', status: 503, code: 'AUDIT_UNAVAILABLE', provider: 'lark', userId: ZHANGSAN })
  t.notOk(records.some((record) => record.type === 'attempt'))
  t.match(await verifyChain([auditPath]), { ok: true })
})

t.test('when the outcome record cannot be written, the caller still gets the answer, and the service is not ready until the sink works again', async (t) => {
  const sink = new ControlledSink()
  const { app, sandbox, auditPath } = await buildTestApp(t, {}, { openAuditFile: sink.openFile })
  // The disk fills up between the attempt and the outcome, and stays full.
  let full = false
  sink.failAppend = (data) => {
    if (data.includes('"type":"outcome"')) full = true
    return full ? errnoError('ENOSPC') : undefined
  }
  const response = await app.inject({ method: 'DELETE', url: routeUrl(ZHANGSAN, 'lark'), headers: AUTH })
  t.equal(response.statusCode, 200, 'the relation was removed, and the caller is told so')
  t.equal(sandbox.received.length, 1)
  t.equal(app.audit.lostOutcomes, 1)

  const ready = await app.inject({ method: 'GET', url: '/health/ready' })
  t.equal(ready.statusCode, 503)
  t.match(ready.json(), { status: 'unavailable', checks: { audit: false } })
  t.equal(await metric(app, 'audit_write_failures_total', 'stage="outcome"'), 1)
  t.equal(await metric(app, 'audit_write_failures_total', 'stage="attempt"'), 0)

  const records = readFileSync(auditPath, 'utf8').split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as Record<string, unknown>)
  t.match(records.at(-1), { type: 'attempt', requestId: response.headers['x-request-id'] }, 'the attempt record is there; the outcome is missing')

  // The disk has room again. The ready probe writes a probe record at most every 5 s while the trail
  // is unhealthy; move the clock past that instead of waiting.
  full = false
  sink.failAppend = () => undefined
  const realNow = Date.now
  try {
    Date.now = () => realNow() + 6000
    const recovered = await app.inject({ method: 'GET', url: '/health/ready' })
    t.equal(recovered.statusCode, 200, 'readiness recovers once a write succeeds')
    t.match(recovered.json(), { status: 'ok', checks: { audit: true } })
  } finally {
    Date.now = realNow
  }
  const after = readFileSync(auditPath, 'utf8').split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as Record<string, unknown>)
  t.match(after.at(-1), { type: 'lifecycle', event: 'probe' }, 'the probe record is on the trail')
  t.match(await verifyChain([auditPath]), { ok: true })
})

t.test('while the sink is failing, the ready probe does not write more than once per interval', async (t) => {
  const sink = new ControlledSink()
  const { app } = await buildTestApp(t, {}, { openAuditFile: sink.openFile })
  sink.failAppend = () => errnoError('EIO')
  await app.inject({ method: 'DELETE', url: routeUrl(ZHANGSAN, 'lark'), headers: AUTH })
  const before = sink.appends
  for (let i = 0; i < 5; i += 1) t.equal((await app.inject({ method: 'GET', url: '/health/ready' })).statusCode, 503)
  t.ok(sink.appends - before <= 1, 'at most one probe write')
})

t.test('any successful write makes the service ready again', async (t) => {
  const sink = new ControlledSink()
  const { app } = await buildTestApp(t, {}, { openAuditFile: sink.openFile })
  sink.failAppend = () => errnoError('ENOSPC')
  t.equal((await app.inject({ method: 'DELETE', url: routeUrl(ZHANGSAN, 'lark'), headers: AUTH })).statusCode, 503)
  t.equal((await app.inject({ method: 'GET', url: '/health/ready' })).statusCode, 503)
  sink.failAppend = () => undefined
  t.equal((await app.inject({ method: 'DELETE', url: routeUrl(ZHANGSAN, 'lark'), headers: AUTH })).statusCode, 200)
  t.equal((await app.inject({ method: 'GET', url: '/health/ready' })).statusCode, 200)
})
