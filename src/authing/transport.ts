// The wire under ky: a keep-alive undici pool behind a small `fetch`, and the classification of transport
// failures into "provably never reached Authing" versus "may have reached it".
import diagnosticsChannel from 'node:diagnostics_channel'
import type { Socket } from 'node:net'
import { Agent, request } from 'undici'
import type { TransportFault } from './mapping.ts'

/** Set on an error when a reused keep-alive socket failed before any byte of an answer arrived. */
const STALE_SOCKET = Symbol('stale keep-alive socket')

interface SendInfo { socket: Socket, reused: boolean, bytesRead: number }
const socketsUsed = new WeakSet<Socket>()
const sends = new WeakMap<object, SendInfo>()

// undici publishes, per request, the socket that carries it and any error it fails with; together
// they tell a stale pooled socket (the far side closed it while idle) from a request Authing may have seen.
diagnosticsChannel.subscribe('undici:client:sendHeaders', (message) => {
  const { request: sent, socket } = message as { request: object, socket: Socket }
  sends.set(sent, { socket, reused: socketsUsed.has(socket), bytesRead: socket.bytesRead })
  socketsUsed.add(socket)
})
diagnosticsChannel.subscribe('undici:request:error', (message) => {
  const { request: failed, error } = message as { request: object, error: Error & { [STALE_SOCKET]?: boolean } }
  const info = sends.get(failed)
  if (info?.reused === true && info.socket.bytesRead === info.bytesRead) error[STALE_SOCKET] = true
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
 * A `fetch` for ky on top of undici's `request` (much cheaper than the WHATWG fetch stack). It reads the
 * whole (small, JSON) answer body within the call, so ky's per-attempt timeout covers a slow body too.
 */
export function createFetch (agent: Agent, maxBodyBytes = 64 * 1024): typeof fetch {
  return async (input, init) => {
    const outgoing = input instanceof Request ? input : new Request(input, init)
    const headers: Record<string, string> = {}
    outgoing.headers.forEach((value, name) => { headers[name] = value })
    const body = outgoing.body === null ? undefined : Buffer.from(await outgoing.arrayBuffer())
    const answer = await request(outgoing.url, {
      method: outgoing.method as 'POST',
      headers,
      body,
      dispatcher: agent,
      signal: outgoing.signal
    })
    const chunks: Buffer[] = []
    let size = 0
    for await (const chunk of answer.body) {
      size += (chunk as Buffer).length
      if (size > maxBodyBytes) {
        answer.body.destroy()
        throw new ResponseTooLargeError()
      }
      chunks.push(chunk as Buffer)
    }
    const responseHeaders = new Headers()
    for (const [name, value] of Object.entries(answer.headers)) {
      if (Array.isArray(value)) for (const item of value) responseHeaders.append(name, item)
      else if (value !== undefined) responseHeaders.set(name, value)
    }
    const status = answer.statusCode
    if (status < 200 || status > 599) throw new Error(`unusable upstream HTTP status ${status}`)
    const nullBody = status === 204 || status === 205 || status === 304
    return new Response(nullBody ? null : Buffer.concat(chunks), { status, headers: responseHeaders })
  }
}

const NOT_CONNECTED_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_CONNECT_TIMEOUT', 'EHOSTUNREACH', 'ENETUNREACH'])
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
  if (chain.some((e) => e.code !== undefined && CONNECTION_LOST_CODES.has(e.code))) return 'connection-lost'
  return 'network'
}

/** A safe one-line description of a transport error for logs: names and codes, never URLs or bodies. */
export function describeTransportError (error: unknown): string {
  return causes(error).map((e) => (e.code !== undefined ? `${e.name}(${e.code})` : e.name)).join(' <- ') || 'unknown error'
}
