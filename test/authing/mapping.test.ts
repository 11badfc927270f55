// How each answer (or non-answer) from Authing maps to what the caller sees and whether it may be
// retried. Authing speaks through the body's statusCode and apiCode on HTTP 200 (authing-contract.md §3);
// real HTTP statuses come from gateways in front of it. Each row reads: input → HTTP status, code, retry.
import t from 'tap'
import { mapAttempt, parseRetryAfter, type AttemptResult, type Mapped, type RetryClass } from '../../src/authing/mapping.ts'
import { ERROR_CATALOG, type ErrorCode } from '../../src/errors.ts'

const NOW = Date.UTC(2026, 11, 3, 16, 3, 57)
/** What Authing might say in an operator-facing failure; it must never reach the caller. */
const AUTHING_TEXT = 'AUTHING-SAYS signature mismatch, server expected POST\\n/api/v3/...'

const CALLER_FACING: readonly ErrorCode[] = ['AUTHING_INVALID_ARGUMENT', 'USER_NOT_FOUND', 'AUTHING_NOT_FOUND', 'AUTHING_CONFLICT', 'AUTHING_INVALID_OPERATION']

function json (httpStatus: number, value: unknown, retryAfter?: string): AttemptResult {
  return { kind: 'response', httpStatus, retryAfter, body: { kind: 'json', value } }
}
function biz (statusCode: number, extra: Record<string, unknown> = {}): AttemptResult {
  return json(200, { statusCode, message: AUTHING_TEXT, requestId: 'req-9', ...extra })
}
function html (httpStatus: number): AttemptResult {
  return { kind: 'response', httpStatus, body: { kind: 'not-json', contentType: 'text/html' } }
}
function empty (httpStatus: number, retryAfter?: string): AttemptResult {
  return { kind: 'response', httpStatus, retryAfter, body: { kind: 'empty' } }
}

interface Row {
  given: string
  input: AttemptResult
  tokenMode?: boolean
  /**
   * retryAfterMs: the wait Authing asked for, which our own retry honours; retryAfter: the seconds the
   * caller is told in Retry-After. Both absent unless stated.
   */
  expect: { status: number, code: ErrorCode | 'ok', retry: RetryClass, retryAfterMs?: number, retryAfter?: number, upstreamFault?: boolean }
  todo?: string
}

const ok = { status: 200, code: 'ok', retry: 'none' } as const
const badResponse = { status: 502, code: 'UPSTREAM_BAD_RESPONSE', retry: 'none', upstreamFault: true } as const
const misconfigured = { status: 502, code: 'UPSTREAM_MISCONFIGURED', retry: 'none', upstreamFault: false } as const
const upstreamError = { status: 502, code: 'UPSTREAM_ERROR', retry: 'none', upstreamFault: true } as const

const rows: Row[] = [
  // Success and malformed success.
  { given: 'HTTP 200, statusCode 200, data.success true', input: json(200, { statusCode: 200, message: 'ok', requestId: 'r-1', data: { success: true } }), expect: ok },
  { given: 'HTTP 200, statusCode 200, data.success false', input: json(200, { statusCode: 200, message: 'ok', data: { success: false } }), expect: ok },
  { given: 'HTTP 200, statusCode 200 without data', input: json(200, { statusCode: 200, message: 'ok' }), expect: badResponse },
  { given: 'HTTP 200, statusCode 200, data null', input: json(200, { statusCode: 200, data: null }), expect: badResponse },
  { given: 'HTTP 200, statusCode 200, data.success "true" (a string)', input: json(200, { statusCode: 200, data: { success: 'true' } }), expect: badResponse },
  { given: 'HTTP 200, statusCode 200, data without success', input: json(200, { statusCode: 200, data: {} }), expect: badResponse },

  // Every documented statusCode class, on HTTP 200, without an apiCode.
  { given: 'statusCode 400', input: biz(400), expect: { status: 400, code: 'AUTHING_INVALID_ARGUMENT', retry: 'none', upstreamFault: false } },
  { given: 'statusCode 401', input: biz(401), expect: { status: 502, code: 'UPSTREAM_AUTH_REJECTED', retry: 'none', upstreamFault: false } },
  { given: 'statusCode 402', input: biz(402), expect: { status: 502, code: 'UPSTREAM_BILLING', retry: 'none', upstreamFault: false } },
  { given: 'statusCode 403', input: biz(403), expect: { status: 502, code: 'UPSTREAM_FORBIDDEN', retry: 'none', upstreamFault: false } },
  { given: 'statusCode 404', input: biz(404), expect: { status: 404, code: 'AUTHING_NOT_FOUND', retry: 'none', upstreamFault: false } },
  { given: 'statusCode 409', input: biz(409), expect: { status: 409, code: 'AUTHING_CONFLICT', retry: 'none', upstreamFault: false } },
  { given: 'statusCode 413', input: biz(413), expect: { status: 400, code: 'AUTHING_INVALID_ARGUMENT', retry: 'none' } },
  { given: 'statusCode 422', input: biz(422), expect: { status: 422, code: 'AUTHING_INVALID_OPERATION', retry: 'none' } },
  { given: 'statusCode 429 (Authing throttling)', input: biz(429), expect: { status: 429, code: 'AUTHING_THROTTLED', retry: 'safe', retryAfter: 1, upstreamFault: false } },
  { given: 'statusCode 429 with Retry-After: 3', input: json(200, { statusCode: 429, message: AUTHING_TEXT }, '3'), expect: { status: 429, code: 'AUTHING_THROTTLED', retry: 'safe', retryAfterMs: 3000, retryAfter: 3 } },
  { given: 'statusCode 499', input: biz(499), expect: { status: 400, code: 'AUTHING_INVALID_ARGUMENT', retry: 'none' } },
  { given: 'statusCode 500', input: biz(500), expect: upstreamError },
  { given: 'statusCode 501', input: biz(501), expect: upstreamError },
  { given: 'statusCode 502', input: biz(502), expect: upstreamError },
  { given: 'statusCode 503', input: biz(503), expect: { status: 503, code: 'UPSTREAM_UNAVAILABLE', retry: 'none', upstreamFault: true } },
  { given: 'statusCode 601', input: biz(601), expect: upstreamError },
  { given: 'statusCode 602', input: biz(602), expect: upstreamError },
  { given: 'statusCode 603', input: biz(603), expect: upstreamError },
  { given: 'statusCode 777 (undocumented)', input: biz(777), expect: upstreamError },

  // apiCodes decide over statusCode.
  ...[1300, 1301, 1302, 1303, 1304, 1305, 1306].map((apiCode): Row => ({
    given: `statusCode 401, apiCode ${apiCode}`, input: biz(401, { apiCode }), expect: { status: 502, code: 'UPSTREAM_AUTH_REJECTED', retry: 'none', upstreamFault: false }
  })),
  { given: 'statusCode 400, apiCode 1300', input: biz(400, { apiCode: 1300 }), expect: { status: 502, code: 'UPSTREAM_AUTH_REJECTED', retry: 'none' } },
  { given: 'statusCode 404, apiCode 2004', input: biz(404, { apiCode: 2004 }), expect: { status: 404, code: 'USER_NOT_FOUND', retry: 'none', upstreamFault: false } },
  { given: 'statusCode 400, apiCode 2004', input: biz(400, { apiCode: 2004 }), expect: { status: 404, code: 'USER_NOT_FOUND', retry: 'none' } },
  { given: 'statusCode 403, apiCode 2020', input: biz(403, { apiCode: 2020 }), expect: { status: 502, code: 'UPSTREAM_FORBIDDEN', retry: 'none' } },
  { given: 'statusCode 400, apiCode 2020', input: biz(400, { apiCode: 2020 }), expect: { status: 502, code: 'UPSTREAM_FORBIDDEN', retry: 'none' } },
  { given: 'statusCode 404, apiCode 2224 (user pool not found)', input: biz(404, { apiCode: 2224 }), expect: { status: 502, code: 'UPSTREAM_MISCONFIGURED', retry: 'none', upstreamFault: false } },
  { given: 'statusCode 402, apiCode 4021', input: biz(402, { apiCode: 4021 }), expect: { status: 502, code: 'UPSTREAM_BILLING', retry: 'none' } },
  { given: 'statusCode 400, apiCode 4021', input: biz(400, { apiCode: 4021 }), expect: { status: 502, code: 'UPSTREAM_BILLING', retry: 'none' } },
  { given: 'statusCode 403, apiCode 2333 (not one of ours: statusCode decides)', input: biz(403, { apiCode: 2333 }), expect: { status: 502, code: 'UPSTREAM_FORBIDDEN', retry: 'none' } },
  { given: 'statusCode 400, apiCode "2004" (a string: ignored)', input: biz(400, { apiCode: '2004' }), expect: { status: 400, code: 'AUTHING_INVALID_ARGUMENT', retry: 'none' } },

  // HTTP statuses from gateways and rate limiters.
  { given: 'HTTP 429, Retry-After: 7', input: json(429, { statusCode: 429, message: 'throttled' }, '7'), expect: { status: 429, code: 'AUTHING_THROTTLED', retry: 'safe', retryAfterMs: 7000, retryAfter: 7, upstreamFault: false } },
  { given: 'HTTP 429, Retry-After as an HTTP date 30 s ahead', input: empty(429, new Date(NOW + 30_000).toUTCString()), expect: { status: 429, code: 'AUTHING_THROTTLED', retry: 'safe', retryAfterMs: 30_000, retryAfter: 30 } },
  { given: 'HTTP 429 without Retry-After', input: empty(429), expect: { status: 429, code: 'AUTHING_THROTTLED', retry: 'safe', retryAfter: 1 } },
  { given: 'HTTP 429, Retry-After: soon (unreadable)', input: empty(429, 'soon'), expect: { status: 429, code: 'AUTHING_THROTTLED', retry: 'safe', retryAfter: 1 } },
  { given: 'HTTP 503', input: empty(503), expect: { status: 503, code: 'UPSTREAM_UNAVAILABLE', retry: 'safe', retryAfter: 1, upstreamFault: true } },
  { given: 'HTTP 503 with an HTML page', input: html(503), expect: { status: 503, code: 'UPSTREAM_UNAVAILABLE', retry: 'safe', retryAfter: 1, upstreamFault: true } },
  { given: 'HTTP 503 with Retry-After: 5', input: empty(503, '5'), expect: { status: 503, code: 'UPSTREAM_UNAVAILABLE', retry: 'safe', retryAfterMs: 5000, retryAfter: 5, upstreamFault: true } },
  { given: 'HTTP 504', input: html(504), expect: { status: 504, code: 'UPSTREAM_TIMEOUT', retry: 'none', upstreamFault: true } },
  { given: 'HTTP 408', input: empty(408), expect: { status: 504, code: 'UPSTREAM_TIMEOUT', retry: 'none', upstreamFault: true } },
  { given: 'HTTP 500 with an HTML page', input: html(500), expect: upstreamError },
  { given: 'HTTP 500 with an Authing envelope (HTTP 5xx wins)', input: json(500, { statusCode: 400, message: AUTHING_TEXT }), expect: upstreamError },
  { given: 'HTTP 502 with an HTML page', input: html(502), expect: upstreamError },
  { given: 'HTTP 401 with an envelope', input: json(401, { statusCode: 401, message: AUTHING_TEXT }), expect: { status: 502, code: 'UPSTREAM_AUTH_REJECTED', retry: 'none', upstreamFault: false } },
  { given: 'HTTP 401 with an empty body', input: empty(401), expect: { status: 502, code: 'UPSTREAM_AUTH_REJECTED', retry: 'none' } },
  { given: 'HTTP 403', input: html(403), expect: { status: 502, code: 'UPSTREAM_FORBIDDEN', retry: 'none', upstreamFault: false } },
  { given: 'HTTP 404 with an HTML page (wrong host or path)', input: html(404), expect: misconfigured },
  { given: 'HTTP 404 with an empty body', input: empty(404), expect: misconfigured },
  { given: 'HTTP 404 with JSON that is not an envelope', input: json(404, { error: 'Not Found' }), expect: misconfigured },
  { given: 'HTTP 404 with a success envelope', input: json(404, { statusCode: 200, data: { success: true } }), expect: misconfigured },
  { given: 'HTTP 404 with an Authing envelope, apiCode 2004', input: json(404, { statusCode: 404, apiCode: 2004, message: AUTHING_TEXT }), expect: { status: 404, code: 'USER_NOT_FOUND', retry: 'none' } },
  { given: 'HTTP 400 with an Authing envelope', input: json(400, { statusCode: 400, message: AUTHING_TEXT }), expect: { status: 400, code: 'AUTHING_INVALID_ARGUMENT', retry: 'none' } },
  { given: 'HTTP 301', input: empty(301), expect: misconfigured },
  { given: 'HTTP 302 with an HTML page', input: html(302), expect: misconfigured },
  { given: 'HTTP 307', input: empty(307), expect: misconfigured },

  // Bodies that are not Authing's envelope on a 2xx.
  { given: 'HTTP 200 with an HTML page', input: html(200), expect: badResponse },
  { given: 'HTTP 200 with an empty body', input: empty(200), expect: badResponse },
  { given: 'HTTP 204', input: empty(204), expect: badResponse },
  { given: 'HTTP 200 with a body over the size limit', input: { kind: 'response', httpStatus: 200, body: { kind: 'too-large' } }, expect: badResponse },
  { given: 'HTTP 200 with a JSON array', input: json(200, [{ statusCode: 200 }]), expect: badResponse },
  { given: 'HTTP 200 with a JSON string', input: json(200, 'ok'), expect: badResponse },
  { given: 'HTTP 200 with JSON null', input: json(200, null), expect: badResponse },
  { given: 'HTTP 200 with statusCode "200" (a string)', input: json(200, { statusCode: '200', data: { success: true } }), expect: badResponse },
  { given: 'HTTP 200 with statusCode 200.5', input: json(200, { statusCode: 200.5, data: { success: true } }), expect: badResponse },
  { given: 'HTTP 200 with an empty object', input: json(200, {}), expect: badResponse },

  // Transport faults.
  { given: 'a request that was never sent', input: { kind: 'fault', fault: 'not-sent' }, expect: { status: 502, code: 'UPSTREAM_CONNECTION_FAILED', retry: 'safe', upstreamFault: true } },
  { given: 'a timeout', input: { kind: 'fault', fault: 'timeout' }, expect: { status: 504, code: 'UPSTREAM_TIMEOUT', retry: 'none', upstreamFault: true } },
  { given: 'a connection lost mid-request', input: { kind: 'fault', fault: 'connection-lost' }, expect: { status: 502, code: 'UPSTREAM_CONNECTION_FAILED', retry: 'none', upstreamFault: true } },
  { given: 'another network error', input: { kind: 'fault', fault: 'network' }, expect: { status: 502, code: 'UPSTREAM_CONNECTION_FAILED', retry: 'none', upstreamFault: true } },

  // Management-token mode: a refused token is refreshed once, a signature code is not a token problem.
  { given: 'token mode, statusCode 401', input: biz(401), tokenMode: true, expect: { status: 502, code: 'UPSTREAM_AUTH_REJECTED', retry: 'token' } },
  { given: 'token mode, statusCode 401, apiCode 2020', input: biz(401, { apiCode: 2020 }), tokenMode: true, expect: { status: 502, code: 'UPSTREAM_FORBIDDEN', retry: 'token' } },
  { given: 'token mode, statusCode 401, apiCode 1300', input: biz(401, { apiCode: 1300 }), tokenMode: true, expect: { status: 502, code: 'UPSTREAM_AUTH_REJECTED', retry: 'none' } },
  { given: 'token mode, statusCode 403', input: biz(403), tokenMode: true, expect: { status: 502, code: 'UPSTREAM_FORBIDDEN', retry: 'none' } },
  { given: 'token mode, statusCode 404, apiCode 2224', input: biz(404, { apiCode: 2224 }), tokenMode: true, expect: { status: 502, code: 'UPSTREAM_MISCONFIGURED', retry: 'none' } },
  { given: 'token mode, HTTP 401 with an empty body', input: empty(401), tokenMode: true, expect: { status: 502, code: 'UPSTREAM_AUTH_REJECTED', retry: 'token' } },
  {
    given: 'token mode, HTTP 401 with apiCode 1301',
    input: json(401, { statusCode: 401, apiCode: 1301, message: AUTHING_TEXT }),
    tokenMode: true,
    expect: { status: 502, code: 'UPSTREAM_AUTH_REJECTED', retry: 'none' }
  },
  { given: 'token mode, a timeout', input: { kind: 'fault', fault: 'timeout' }, tokenMode: true, expect: { status: 504, code: 'UPSTREAM_TIMEOUT', retry: 'none' } }
]

function statusOf (mapped: Mapped): number { return mapped.ok ? 200 : mapped.error.statusCode }
function codeOf (mapped: Mapped): ErrorCode | 'ok' { return mapped.ok ? 'ok' : mapped.error.code }

/** Retry classes worked out from the input alone, as the contract describes them. */
function expectedRetry (row: Row): RetryClass {
  const input = row.input
  if (input.kind === 'fault') return input.fault === 'not-sent' ? 'safe' : 'none'
  if (input.httpStatus === 429 || input.httpStatus === 503) return 'safe'
  const value = input.body.kind === 'json' ? input.body.value as { statusCode?: unknown, apiCode?: unknown } | null : null
  const envelope = value !== null && typeof value === 'object' && !Array.isArray(value) && Number.isInteger(value.statusCode) ? value : undefined
  if (input.httpStatus >= 500 || input.httpStatus === 408) return 'none'
  const signatureCode = typeof envelope?.apiCode === 'number' && envelope.apiCode >= 1300 && envelope.apiCode <= 1306
  if (row.tokenMode === true && (input.httpStatus === 401 || envelope?.statusCode === 401) && !signatureCode) return 'token'
  if (input.httpStatus >= 200 && input.httpStatus < 300 && envelope?.statusCode === 429) return 'safe'
  return 'none'
}

t.test('mapAttempt: input → HTTP status, code, retry', async (t) => {
  for (const row of rows) {
    const { status, code, retry } = row.expect
    const name = `${row.given} → ${status} ${code}, retry ${retry}`
    // A known bug marks only the assertion it breaks, so the rest of the row keeps guarding.
    const known = row.todo !== undefined ? { todo: row.todo } : {}
    t.test(name, async (t) => {
      const mapped = mapAttempt(row.input, { tokenMode: row.tokenMode ?? false, now: NOW })
      t.equal(statusOf(mapped), status, 'HTTP status')
      t.equal(codeOf(mapped), code, 'code')
      t.equal(mapped.retry, retry, 'retry class', known)
      t.equal(mapped.retry, expectedRetry(row), 'retry class agrees with the contract\'s rule', known)
      if (mapped.ok) return
      t.equal(mapped.error.statusCode, ERROR_CATALOG[mapped.error.code].status, 'the status comes from the catalog')
      t.not(mapped.error.statusCode, 401, 'Authing refusing our credentials is never a 401 to the caller')
      t.equal(mapped.retryAfterMs, row.expect.retryAfterMs, 'the wait Authing asked for')
      t.equal(mapped.error.retryAfter, row.expect.retryAfter, 'the Retry-After seconds for the caller')
      if (row.expect.upstreamFault !== undefined) t.equal(mapped.upstreamFault, row.expect.upstreamFault, 'upstreamFault')
      if (!CALLER_FACING.includes(mapped.error.code)) {
        t.equal(mapped.error.message, ERROR_CATALOG[mapped.error.code].message, 'an operator-facing error uses the catalog message')
        t.notMatch(mapped.error.message, /AUTHING-SAYS|mismatch|expected/, 'nothing of Authing\'s own text')
      }
    })
  }
})

t.test('a throttle or an outage without Retry-After: our retry uses its backoff, the caller is told 1 second', async (t) => {
  for (const input of [empty(429), biz(429), empty(503)]) {
    const mapped = mapAttempt(input)
    t.equal(mapped.ok ? 'ok' : mapped.retryAfterMs, undefined)
    t.equal(mapped.ok ? 'ok' : mapped.error.retryAfter, 1)
  }
  const timeout = mapAttempt({ kind: 'fault', fault: 'timeout' })
  t.equal(timeout.ok ? 'ok' : timeout.error.retryAfter, undefined, 'a timeout carries no Retry-After')
})

t.test('what Authing said is kept as facts for the error envelope', async (t) => {
  const mapped = mapAttempt(biz(404, { apiCode: 2004 }))
  t.notOk(mapped.ok)
  if (mapped.ok) return
  t.same(mapped.error.authing, { statusCode: 404, apiCode: 2004, requestId: 'req-9' })

  const throttled = mapAttempt(json(429, { statusCode: 429, requestId: 'req-t' }, '2'))
  t.same(throttled.ok ? undefined : throttled.error.authing, { statusCode: 429, requestId: 'req-t' }, 'a gateway 429 keeps an envelope it carried')

  const success = mapAttempt(json(200, { statusCode: 200, message: '操作成功', requestId: 'r-1', data: { success: true, extra: 1 } }))
  t.same(success.ok ? success.envelope : undefined, { statusCode: 200, message: '操作成功', requestId: 'r-1', data: { success: true } }, 'only the documented success fields pass')
  t.same(success.ok ? success.authing : undefined, { statusCode: 200, requestId: 'r-1' })
})

t.test('Authing\'s message reaches the caller only for caller-facing codes', async (t) => {
  const said = '用户 ID 格式错误'
  for (const [statusCode, extra, code] of [
    [400, {}, 'AUTHING_INVALID_ARGUMENT'],
    [404, {}, 'AUTHING_NOT_FOUND'],
    [404, { apiCode: 2004 }, 'USER_NOT_FOUND'],
    [409, {}, 'AUTHING_CONFLICT'],
    [422, {}, 'AUTHING_INVALID_OPERATION']
  ] as const) {
    const mapped = mapAttempt(json(200, { statusCode, message: said, ...extra }))
    t.equal(mapped.ok ? undefined : mapped.error.code, code)
    t.equal(mapped.ok ? undefined : mapped.error.message, said, `${code} carries Authing's message`)
  }
  const withoutMessage = mapAttempt(json(200, { statusCode: 409 }))
  t.equal(withoutMessage.ok ? undefined : withoutMessage.error.message, ERROR_CATALOG.AUTHING_CONFLICT.message, 'the catalog message when Authing gave none')
  const emptyMessage = mapAttempt(json(200, { statusCode: 409, message: '' }))
  t.equal(emptyMessage.ok ? undefined : emptyMessage.error.message, ERROR_CATALOG.AUTHING_CONFLICT.message, 'or an empty one')
  for (const statusCode of [401, 402, 403, 429, 500, 503]) {
    const mapped = mapAttempt(json(200, { statusCode, message: 'Signature mismatch: the server computed a different signature' }))
    t.notMatch(mapped.ok ? '' : mapped.error.message, /Signature mismatch|server computed/, `statusCode ${statusCode} keeps Authing's words out`)
  }
})

t.test('Authing\'s message and request id are length-capped', async (t) => {
  const long = mapAttempt(json(200, { statusCode: 400, message: 'x'.repeat(5000) }))
  t.equal(long.ok ? -1 : long.error.message.length, 500, 'a message is cut to 500 characters')

  const requestId128 = 'r'.repeat(128)
  const kept = mapAttempt(json(200, { statusCode: 404, requestId: requestId128 }))
  t.equal(kept.ok ? undefined : kept.error.authing?.requestId, requestId128, 'a request id of 128 characters is kept')
  const dropped = mapAttempt(json(200, { statusCode: 404, requestId: 'r'.repeat(129) }))
  t.equal(dropped.ok ? 'ok' : dropped.error.authing?.requestId, undefined, 'a longer one is not passed on')
  const successDropped = mapAttempt(json(200, { statusCode: 200, requestId: 'r'.repeat(129), data: { success: true } }))
  t.notOk(successDropped.ok && 'requestId' in successDropped.envelope, 'nor on success')
  const notString = mapAttempt(json(200, { statusCode: 404, requestId: 42 }))
  t.equal(notString.ok ? 'ok' : notString.error.authing?.requestId, undefined, 'a request id that is not a string is dropped')
})

t.test('the message cap never cuts a character in half', async (t) => {
  const mapped = mapAttempt(json(200, { statusCode: 400, message: `a${'😀'.repeat(300)}` }))
  const message = mapped.ok ? '' : mapped.error.message
  t.ok(message.isWellFormed(), 'no lone surrogate')
  t.ok(message.length <= 500)
})

t.test('parseRetryAfter', async (t) => {
  t.equal(parseRetryAfter('5', NOW), 5000, 'seconds')
  t.equal(parseRetryAfter(' 0 ', NOW), 0, 'zero, with spaces')
  t.equal(parseRetryAfter(new Date(NOW + 12_000).toUTCString(), NOW), 12_000, 'an HTTP date')
  t.equal(parseRetryAfter(new Date(NOW - 60_000).toUTCString(), NOW), 0, 'a date in the past means now')
  t.equal(parseRetryAfter(undefined, NOW), undefined, 'absent')
  t.equal(parseRetryAfter('', NOW), undefined, 'empty')
  t.equal(parseRetryAfter('later', NOW), undefined, 'unreadable')
})

t.test('a throttle with Retry-After: 0 still tells the caller to wait at least a second', async (t) => {
  const mapped = mapAttempt(empty(429, '0'))
  t.equal(mapped.ok ? undefined : mapped.error.retryAfter, 1)
  t.equal(mapped.ok ? undefined : mapped.retryAfterMs, 0)
})
