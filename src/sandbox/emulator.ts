// A stand-in for Authing's `delete-user-sync-relations` operation: it checks signatures and tokens as
// Authing does (authing-contract.md §1, §1e), answers in Authing's envelope (§3), and can misbehave on
// request (fault modes) so that the proxy's handling of a bad upstream can be seen and tested.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify'
import {
  computeSignature,
  parseAuthorization,
  SIGNATURE_METHOD,
  SIGNATURE_VERSION,
  stringToSign
} from '../authing/signature.ts'
import { DemoTenant, type LookupType } from './tenant.ts'

export const DELETE_PATH = '/api/v3/delete-user-sync-relations'
export const TOKEN_PATH = '/api/v3/get-management-token'

const LOOKUP_TYPES: readonly string[] = ['user_id', 'phone', 'email', 'username', 'external_id', 'identity', 'sync_relation']

export type FaultMode =
  | 'latency' // wait `delayMs`, then answer normally
  | 'reset' // close the connection without answering (the request is not processed)
  | 'http-status' // answer with HTTP `status` (default 500) and an empty body
  | 'http-429' // HTTP 429 with `Retry-After: retryAfter` seconds
  | 'html' // HTTP `status` (default 502) with an HTML error page
  | 'malformed-json' // HTTP 200 with a truncated JSON body
  | 'slow-body' // headers at once, the body after `delayMs`
  | 'throttle' // HTTP 200 with `statusCode: 429`, Authing's throttling answer

export interface Fault {
  mode: FaultMode
  /** How many requests this fault applies to (default 1). */
  times?: number
  delayMs?: number
  status?: number
  retryAfter?: number
}

export interface SandboxOptions {
  accessKeyId?: string
  accessKeySecret?: string
  /** What deleting a relation that does not exist returns (Authing does not document it). */
  missingRelation?: 'not-found' | 'success'
  /** Allowed distance between the request's `date` and the sandbox clock. */
  maxSkewMs?: number
  tokenTtlSeconds?: number
  now?: () => number
  /** Called with each request once it is answered (or dropped by a fault). */
  onReceived?: (request: ReceivedRequest) => void
}

export interface ReceivedRequest {
  method: string
  url: string
  headers: Record<string, string | string[] | undefined>
  rawHeaders: string[]
  body: string
  /** What the sandbox answered: Authing's statusCode and apiCode, or the fault applied. */
  answer: { statusCode?: number, apiCode?: number, fault?: FaultMode }
}

type Lang = 'zh' | 'en'
const MESSAGES = {
  ok: ['操作成功', 'Operation succeeded'],
  badArgument: ['请求参数错误', 'Invalid request parameters'],
  userNotFound: ['用户不存在', 'User does not exist'],
  relationNotFound: ['该用户在此身份源下没有关联关系', 'The user has no relation with this identity source'],
  noAuthorization: ['缺少 Authorization 请求头', 'The Authorization header is missing'],
  poolNotFound: ['用户池不存在', 'User pool does not exist'],
  badSignature: ['签名错误', 'Signature mismatch'],
  badMethod: ['签名方法错误', 'Unsupported signature method'],
  badVersion: ['签名版本错误', 'Unsupported signature version'],
  badDate: ['时间戳格式错误', 'The timestamp has the wrong format'],
  noDate: ['缺少 date 请求头', 'The date header is missing'],
  skew: ['时间戳与服务器时间相差过大', 'The timestamp is too far from server time'],
  replay: ['签名已被使用', 'This signature has already been used'],
  badToken: ['token 无效或已过期', 'The token is invalid or has expired'],
  badCredentials: ['accessKeyId 或 accessKeySecret 错误', 'Wrong accessKeyId or accessKeySecret'],
  throttled: ['您的请求已超过最大数量限制，请稍后重试', 'Too many requests, please retry later']
} as const satisfies Record<string, readonly [string, string]>
type MessageKey = keyof typeof MESSAGES

interface Answer { statusCode: number, message: MessageKey, apiCode?: number, data?: unknown }

function base64url (input: Buffer | string): string {
  return Buffer.from(input).toString('base64url')
}

function safeEqual (a: string, b: string): boolean {
  const left = Buffer.from(a)
  const right = Buffer.from(b)
  return left.length === right.length && timingSafeEqual(left, right)
}

/** Accepts both date forms Authing clients send: RFC 1123 (Node SDK) and epoch milliseconds (older SDKs). */
function parseRequestDate (value: string): number | undefined {
  if (/^\d{13}$/.test(value)) return Number(value)
  if (!/GMT$/.test(value)) return undefined
  const at = Date.parse(value)
  return Number.isNaN(at) ? undefined : at
}

export class Sandbox {
  readonly app: FastifyInstance
  readonly tenant = new DemoTenant()
  readonly received: ReceivedRequest[] = []
  readonly accessKeyId: string
  readonly accessKeySecret: string
  url = ''
  #faults: Array<Required<Pick<Fault, 'times'>> & Fault> = []
  readonly #options: Required<Omit<SandboxOptions, 'accessKeyId' | 'accessKeySecret' | 'onReceived'>>
  readonly #onReceived: ((request: ReceivedRequest) => void) | undefined
  readonly #nonces = new Map<string, number>()
  #tokenKey = randomBytes(32)

  constructor (options: SandboxOptions = {}) {
    this.accessKeyId = options.accessKeyId ?? '65a0c0ffee0000000000a001'
    this.accessKeySecret = options.accessKeySecret ?? randomBytes(24).toString('base64url')
    this.#options = {
      missingRelation: options.missingRelation ?? 'not-found',
      maxSkewMs: options.maxSkewMs ?? 15 * 60 * 1000,
      tokenTtlSeconds: options.tokenTtlSeconds ?? 7200,
      now: options.now ?? Date.now
    }
    this.#onReceived = options.onReceived
    this.app = Fastify({ logger: false, keepAliveTimeout: 10_000 })
    this.app.removeAllContentTypeParsers()
    this.app.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => { done(null, body) })
    this.app.post(DELETE_PATH, async (request, reply) => this.#handle(request.raw.rawHeaders, request.headers, request.body as string | undefined, reply, 'delete'))
    this.app.post(TOKEN_PATH, async (request, reply) => this.#handle(request.raw.rawHeaders, request.headers, request.body as string | undefined, reply, 'token'))
  }

  /** Queues a fault for the next request(s). */
  injectFault (fault: Fault): void {
    this.#faults.push({ ...fault, times: fault.times ?? 1 })
  }

  clearFaults (): void {
    this.#faults = []
  }

  /** Invalidates every management token issued so far, as a key rotation would. */
  revokeTokens (): void {
    this.#tokenKey = randomBytes(32)
  }

  async listen (port = 0, host = '127.0.0.1'): Promise<string> {
    await this.app.listen({ port, host })
    const address = this.app.server.address()
    if (address === null || typeof address === 'string') throw new Error('the sandbox did not get a TCP address')
    this.url = `http://${host}:${address.port}`
    return this.url
  }

  async close (): Promise<void> {
    await this.app.close()
  }

  #takeFault (): Fault | undefined {
    const fault = this.#faults[0]
    if (fault === undefined) return undefined
    fault.times -= 1
    if (fault.times <= 0) this.#faults.shift()
    return fault
  }

  async #handle (
    rawHeaders: string[],
    headers: Record<string, string | string[] | undefined>,
    body: string | undefined,
    reply: FastifyReply,
    operation: 'delete' | 'token'
  ): Promise<unknown> {
    const record: ReceivedRequest = { method: 'POST', url: operation === 'delete' ? DELETE_PATH : TOKEN_PATH, headers, rawHeaders, body: body ?? '', answer: {} }
    this.received.push(record)
    if (this.received.length > 10_000) this.received.shift()
    const lang: Lang = headers['x-authing-lang'] === 'en-US' ? 'en' : 'zh'

    const fault = this.#takeFault()
    if (fault !== undefined) {
      record.answer.fault = fault.mode
      const handled = await this.#applyFault(fault, reply)
      if (handled) {
        this.#onReceived?.(record)
        return reply
      }
    }

    const answer = operation === 'delete' ? this.#delete(headers, body) : this.#issueToken(body)
    record.answer.statusCode = answer.statusCode
    if (answer.apiCode !== undefined) record.answer.apiCode = answer.apiCode
    const envelope: Record<string, unknown> = { statusCode: answer.statusCode, message: MESSAGES[answer.message][lang === 'zh' ? 0 : 1] }
    if (answer.apiCode !== undefined) envelope.apiCode = answer.apiCode
    envelope.requestId = crypto.randomUUID()
    if (answer.data !== undefined) envelope.data = answer.data
    this.#onReceived?.(record)
    return reply.code(200).send(envelope)
  }

  /** Returns true when the fault has answered (or dropped) the request itself. */
  async #applyFault (fault: Fault, reply: FastifyReply): Promise<boolean> {
    switch (fault.mode) {
      case 'latency':
        await new Promise((resolve) => setTimeout(resolve, fault.delayMs ?? 1000))
        return false
      case 'reset':
        reply.hijack()
        reply.raw.socket?.resetAndDestroy()
        return true
      case 'http-status':
        reply.code(fault.status ?? 500).send('')
        return true
      case 'http-429':
        reply.code(429).header('retry-after', String(fault.retryAfter ?? 1)).send({ statusCode: 429, message: MESSAGES.throttled[0] })
        return true
      case 'html':
        reply.code(fault.status ?? 502).type('text/html').send('<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>')
        return true
      case 'malformed-json':
        reply.code(200).type('application/json').send('{"statusCode":200,"message":"操作成功","data":{"succ')
        return true
      case 'slow-body': {
        reply.hijack()
        const raw = reply.raw
        raw.writeHead(200, { 'content-type': 'application/json' })
        raw.write('{"statusCode":200,')
        setTimeout(() => {
          if (!raw.destroyed) raw.end('"message":"操作成功","data":{"success":true}}')
        }, fault.delayMs ?? 5000).unref()
        return true
      }
      case 'throttle':
        reply.code(200).send({ statusCode: 429, message: MESSAGES.throttled[0], requestId: crypto.randomUUID() })
        return true
      default:
        return false
    }
  }

  #delete (headers: Record<string, string | string[] | undefined>, body: string | undefined): Answer {
    const parsed = parseBody(body)
    const denied = typeof headers.authorization === 'string' && /^authing /.test(headers.authorization)
      ? this.#checkSignature(headers, parsed ?? {})
      : this.#checkToken(headers)
    if (denied !== undefined) return denied
    if (parsed === undefined) return { statusCode: 400, message: 'badArgument' }

    const { provider, userId, userIdType = 'user_id' } = parsed
    if (typeof provider !== 'string' || provider === '' || typeof userId !== 'string' || userId === '' ||
      typeof userIdType !== 'string' || !LOOKUP_TYPES.includes(userIdType)) {
      return { statusCode: 400, message: 'badArgument' }
    }
    const user = this.tenant.find(userIdType as LookupType, userId)
    if (user === undefined) return { statusCode: 404, apiCode: 2004, message: 'userNotFound' }
    if (!this.tenant.removeRelation(user, provider) && this.#options.missingRelation === 'not-found') {
      return { statusCode: 404, message: 'relationNotFound' }
    }
    return { statusCode: 200, message: 'ok', data: { success: true } }
  }

  /** The AK/SK checks, in the order of Authing's apiCodes 1300–1306. */
  #checkSignature (headers: Record<string, string | string[] | undefined>, body: Record<string, unknown>): Answer | undefined {
    const authorization = parseAuthorization(String(headers.authorization))
    if (authorization === undefined) return { statusCode: 401, apiCode: 1300, message: 'badSignature' }
    if (authorization.accessKeyId !== this.accessKeyId) return { statusCode: 404, apiCode: 2224, message: 'poolNotFound' }
    if (headers['x-authing-signature-method'] !== SIGNATURE_METHOD) return { statusCode: 401, apiCode: 1301, message: 'badMethod' }
    if (headers['x-authing-signature-version'] !== SIGNATURE_VERSION) return { statusCode: 401, apiCode: 1302, message: 'badVersion' }
    const date = headers.date
    if (typeof date !== 'string' || date === '') return { statusCode: 401, apiCode: 1304, message: 'noDate' }
    const at = parseRequestDate(date)
    if (at === undefined) return { statusCode: 401, apiCode: 1303, message: 'badDate' }
    const now = this.#options.now()
    if (Math.abs(now - at) > this.#options.maxSkewMs) return { statusCode: 401, apiCode: 1305, message: 'skew' }

    const signed: Record<string, string> = {}
    for (const [name, value] of Object.entries(headers)) {
      if (typeof value === 'string') signed[name] = value
    }
    const expected = computeSignature(this.accessKeySecret, stringToSign('POST', signed, DELETE_PATH, body))
    if (!safeEqual(expected, authorization.signature)) return { statusCode: 401, apiCode: 1300, message: 'badSignature' }

    const nonce = headers['x-authing-signature-nonce']
    if (typeof nonce !== 'string' || nonce === '') return { statusCode: 401, apiCode: 1300, message: 'badSignature' }
    this.#forgetOldNonces(now)
    if (this.#nonces.has(nonce)) return { statusCode: 401, apiCode: 1306, message: 'replay' }
    this.#nonces.set(nonce, now)
    return undefined
  }

  #forgetOldNonces (now: number): void {
    for (const [nonce, seenAt] of this.#nonces) {
      if (now - seenAt <= 2 * this.#options.maxSkewMs) break
      this.#nonces.delete(nonce)
    }
  }

  /** Management-token mode (authing-contract.md §1b): `Bearer <token>` or the raw token, plus the pool id. */
  #checkToken (headers: Record<string, string | string[] | undefined>): Answer | undefined {
    const value = headers.authorization
    if (typeof value !== 'string' || value === '') return { statusCode: 401, message: 'noAuthorization' }
    const token = value.replace(/^Bearer\s+/i, '')
    const claims = this.#verifyToken(token)
    if (claims === undefined) return { statusCode: 401, message: 'badToken' }
    if (headers['x-authing-userpool-id'] !== claims.scoped_userpool_id) return { statusCode: 404, apiCode: 2224, message: 'poolNotFound' }
    return undefined
  }

  #issueToken (body: string | undefined): Answer {
    const parsed = parseBody(body)
    if (parsed?.accessKeyId !== this.accessKeyId || typeof parsed.accessKeySecret !== 'string' ||
      !safeEqual(parsed.accessKeySecret, this.accessKeySecret)) {
      return { statusCode: 401, message: 'badCredentials' }
    }
    const iat = Math.floor(this.#options.now() / 1000)
    const claims = { scoped_userpool_id: this.accessKeyId, iat, exp: iat + this.#options.tokenTtlSeconds, jti: randomBytes(8).toString('hex') }
    const unsigned = `${base64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }))}.${base64url(JSON.stringify(claims))}`
    const token = `${unsigned}.${base64url(createHmac('sha256', this.#tokenKey).update(unsigned).digest())}`
    return { statusCode: 200, message: 'ok', data: { access_token: token, expires_in: this.#options.tokenTtlSeconds } }
  }

  #verifyToken (token: string): { scoped_userpool_id: string } | undefined {
    const [header, payload, signature] = token.split('.')
    if (header === undefined || payload === undefined || signature === undefined) return undefined
    const expected = base64url(createHmac('sha256', this.#tokenKey).update(`${header}.${payload}`).digest())
    if (!safeEqual(expected, signature)) return undefined
    try {
      const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { scoped_userpool_id: string, exp: number }
      if (claims.exp <= this.#options.now() / 1000) return undefined
      return claims
    } catch {
      return undefined
    }
  }
}

function parseBody (body: string | undefined): Record<string, unknown> | undefined {
  if (body === undefined || body === '') return undefined
  try {
    const value: unknown = JSON.parse(body)
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? value as Record<string, unknown> : undefined
  } catch {
    return undefined
  }
}

/** Starts a sandbox on a loopback port of its own. */
export async function startSandbox (options: SandboxOptions = {}, port = 0, host = '127.0.0.1'): Promise<Sandbox> {
  const sandbox = new Sandbox(options)
  await sandbox.listen(port, host)
  return sandbox
}
