// The call to Authing: sign (or attach the management token), send with ky, map the answer, and retry
// only where a retry is provably safe. Every attempt is signed afresh: Authing refuses a replayed nonce.
import ky, { TimeoutError, type Options as KyOptions } from 'ky'
import type { AuthingCredentials, AuthMode } from '../config.ts'
import { isServiceError, ServiceError, type AuthingFacts } from '../errors.ts'
import type { Bulkhead } from '../resilience/bulkhead.ts'
import type { CircuitBreaker } from '../resilience/breaker.ts'
import { mapAttempt, type AttemptResult, type Mapped, type ParsedBody } from './mapping.ts'
import { newNonce, signedHeaders } from './signature.ts'
import { TokenCache, userPoolIdFromJwt, type ManagementToken } from './token.ts'
import { acceptsPreparedRequest, classifyTransportError, describeTransportError, PREPARED_REQUEST_OPTION, ResponseTooLargeError, type PreparedRequest } from './transport.ts'
import { SERVICE_VERSION } from '../version.ts'

export const DELETE_PATH = '/api/v3/delete-user-sync-relations'
export const TOKEN_PATH = '/api/v3/get-management-token'
const USER_AGENT = `sync-relations-proxy/${SERVICE_VERSION} Node.js/${process.version}`

export interface DeleteInput {
  provider: string
  userId: string
  userIdType: string
}

/** One attempt, as metrics and logs see it. Never holds a URL, a header or a body. */
export interface AttemptObservation {
  outcome: 'success' | 'authing_error' | 'upstream_fault'
  httpStatus?: number
  authing?: AuthingFacts
  fault?: string
  durationMs: number
}

export interface CallReport {
  mapped: Mapped
  /** Requests actually sent to Authing for this call (0 when it failed fast). */
  attempts: number
  /** The last transport failure, as error classes and codes only (never a URL or body), for the log. */
  fault?: string | undefined
}

export interface AuthingClientOptions {
  baseUrl: string
  credentials: AuthingCredentials
  lang: string
  tenantId?: string | undefined
  authMode: AuthMode
  attemptTimeoutMs: number
  maxAttempts: number
  retryBaseMs: number
  retryMaxDelayMs: number
  bulkhead: Bulkhead
  breaker: CircuitBreaker
  fetch: typeof fetch
  onAttempt?: (observation: AttemptObservation) => void
  random?: () => number
  sleep?: (ms: number) => Promise<void>
  /** Aborted when shutdown can wait no longer: calls in flight end as timeouts (outcome unknown). */
  shutdownSignal?: AbortSignal | undefined
}

function parseBody (contentType: string, text: string): ParsedBody {
  if (text.trim() === '') return { kind: 'empty' }
  try {
    return { kind: 'json', value: JSON.parse(text) }
  } catch {
    return { kind: 'not-json', contentType }
  }
}

const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** A failed management-token fetch, carrying what the token endpoint answered. */
class TokenFetchFailed extends Error {
  readonly mapped: Mapped
  constructor (mapped: Mapped) {
    super('management token fetch failed')
    this.mapped = mapped
  }
}

export class AuthingClient {
  readonly #options: AuthingClientOptions
  readonly #tokens: TokenCache
  readonly #random: () => number
  readonly #sleep: (ms: number) => Promise<void>
  /** The fetch takes the request's headers and body ready-made (see PREPARED_REQUEST_OPTION). */
  readonly #prepared: boolean

  constructor (options: AuthingClientOptions) {
    this.#options = options
    this.#prepared = acceptsPreparedRequest(options.fetch)
    this.#random = options.random ?? Math.random
    this.#sleep = options.sleep ?? defaultSleep
    this.#tokens = new TokenCache(async () => this.#fetchToken())
  }

  /** Removes the relation; resolves with the mapped result (never rejects for upstream reasons). */
  async deleteUserSyncRelations (input: DeleteInput, deadline: number): Promise<CallReport> {
    // Key order as the SDK sends it; only top-level values are signed.
    const body = { provider: input.provider, userId: input.userId, userIdType: input.userIdType }
    const { breaker, bulkhead, maxAttempts, retryMaxDelayMs } = this.#options
    const shutdown = this.#options.shutdownSignal
    const shuttingDown = (): boolean => shutdown?.aborted === true
    let attempts = 0
    let tokenRefreshed = false
    let last: Mapped | undefined
    let fault: string | undefined

    for (;;) {
      if (shuttingDown()) return { mapped: last ?? failFast(new ServiceError('SHUTTING_DOWN', { retryAfter: 1 })), attempts, fault }
      let ticket: { probe: boolean }
      let release: () => void
      try {
        ticket = breaker.admit()
      } catch (error) {
        return { mapped: last ?? failFast(error), attempts, fault }
      }
      try {
        release = await bulkhead.acquire(deadline, shutdown)
      } catch (error) {
        breaker.release(ticket)
        return { mapped: last ?? failFast(error), attempts, fault }
      }

      let outcome: { mapped: Mapped, sent: boolean, token?: string | undefined, fault?: string | undefined }
      try {
        outcome = await this.#attempt(body, deadline)
      } catch (error) {
        // Never leave the breaker waiting on a probe that will not report back.
        breaker.release(ticket)
        throw error
      } finally {
        release()
      }
      if (outcome.sent) attempts += 1
      if (outcome.fault !== undefined) fault = outcome.fault
      const mapped = outcome.mapped
      last = mapped
      if (mapped.ok || !mapped.upstreamFault) breaker.success(ticket)
      else breaker.failure(ticket)
      if (mapped.ok) return { mapped, attempts, fault }

      if (mapped.retry === 'token' && !tokenRefreshed && outcome.token !== undefined) {
        tokenRefreshed = true
        this.#tokens.invalidate(outcome.token)
        continue
      }
      if (mapped.retry !== 'safe' || attempts >= maxAttempts || shuttingDown()) return { mapped, attempts, fault }
      const delay = mapped.retryAfterMs ?? this.#backoff(attempts)
      // A wait longer than we may spend is the caller's to make: they get Retry-After instead.
      if (delay > retryMaxDelayMs || Date.now() + delay >= deadline) return { mapped, attempts, fault }
      await this.#sleep(delay)
    }
  }

  /** Full jitter over a doubling base, capped. */
  #backoff (attemptsSoFar: number): number {
    const { retryBaseMs, retryMaxDelayMs } = this.#options
    return Math.floor(this.#random() * Math.min(retryMaxDelayMs, retryBaseMs * 2 ** (attemptsSoFar - 1)))
  }

  async #attempt (body: Record<string, string>, deadline: number): Promise<{ mapped: Mapped, sent: boolean, token?: string | undefined, fault?: string | undefined }> {
    const { authMode, credentials, lang, tenantId } = this.#options
    let headers: Record<string, string>
    let token: ManagementToken | undefined
    if (authMode === 'signature') {
      headers = signedHeaders({ ...credentials, method: 'POST', path: DELETE_PATH, body, lang, tenantId, date: new Date(), nonce: newNonce() })
    } else {
      try {
        token = await this.#tokens.get()
      } catch (error) {
        if (error instanceof TokenFetchFailed) return { mapped: error.mapped, sent: true }
        throw error
      }
      headers = { authorization: `Bearer ${token.token}`, 'x-authing-userpool-id': token.userPoolId, 'x-authing-lang': lang }
      if (tenantId) headers['x-authing-app-id'] = tenantId
    }
    const { result, durationMs, fault } = await this.#send(DELETE_PATH, headers, body, deadline)
    const mapped = mapAttempt(result, { tokenMode: authMode === 'token' })
    this.#options.onAttempt?.(observation(result, mapped, durationMs, fault))
    return { mapped, sent: true, token: token?.token, fault }
  }

  async #send (path: string, headers: Record<string, string>, body: Record<string, string>, deadline: number): Promise<{ result: AttemptResult, durationMs: number, fault?: string }> {
    const remaining = deadline - Date.now()
    if (remaining <= 0) return { result: { kind: 'fault', fault: 'timeout' }, durationMs: 0 }
    const started = performance.now()
    const wireHeaders: Record<string, string> = { accept: 'application/json', 'content-type': 'application/json', 'user-agent': USER_AGENT, ...headers }
    const options: KyOptions = { timeout: Math.min(this.#options.attemptTimeoutMs, remaining), retry: 0, throwHttpErrors: false, fetch: this.#options.fetch }
    const shutdown = this.#options.shutdownSignal
    if (this.#prepared) {
      // Our own transport takes the header record and the body as they are (ky forwards the option to
      // it), so ky's Request carries no copy of them to build and then read back. It also listens to
      // the shutdown signal itself: given to ky, that signal would cost an AbortSignal.any per call.
      const prepared: PreparedRequest = { headers: wireHeaders, body: JSON.stringify(body), abortSignal: shutdown }
      ;(options as Record<string, unknown>)[PREPARED_REQUEST_OPTION] = prepared
    } else {
      if (shutdown !== undefined) options.signal = shutdown
      options.headers = wireHeaders
      options.body = JSON.stringify(body)
    }
    try {
      const response = await ky.post(`${this.#options.baseUrl}${path}`, options)
      const text = await response.text()
      const result: AttemptResult = {
        kind: 'response',
        httpStatus: response.status,
        retryAfter: response.headers.get('retry-after') ?? undefined,
        body: parseBody(response.headers.get('content-type') ?? '', text)
      }
      return { result, durationMs: performance.now() - started }
    } catch (error) {
      const durationMs = performance.now() - started
      if (error instanceof ResponseTooLargeError) return { result: { kind: 'response', httpStatus: 200, body: { kind: 'too-large' } }, durationMs }
      // Cut off by shutdown: like a timeout, Authing may or may not have acted.
      const timedOut = error instanceof TimeoutError || shutdown?.aborted === true
      return { result: { kind: 'fault', fault: classifyTransportError(error, timedOut) }, durationMs, fault: describeTransportError(error) }
    }
  }

  /** Management-token mode: exchange the AK/SK for a token (not retried here; the call's loop decides). */
  async #fetchToken (): Promise<ManagementToken> {
    const { credentials, lang } = this.#options
    const deadline = Date.now() + this.#options.attemptTimeoutMs
    const { result } = await this.#send(TOKEN_PATH, { 'x-authing-lang': lang }, { accessKeyId: credentials.accessKeyId, accessKeySecret: credentials.accessKeySecret }, deadline)
    if (result.kind === 'response' && result.httpStatus === 200 && result.body.kind === 'json') {
      const value = result.body.value
      const envelope = (typeof value === 'object' && value !== null ? value : {}) as { statusCode?: unknown, data?: { access_token?: unknown, expires_in?: unknown } | null }
      const accessToken = envelope.data?.access_token
      const expiresIn = envelope.data?.expires_in
      if (envelope.statusCode === 200 && typeof accessToken === 'string' && typeof expiresIn === 'number' && expiresIn > 0) {
        const userPoolId = userPoolIdFromJwt(accessToken) ?? credentials.accessKeyId
        return { token: accessToken, userPoolId, expiresAt: Date.now() + expiresIn * 1000 }
      }
      if (envelope.statusCode === 200) throw new TokenFetchFailed(mapAttempt({ kind: 'response', httpStatus: 200, body: { kind: 'empty' } }))
    }
    // A refused AK/SK is an operator problem; a 401 here must not trigger the token-refresh retry.
    throw new TokenFetchFailed(mapAttempt(result))
  }
}

function observation (result: AttemptResult, mapped: Mapped, durationMs: number, fault: string | undefined): AttemptObservation {
  if (result.kind === 'fault') return { outcome: 'upstream_fault', fault: fault ?? result.fault, durationMs }
  const authing = mapped.ok ? mapped.authing : mapped.error.authing
  return {
    outcome: mapped.ok ? 'success' : mapped.upstreamFault ? 'upstream_fault' : 'authing_error',
    httpStatus: result.httpStatus,
    ...(authing !== undefined ? { authing } : {}),
    durationMs
  }
}

function failFast (error: unknown): Mapped {
  const serviceError = isServiceError(error) ? error : new ServiceError('INTERNAL_ERROR')
  return { ok: false, error: serviceError, retry: 'none', upstreamFault: false }
}
