// What the service is: buildApp(config) returns a ready-to-listen Fastify instance with its plugins
// registered in a fixed order. server.ts adds the process concerns (listen, signals).
import { randomUUID } from 'node:crypto'
import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http'
import type { Duplex } from 'node:stream'
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify'
import rateLimit from '@fastify/rate-limit'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import auditPlugin from './audit/plugin.ts'
import type { OpenTrailFile } from './audit/trail.ts'
import upstreamPlugin from './authing/plugin.ts'
import callersPlugin from './callers/plugin.ts'
import type { Config } from './config.ts'
import { errorEnvelope, ServiceError } from './errors.ts'
import docsPlugin from './plugins/docs.ts'
import errorsPlugin, { toServiceError, tooLongParameter } from './plugins/errors.ts'
import healthPlugin from './plugins/health.ts'
import metricsPlugin, { Metrics } from './plugins/metrics.ts'
import requestIdPlugin, { REQUEST_ID_HEADER, requestIdFor } from './plugins/request-id.ts'
import securityPlugin from './plugins/security.ts'
import syncRelationsRoute from './routes/sync-relations.ts'
import { redactedPath } from './audit/records.ts'
import type { Sandbox } from './sandbox/emulator.ts'

export interface AppDependencies {
  /** Where log lines go (default: stdout), with the service's own redaction and serializers. */
  logStream?: { write: (line: string) => void }
  /** Use this sandbox instead of starting one. */
  sandbox?: Sandbox
  /** Replace the audit trail's file operations (tests of the fail-closed stance). */
  openAuditFile?: OpenTrailFile
  /** Poll interval of the callers file (0: SIGHUP only). */
  callersWatchIntervalMs?: number
  /** Randomness for retry jitter. */
  random?: () => number
}

/** Longest raw path parameter the router accepts; the 512-character limit itself is checked after decoding. */
const MAX_RAW_PARAM_LENGTH = 8192

/** Log lines carry the method and a redacted path, never the caller's key or a personal user id. */
export const LOG_SERIALIZERS = {
  req (request: { method: string, url: string, ip?: string, id?: string }) {
    return { method: request.method, path: redactedPath(request.url), remoteAddress: request.ip }
  }
}

export const LOG_REDACT = ['req.headers.authorization', 'headers.authorization', 'res.headers["set-cookie"]']

export async function buildApp (config: Config, deps: AppDependencies = {}): Promise<FastifyInstance> {
  const logger = { level: config.logLevel, redact: LOG_REDACT, serializers: LOG_SERIALIZERS, ...(deps.logStream ? { stream: deps.logStream } : {}) }
  const metrics = new Metrics()
  const app = Fastify({
    logger,
    genReqId: requestIdFor,
    requestIdHeader: false,
    routerOptions: { maxParamLength: MAX_RAW_PARAM_LENGTH },
    bodyLimit: 16 * 1024,
    // A request must arrive whole within REQUEST_TIMEOUT_MS (a stalled body gets 408 instead of hanging
    // forever); Node checks every second rather than every 30 s, so the bound is close to what it says.
    requestTimeout: config.requestTimeoutMs,
    // (Node only enforces it when the headers' own timeout is not longer.)
    // A missing Host header is answered by the app, in the envelope, rather than by Node bare.
    http: { connectionsCheckingInterval: 1000, headersTimeout: Math.min(60_000, config.requestTimeoutMs), requireHostHeader: false },
    // Draining is handled in the health plugin, so refused requests get the envelope and an audit record.
    return503OnClosing: false,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true, allErrors: false } },
    // Rejections the router makes before any hook runs: answer in the envelope, and audit them.
    frameworkErrors: (error, request, reply) => {
      const serviceError = (error as { code?: string }).code === 'FST_ERR_MAX_PARAM_LENGTH'
        ? tooLongParameter(request.raw.url, config.providers, MAX_RAW_PARAM_LENGTH)
        : toServiceError(error, config.providers)
      const requestId = request.id ?? requestIdFor(request.raw)
      void app.audit.raw({ requestId, callerAddress: request.raw.socket?.remoteAddress, method: request.raw.method, url: request.raw.url, status: serviceError.statusCode, code: serviceError.code })
        .finally(() => {
          (reply as FastifyReply).code(serviceError.statusCode).header(REQUEST_ID_HEADER, requestId).type('application/json; charset=utf-8')
            .send(errorEnvelope(serviceError, requestId))
        })
    },
    // Requests Node's HTTP parser rejects (oversized headers, garbage, a slow sender): answered in the
    // envelope and audited like any other rejection, though no request object exists for them.
    clientErrorHandler: (error, socket) => {
      const code = (error as NodeJS.ErrnoException).code
      if (code === 'ECONNRESET' || code === 'EPIPE' || !socket.writable) {
        socket.destroy()
        return
      }
      answerOnSocket(socket, new ServiceError(code === 'HPE_HEADER_OVERFLOW' ? 'HEADERS_TOO_LARGE' : code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 'REQUEST_TIMEOUT' : 'INVALID_REQUEST'), undefined, undefined)
    }
  }).withTypeProvider<TypeBoxTypeProvider>()

  /** Answers a request Fastify never sees, in the envelope, once its audit record is written. */
  function answerOnSocket (socket: Duplex, serviceError: ServiceError, method: string | undefined, url: string | undefined): void {
    const requestId = randomUUID()
    const body = JSON.stringify(errorEnvelope(serviceError, requestId))
    const remoteAddress = (socket as { remoteAddress?: string }).remoteAddress
    void app.audit.raw({ requestId, callerAddress: remoteAddress, method, url, status: serviceError.statusCode, code: serviceError.code })
      .finally(() => {
        if (!socket.writable) return
        const allow = serviceError.code === 'METHOD_NOT_ALLOWED' ? 'Allow: DELETE\r\n' : ''
        socket.end(`HTTP/1.1 ${serviceError.statusCode} ${STATUS_CODES[serviceError.statusCode] ?? ''}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${REQUEST_ID_HEADER}: ${requestId}\r\n${allow}Connection: close\r\n\r\n${body}`)
      })
  }
  // Node answers these itself unless told otherwise: CONNECT, and an Expect header other than 100-continue.
  app.server.on('connect', (request: IncomingMessage, socket: Duplex) => {
    answerOnSocket(socket, new ServiceError('METHOD_NOT_ALLOWED'), request.method, request.url)
  })
  app.server.on('checkExpectation', (request: IncomingMessage, response: ServerResponse) => {
    answerOnSocket(response.socket as Duplex, new ServiceError('EXPECTATION_FAILED'), request.method, request.url)
  })

  // The route ignores request bodies. Clients that send DELETE with a JSON content type and no body
  // (Java, Go and axios wrappers do) must be treated like a bare DELETE, so no body is ever parsed.
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, _body, done) => { done(null, undefined) })

  await app.register(requestIdPlugin)
  await app.register(errorsPlugin, { providers: config.providers })
  await app.register(auditPlugin, {
    config,
    openFile: deps.openAuditFile,
    onWrite: metrics.observeAuditBatch,
    onFailure: (stage) => { metrics.auditFailures.inc({ stage }) }
  })
  await app.register(metricsPlugin, { expose: config.metricsEnabled, metrics })
  await app.register(securityPlugin, { corsOrigins: config.corsOrigins })
  await app.register(upstreamPlugin, { config, sandbox: deps.sandbox, ...(deps.random ? { random: deps.random } : {}) })
  await app.register(healthPlugin, { shutdownTimeoutMs: config.shutdownTimeoutMs })
  await app.register(callersPlugin, { config, ...(deps.callersWatchIntervalMs !== undefined ? { watchIntervalMs: deps.callersWatchIntervalMs } : {}) })
  await app.register(rateLimit, { global: false })
  await app.register(docsPlugin, { publicBasePath: config.publicBasePath })
  await app.register(syncRelationsRoute, { config })
  return app
}
