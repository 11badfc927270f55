// The wire under ky: a keep-alive undici pool behind a small `fetch`, and the classification of transport
// failures into "provably never reached Authing" versus "may have reached it".
import diagnosticsChannel from 'node:diagnostics_channel'
import type { Socket } from 'node:net'
import { finished, type Readable } from 'node:stream'
import { Agent, request } from 'undici'
import type { TransportFault } from './mapping.ts'

/** Set on an error when a reused keep-alive socket failed before any byte of an answer arrived. */
const STALE_SOCKET = Symbol('stale keep-alive socket')

/**
 * A socket counts as possibly stale only if it sat idle at least this long before reuse. Servers close
 * idle connections after seconds, not milliseconds; a connection dropped right after it carried an
 * answer is more likely a middlebox or server that failed *after* processing the request, which must
 * not be retried.
 */
export const STALE_MIN_IDLE_MS = 1000

interface SendInfo { socket: Socket, reused: boolean, idleMs: number, bytesRead: number }
const idleSince = new WeakMap<Socket, number>()
const sends = new WeakMap<object, SendInfo>()

// undici publishes, per request, the socket that carries it, when its answer completed, and any error
// it fails with; together they tell a stale pooled socket (the far side closed it while idle) from a
// request Authing may have seen.
diagnosticsChannel.subscribe('undici:client:sendHeaders', (message) => {
  const { request: sent, socket } = message as { request: object, socket: Socket }
  const lastAnswer = idleSince.get(socket)
  sends.set(sent, { socket, reused: lastAnswer !== undefined, idleMs: lastAnswer === undefined ? 0 : Date.now() - lastAnswer, bytesRead: socket.bytesRead })
})
diagnosticsChannel.subscribe('undici:request:trailers', (message) => {
  const info = sends.get((message as { request: object }).request)
  if (info !== undefined) idleSince.set(info.socket, Date.now())
})
diagnosticsChannel.subscribe('undici:request:error', (message) => {
  const { request: failed, error } = message as { request: object, error: Error & { [STALE_SOCKET]?: boolean } }
  const info = sends.get(failed)
  if (info?.reused === true && info.idleMs >= STALE_MIN_IDLE_MS && info.socket.bytesRead === info.bytesRead) error[STALE_SOCKET] = true
})

export interface TransportOptions {
  keepAliveTimeoutMs: number
  connections: number
  connectTimeoutMs: number
  /** Largest answer body read from Authing; anything bigger is treated as a bad answer. */
  maxBodyBytes?: number
}

export class ResponseTooLargeError extends Error {
  constructor () {
    super('upstream response body too large')
    this.name = 'ResponseTooLargeError'
  }
}

export function createAgent (options: TransportOptions): Agent {
  return new Agent({
    keepAliveTimeout: options.keepAliveTimeoutMs,
    // Never keep a socket longer than the far side says it will, minus a margin for the race.
    keepAliveTimeoutThreshold: 1000,
    keepAliveMaxTimeout: Math.max(options.keepAliveTimeoutMs, 1000),
    connections: options.connections,
    pipelining: 1,
    connect: { timeout: options.connectTimeoutMs }
  })
}

/**
 * The name of a fetch option carrying the request's header record and serialized body, as the client
 * already holds them for signing. ky forwards options it does not know to `fetch` (as it does undici's
 * `dispatcher`), so with it the Request ky builds carries the method, URL and abort signal only: no
 * Headers object is built and no body stream is created, only to be read back here.
 */
export const PREPARED_REQUEST_OPTION = 'preparedRequest'

export interface PreparedRequest {
  headers: Record<string, string>
  body?: string | undefined
  /** Also abort the request when this signal aborts (beside the signal of ky's Request). */
  abortSignal?: AbortSignal | undefined
}

const preparedCapable = new WeakSet<object>()

/** True for a `fetch` from createFetch, which takes the PREPARED_REQUEST_OPTION. */
export function acceptsPreparedRequest (fetchFunction: unknown): boolean {
  return typeof fetchFunction === 'function' && preparedCapable.has(fetchFunction)
}

/**
 * A `fetch` for ky on top of undici's `request` (much cheaper than the WHATWG fetch stack). It reads the
 * whole (small, JSON) answer body within the call, so ky's per-attempt timeout covers a slow body too,
 * and answers with a buffered Response (see BufferedResponse) rather than a stream-backed one.
 */
export function createFetch (agent: Agent, maxBodyBytes = 64 * 1024): typeof fetch {
  const adapter = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const outgoing = input instanceof Request ? input : new Request(input, init)
    const prepared = (init as Record<string, unknown> | undefined)?.[PREPARED_REQUEST_OPTION] as PreparedRequest | undefined
    let headers: Record<string, string>
    let body: string | Buffer | undefined
    if (prepared !== undefined) {
      headers = prepared.headers
      body = prepared.body
    } else {
      headers = {}
      outgoing.headers.forEach((value, name) => { headers[name] = value })
      body = outgoing.body === null ? undefined : Buffer.from(await outgoing.arrayBuffer())
    }
    const url = outgoing.url
    const extra = prepared?.abortSignal
    const answer = await request(url, {
      method: outgoing.method as 'POST',
      headers,
      body,
      dispatcher: agent,
      signal: extra === undefined ? outgoing.signal : new EitherSignal(outgoing.signal, extra) as unknown as AbortSignal
    })
    const status = answer.statusCode
    const bytes = await readBody(answer.body, maxBodyBytes)
    if (status < 200 || status > 599) throw Object.assign(new Error('unusable upstream HTTP status'), { code: UNUSABLE_STATUS })
    const nullBody = status === 204 || status === 205 || status === 304
    return new BufferedResponse(status, answer.headers, nullBody ? null : bytes, url) as unknown as Response
  }
  preparedCapable.add(adapter)
  return adapter as typeof fetch
}

/**
 * Two abort signals seen as one by undici (which only reads `aborted`, `reason` and adds and removes one
 * 'abort' listener). Unlike AbortSignal.any it makes no new AbortSignal, weak reference or finalizer per
 * call, and leaves nothing registered on a long-lived signal once the request is done.
 */
class EitherSignal {
  readonly #first: AbortSignal
  readonly #second: AbortSignal
  /** Each listener with the relay registered on both signals for it. */
  readonly #relays: Array<[(event: Event) => void, (event: Event) => void]> = []

  constructor (first: AbortSignal, second: AbortSignal) {
    this.#first = first
    this.#second = second
  }

  get aborted (): boolean { return this.#first.aborted || this.#second.aborted }
  get reason (): unknown { return this.#first.aborted ? this.#first.reason : this.#second.reason }

  addEventListener (type: string, listener: (event: Event) => void): void {
    if (type !== 'abort') return
    // Called at most once, whichever signal aborts first.
    const relay = (event: Event): void => {
      this.removeEventListener('abort', listener)
      listener(event)
    }
    this.#relays.push([listener, relay])
    this.#first.addEventListener('abort', relay)
    this.#second.addEventListener('abort', relay)
  }

  removeEventListener (type: string, listener: (event: Event) => void): void {
    const at = this.#relays.findIndex(([each]) => each === listener)
    if (type !== 'abort' || at === -1) return
    const [, relay] = this.#relays[at] as [unknown, (event: Event) => void]
    this.#relays.splice(at, 1)
    this.#first.removeEventListener('abort', relay)
    this.#second.removeEventListener('abort', relay)
  }
}

/** Reads a whole answer body, refusing one over `maxBytes`; rejects if the stream fails or ends early. */
function readBody (body: Readable, maxBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    body.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size > maxBytes) {
        reject(new ResponseTooLargeError())
        body.destroy()
        return
      }
      chunks.push(chunk)
    })
    finished(body, (error) => {
      if (error) reject(error)
      else resolve(chunks.length === 1 ? chunks[0] as Buffer : Buffer.concat(chunks, size))
    })
  })
}

type RawHeaders = Record<string, string | string[] | undefined>

/** The answer's headers, read-only, as `Headers` presents them (names in lowercase, repeated values joined). */
class ResponseHeaders {
  readonly #raw: RawHeaders
  constructor (raw: RawHeaders) { this.#raw = raw }
  get [Symbol.toStringTag] (): string { return 'Headers' }
  get (name: string): string | null {
    const value = this.#raw[name.toLowerCase()]
    return value === undefined ? null : Array.isArray(value) ? value.join(', ') : value
  }

  has (name: string): boolean { return this.#raw[name.toLowerCase()] !== undefined }
  forEach (callback: (value: string, name: string, parent: ResponseHeaders) => void): void {
    for (const [name, value] of this.entries()) callback(value, name, this)
  }

  * entries (): IterableIterator<[string, string]> {
    for (const name of Object.keys(this.#raw).sort()) {
      const value = this.get(name)
      if (value !== null) yield [name, value]
    }
  }

  * keys (): IterableIterator<string> { for (const [name] of this.entries()) yield name }
  * values (): IterableIterator<string> { for (const [, value] of this.entries()) yield value }
  [Symbol.iterator] (): IterableIterator<[string, string]> { return this.entries() }
}

const utf8 = new TextDecoder('utf-8')
const EMPTY = Buffer.alloc(0)

/**
 * A Response whose body is already in memory. ky accepts a custom fetch's answer that behaves like a
 * Response (it checks the `Response` tag); this one implements what ky and the client use (status,
 * headers, text, json, clone) and the rest of the body methods, without the stream, Headers and
 * Response objects the WHATWG classes would allocate per call. `body` is a stream made on first access.
 */
export class BufferedResponse {
  readonly status: number
  readonly ok: boolean
  readonly statusText = ''
  readonly type = 'basic'
  readonly redirected = false
  readonly url: string
  readonly headers: ResponseHeaders
  readonly #raw: RawHeaders
  readonly #bytes: Buffer | null
  #used = false
  #stream: ReadableStream<Uint8Array> | undefined

  constructor (status: number, headers: RawHeaders, bytes: Buffer | null, url: string) {
    this.status = status
    this.ok = status >= 200 && status <= 299
    this.#raw = headers
    this.headers = new ResponseHeaders(headers)
    this.#bytes = bytes
    this.url = url
  }

  get [Symbol.toStringTag] (): string { return 'Response' }
  get bodyUsed (): boolean { return this.#used }
  get body (): ReadableStream<Uint8Array> | null {
    if (this.#bytes === null) return null
    this.#stream ??= new Blob([this.#bytes]).stream()
    return this.#stream
  }

  #consume (): Buffer {
    if (this.#used) throw new TypeError('Body is unusable: Body has already been read')
    this.#used = true
    return this.#bytes ?? EMPTY
  }

  // UTF-8 with a leading byte order mark removed, as Response#text decodes.
  async text (): Promise<string> { return utf8.decode(this.#consume()) }
  async json (): Promise<unknown> { return JSON.parse(await this.text()) }
  async arrayBuffer (): Promise<ArrayBuffer> { return new Uint8Array(this.#consume()).buffer }
  async bytes (): Promise<Uint8Array> { return new Uint8Array(this.#consume()) }
  async blob (): Promise<Blob> { return new Blob([this.#consume()], { type: this.headers.get('content-type') ?? '' }) }
  clone (): BufferedResponse {
    if (this.#used) throw new TypeError('Response.clone: Body has already been consumed.')
    return new BufferedResponse(this.status, this.#raw, this.#bytes, this.url)
  }
}

const NOT_CONNECTED_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_CONNECT_TIMEOUT', 'EHOSTUNREACH', 'ENETUNREACH'])
const UNUSABLE_STATUS = 'SRP_UNUSABLE_STATUS'
/** The far side answered, but not in HTTP we can read: a malformed status line, framing or length. */
const MALFORMED_ANSWER = (code: string): boolean => code.startsWith('HPE_') || code === UNUSABLE_STATUS || code === 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH'
const CONNECTION_LOST_CODES = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED'])

function causes (error: unknown): Array<Error & { code?: string, [STALE_SOCKET]?: boolean }> {
  const chain: Array<Error & { code?: string }> = []
  let current: unknown = error
  while (current instanceof Error && chain.length < 5) {
    chain.push(current)
    current = (current as { cause?: unknown }).cause
  }
  return chain
}

/** What kind of failure an error from one attempt is. `timedOut` says our own timer fired. */
export function classifyTransportError (error: unknown, timedOut: boolean): TransportFault {
  if (timedOut) return 'timeout'
  const chain = causes(error)
  if (chain.some((e) => e[STALE_SOCKET] === true)) return 'not-sent'
  if (chain.some((e) => e.code !== undefined && NOT_CONNECTED_CODES.has(e.code))) return 'not-sent'
  if (chain.some((e) => e.name === 'TimeoutError' || e.code === 'UND_ERR_HEADERS_TIMEOUT' || e.code === 'UND_ERR_BODY_TIMEOUT')) return 'timeout'
  if (chain.some((e) => e.name === 'HTTPParserError' || (e.code !== undefined && MALFORMED_ANSWER(e.code)))) return 'bad-response'
  if (chain.some((e) => e.code !== undefined && CONNECTION_LOST_CODES.has(e.code))) return 'connection-lost'
  return 'network'
}

/** A safe one-line description of a transport error for logs: names and codes, never URLs or bodies. */
export function describeTransportError (error: unknown): string {
  return causes(error).map((e) => (e.code !== undefined ? `${e.name}(${e.code})` : e.name)).join(' <- ') || 'unknown error'
}
