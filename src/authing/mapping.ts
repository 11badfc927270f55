// How one answer (or non-answer) from Authing becomes what the caller sees, and whether it may be retried.
// Authing reports business errors as HTTP 200 with a non-200 `statusCode` in the body (authing-contract.md §3),
// so the body decides; HTTP statuses only speak for gateways and rate limiters in front of Authing.
import { ServiceError, type AuthingFacts, type ErrorCode } from '../errors.ts'

/** What came back from one attempt, reduced to the facts the mapping needs. */
export type AttemptResult =
  | { kind: 'response', httpStatus: number, retryAfter?: string | undefined, body: ParsedBody }
  | { kind: 'fault', fault: TransportFault }

export type ParsedBody =
  | { kind: 'json', value: unknown }
  | { kind: 'not-json', contentType: string }
  | { kind: 'empty' }
  | { kind: 'too-large' }

/**
 * `not-sent`: the request provably never reached Authing (refused, DNS, a stale keep-alive socket reset
 * before any byte of an answer). The others may have reached it.
 */
export type TransportFault = 'not-sent' | 'timeout' | 'connection-lost' | 'network' | 'bad-response'

export interface SuccessEnvelope {
  statusCode: 200
  message: string
  requestId?: string
  data: { success: boolean }
}

/**
 * `safe`: Authing cannot have acted on the request, so a freshly signed retry is safe.
 * `token`: Authing refused the management token (token mode refreshes it once and retries once).
 */
export type RetryClass = 'safe' | 'token' | 'none'

export type Mapped =
  | { ok: true, envelope: SuccessEnvelope, authing: AuthingFacts, retry: 'none' }
  | {
    ok: false
    error: ServiceError
    retry: RetryClass
    /** The wait Authing asked for (Retry-After), if it asked; a retry honours it instead of the backoff. */
    retryAfterMs?: number | undefined
    upstreamFault: boolean
  }

const MAX_MESSAGE_LENGTH = 500
const MAX_REQUEST_ID_LENGTH = 128

interface Envelope {
  statusCode: number
  message?: string
  apiCode?: number
  requestId?: string
  data?: unknown
}

function asEnvelope (value: unknown): Envelope | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined
  const record = value as Record<string, unknown>
  // A business status is a three-digit code (Authing's go up to 603); anything else is not an envelope.
  if (typeof record.statusCode !== 'number' || !Number.isInteger(record.statusCode) || record.statusCode < 100 || record.statusCode > 999) return undefined
  const envelope: Envelope = { statusCode: record.statusCode, data: record.data }
  if (typeof record.message === 'string') envelope.message = cleanMessage(record.message)
  if (typeof record.apiCode === 'number' && Number.isSafeInteger(record.apiCode) && record.apiCode >= 0) envelope.apiCode = record.apiCode
  if (typeof record.requestId === 'string' && record.requestId.length <= MAX_REQUEST_ID_LENGTH) envelope.requestId = record.requestId
  return envelope
}

/**
 * Authing's message as the caller may see it: control and bidirectional-override characters removed (they
 * could disguise text in a terminal or a log viewer), capped without ending in half a character.
 */
function cleanMessage (message: string): string {
  // eslint-disable-next-line no-control-regex
  const clean = message.replace(/[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, ' ')
  return clean.slice(0, MAX_MESSAGE_LENGTH).replace(/[\uD800-\uDBFF]$/, '')
}

function factsOf (envelope: Envelope): AuthingFacts {
  const facts: AuthingFacts = { statusCode: envelope.statusCode }
  if (envelope.apiCode !== undefined) facts.apiCode = envelope.apiCode
  if (envelope.requestId !== undefined) facts.requestId = envelope.requestId
  return facts
}

/** The longest wait passed on from Authing's Retry-After: an hour. */
export const MAX_RETRY_AFTER_MS = 3600 * 1000

/** Seconds or an HTTP date → milliseconds from now, at most an hour; undefined when absent or unreadable. */
export function parseRetryAfter (value: string | undefined, now = Date.now()): number | undefined {
  if (value === undefined || value.trim() === '') return undefined
  let ms: number
  if (/^\s*\d+\s*$/.test(value)) {
    ms = Number(value) * 1000
  } else {
    const at = Date.parse(value)
    if (Number.isNaN(at)) return undefined
    ms = Math.max(0, at - now)
  }
  return Math.min(ms, MAX_RETRY_AFTER_MS)
}

/** 1300–1306: the request's signature, date or nonce was refused (authing-contract.md §1e). */
function isSignatureApiCode (apiCode: number): boolean {
  return apiCode >= 1300 && apiCode <= 1306
}

/** apiCodes that decide the mapping whatever the statusCode (authing-contract.md §1e, §3). */
function codeForApiCode (apiCode: number): ErrorCode | undefined {
  if (isSignatureApiCode(apiCode)) return 'UPSTREAM_AUTH_REJECTED'
  switch (apiCode) {
    case 2004: return 'USER_NOT_FOUND'
    case 2020: return 'UPSTREAM_FORBIDDEN'
    case 2224: return 'UPSTREAM_MISCONFIGURED' // user pool not found
    case 4021: return 'UPSTREAM_BILLING'
    default: return undefined
  }
}

function codeForStatusCode (statusCode: number): ErrorCode {
  switch (statusCode) {
    case 400: case 413: case 499: return 'AUTHING_INVALID_ARGUMENT'
    case 401: return 'UPSTREAM_AUTH_REJECTED'
    case 402: return 'UPSTREAM_BILLING'
    case 403: return 'UPSTREAM_FORBIDDEN'
    case 404: return 'AUTHING_NOT_FOUND'
    case 409: return 'AUTHING_CONFLICT'
    case 422: return 'AUTHING_INVALID_OPERATION'
    case 429: return 'AUTHING_THROTTLED'
    case 503: return 'UPSTREAM_UNAVAILABLE'
    default: return 'UPSTREAM_ERROR'
  }
}

/** Authing's own message is shown only where it speaks to the caller about their request. */
const CALLER_FACING: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'AUTHING_INVALID_ARGUMENT', 'USER_NOT_FOUND', 'AUTHING_NOT_FOUND', 'AUTHING_CONFLICT', 'AUTHING_INVALID_OPERATION'
])

/** What a caller is told to wait when Authing throttles without saying for how long. */
const DEFAULT_THROTTLE_RETRY_AFTER_MS = 1000

interface FailExtra {
  authing?: AuthingFacts
  message?: string | undefined
  retry?: RetryClass
  retryAfterMs?: number | undefined
  /** The Retry-After for the caller when Authing gave none. */
  callerRetryAfterMs?: number | undefined
  upstreamFault?: boolean
}

function fail (code: ErrorCode, extra: FailExtra = {}): Mapped {
  const retryAfterMs = extra.retryAfterMs
  const callerRetryAfterMs = retryAfterMs ?? extra.callerRetryAfterMs
  const error = new ServiceError(code, {
    ...(extra.authing ? { authing: extra.authing } : {}),
    ...(extra.message ? { message: extra.message } : {}),
    ...(callerRetryAfterMs !== undefined ? { retryAfter: Math.max(1, Math.ceil(callerRetryAfterMs / 1000)) } : {})
  })
  return { ok: false, error, retry: extra.retry ?? 'none', retryAfterMs, upstreamFault: extra.upstreamFault ?? false }
}

function mapEnvelope (envelope: Envelope, retryAfterMs: number | undefined, tokenMode: boolean): Mapped {
  const authing = factsOf(envelope)
  if (envelope.statusCode === 200) {
    const data = envelope.data as { success?: unknown } | undefined
    if (typeof data !== 'object' || data === null || typeof data.success !== 'boolean') {
      return fail('UPSTREAM_BAD_RESPONSE', { authing, upstreamFault: true })
    }
    const success: SuccessEnvelope = { statusCode: 200, message: envelope.message ?? '', data: { success: data.success } }
    if (envelope.requestId !== undefined) success.requestId = envelope.requestId
    return { ok: true, envelope: success, authing, retry: 'none' }
  }
  const code = (envelope.apiCode !== undefined ? codeForApiCode(envelope.apiCode) : undefined) ?? codeForStatusCode(envelope.statusCode)
  const message = CALLER_FACING.has(code) && envelope.message ? envelope.message : undefined
  if (code === 'AUTHING_THROTTLED') {
    return fail(code, { authing, retry: 'safe', retryAfterMs, callerRetryAfterMs: DEFAULT_THROTTLE_RETRY_AFTER_MS })
  }
  const isSignatureCode = envelope.apiCode !== undefined && isSignatureApiCode(envelope.apiCode)
  const retry: RetryClass = tokenMode && envelope.statusCode === 401 && !isSignatureCode ? 'token' : 'none'
  const upstreamFault = code === 'UPSTREAM_ERROR' || code === 'UPSTREAM_UNAVAILABLE'
  return fail(code, { authing, message, retry, upstreamFault })
}

/** Maps one attempt. `tokenMode` marks an Authing 401 as a refused management token. */
export function mapAttempt (result: AttemptResult, options: { tokenMode?: boolean, now?: number } = {}): Mapped {
  const tokenMode = options.tokenMode ?? false
  if (result.kind === 'fault') {
    switch (result.fault) {
      case 'not-sent': return fail('UPSTREAM_CONNECTION_FAILED', { retry: 'safe', upstreamFault: true })
      case 'timeout': return fail('UPSTREAM_TIMEOUT', { upstreamFault: true })
      case 'bad-response': return fail('UPSTREAM_BAD_RESPONSE', { upstreamFault: true })
      default: return fail('UPSTREAM_CONNECTION_FAILED', { upstreamFault: true })
    }
  }

  const { httpStatus } = result
  const retryAfterMs = parseRetryAfter(result.retryAfter, options.now)
  const envelope = result.body.kind === 'json' ? asEnvelope(result.body.value) : undefined

  // A gateway or rate limiter refused the request before Authing processed it.
  if (httpStatus === 429) {
    return fail('AUTHING_THROTTLED', {
      ...(envelope ? { authing: factsOf(envelope) } : {}),
      retry: 'safe',
      retryAfterMs,
      callerRetryAfterMs: DEFAULT_THROTTLE_RETRY_AFTER_MS
    })
  }
  if (httpStatus === 503) {
    return fail('UPSTREAM_UNAVAILABLE', { retry: 'safe', retryAfterMs, callerRetryAfterMs: DEFAULT_THROTTLE_RETRY_AFTER_MS, upstreamFault: true })
  }
  if (httpStatus === 504 || httpStatus === 408) return fail('UPSTREAM_TIMEOUT', { upstreamFault: true })
  if (httpStatus >= 500) return fail('UPSTREAM_ERROR', { upstreamFault: true })
  if (httpStatus === 401) {
    // A signature apiCode says the AK/SK path failed, not the token: refreshing the token cannot help.
    const tokenRefused = tokenMode && !(envelope?.apiCode !== undefined && isSignatureApiCode(envelope.apiCode))
    return fail('UPSTREAM_AUTH_REJECTED', { ...(envelope ? { authing: factsOf(envelope) } : {}), retry: tokenRefused ? 'token' : 'none' })
  }
  if (httpStatus === 403) return fail('UPSTREAM_FORBIDDEN', envelope ? { authing: factsOf(envelope) } : {})
  if (httpStatus < 200 || httpStatus >= 300) {
    // A redirect or a 4xx without Authing's envelope means the host or path is wrong, not the request.
    if (envelope === undefined || envelope.statusCode === 200) return fail('UPSTREAM_MISCONFIGURED')
    return mapEnvelope(envelope, retryAfterMs, tokenMode)
  }
  if (envelope === undefined) return fail('UPSTREAM_BAD_RESPONSE', { upstreamFault: true })
  return mapEnvelope(envelope, retryAfterMs, tokenMode)
}
