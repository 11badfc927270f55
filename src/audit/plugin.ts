// Puts every inbound request on the audit trail (health and metrics probes excepted). Requests answered
// without Authing get one `request` record; calls to Authing get an `attempt` record before the call and
// an `outcome` record after it. Each is on disk before the response that it describes is sent.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import type { Config } from '../config.ts'
import type { AuthingFacts } from '../errors.ts'
import { SERVICE_VERSION } from '../version.ts'
import { AUDIT_RECORD_VERSION, localOutcome, redactedPath, userIdFields, type Outcome, type RecordType } from './records.ts'
import { AuditTrail, AuditWriteError, type OpenTrailFile } from './trail.ts'

declare module 'fastify' {
  interface FastifyInstance {
    audit: AuditLog
  }
  interface FastifyRequest {
    /** Set once the request's final record is written, so it is not written twice. */
    auditDone: boolean
    /** Why a request was refused, in a few words (e.g. "unknown key"), for the record. */
    auditReason: string | undefined
    /** The caller's name once known. */
    callerName: string | undefined
  }
  interface FastifyContextConfig {
    /** false: requests to this route are not audited (health and metrics probes). */
    audit?: boolean
  }
}

export interface AuditPluginOptions {
  config: Config
  openFile?: OpenTrailFile | undefined
  onWrite?: (records: number, ms: number) => void
  onFailure?: (stage: RecordType) => void
}

export interface OutcomeFacts {
  outcome: Outcome
  status: number
  code?: string | undefined
  authing?: AuthingFacts | undefined
  success?: boolean | undefined
  attempts: number
  upstreamMs?: number | undefined
}

/** The trail plus the knowledge of what a record says about a request. */
export class AuditLog {
  readonly trail: AuditTrail
  readonly #hmacKey: string
  readonly #onFailure: (stage: RecordType) => void
  /** Outcome records that could not be written; the service is not ready while this grows. */
  lostOutcomes = 0

  constructor (trail: AuditTrail, hmacKey: string, onFailure: (stage: RecordType) => void) {
    this.trail = trail
    this.#hmacKey = hmacKey
    this.#onFailure = onFailure
  }

  get healthy (): boolean { return this.trail.healthy }

  /** The facts every record about `request` carries. */
  #subject (request: FastifyRequest): Record<string, unknown> {
    const matched = request.routeOptions.url !== undefined
    const params = (request.params ?? {}) as Record<string, unknown>
    const query = (request.query ?? {}) as Record<string, unknown>
    const provider = typeof params.provider === 'string' ? params.provider.slice(0, 64) : undefined
    // An absent userIdType means the default; a repeated one (an array) is unknown, so the id gets hashed.
    const rawType = query.userIdType
    const userIdType = rawType === undefined ? (typeof params.userId === 'string' ? 'user_id' : undefined) : typeof rawType === 'string' ? rawType.slice(0, 32) : undefined
    const userId = typeof params.userId === 'string' ? params.userId : undefined
    return {
      requestId: request.id,
      caller: request.callerName,
      callerAddress: request.ip,
      method: request.method,
      ...(matched ? { route: request.routeOptions.url } : { path: redactedPath(request.url) }),
      provider,
      userIdType,
      ...userIdFields(userId, userIdType, this.#hmacKey, request.callerName !== undefined)
    }
  }

  #record (type: RecordType, request: FastifyRequest | undefined, fields: Record<string, unknown>): Record<string, unknown> {
    return { v: AUDIT_RECORD_VERSION, type, time: new Date().toISOString(), ...(request ? this.#subject(request) : {}), ...fields }
  }

  /** Before a call to Authing. Rejects with AuditWriteError: then nothing may be sent. */
  async attempt (request: FastifyRequest): Promise<void> {
    try {
      await this.trail.append(this.#record('attempt', request, {}))
    } catch (error) {
      this.#onFailure('attempt')
      throw error
    }
  }

  /** After a call to Authing. A failure is counted and makes the service not ready; the caller still gets the answer. */
  async outcome (request: FastifyRequest, facts: OutcomeFacts): Promise<void> {
    request.auditDone = true
    try {
      await this.trail.append(this.#record('outcome', request, { ...facts, latencyMs: latency(request) }))
    } catch (error) {
      this.lostOutcomes += 1
      this.#onFailure('outcome')
      request.log.error({ errName: (error as Error).name }, 'audit outcome record lost')
    }
  }

  /** A request answered without calling Authing (rejections, documentation, unknown routes). */
  async request (request: FastifyRequest, reply: FastifyReply): Promise<void> {
    request.auditDone = true
    const status = reply.statusCode
    const code = request.errorCode
    const record = this.#record('request', request, {
      outcome: localOutcome(status, code),
      status,
      code,
      reason: request.auditReason,
      latencyMs: latency(request)
    })
    try {
      await this.trail.append(record)
    } catch (error) {
      this.#onFailure('request')
      request.log.error({ errName: (error as Error).name }, 'audit record lost')
    }
  }

  /** A request rejected before Fastify built a request object (malformed URL, oversized parameter). */
  async raw (fields: { requestId: string, callerAddress: string | undefined, method: string | undefined, url: string | undefined, status: number, code: string }): Promise<void> {
    const record = this.#record('request', undefined, {
      requestId: fields.requestId,
      callerAddress: fields.callerAddress,
      method: fields.method,
      path: redactedPath(fields.url ?? ''),
      outcome: 'rejected',
      status: fields.status,
      code: fields.code
    })
    try {
      await this.trail.append(record)
    } catch {
      this.#onFailure('request')
    }
  }

  async lifecycle (event: string, fields: Record<string, unknown> = {}): Promise<void> {
    await this.trail.append(this.#record('lifecycle', undefined, { event, version: SERVICE_VERSION, pid: process.pid, ...fields }))
  }
}

function latency (request: FastifyRequest): number {
  // Fastify's own clock for the request: from arrival to now.
  return Math.round((performance.now() - request.startedAt) * 10) / 10
}

declare module 'fastify' {
  interface FastifyRequest {
    startedAt: number
  }
}

async function auditPlugin (app: FastifyInstance, options: AuditPluginOptions): Promise<void> {
  const { config } = options
  const opened = await AuditTrail.open({
    path: config.audit.path,
    rotateBytes: config.audit.rotateBytes,
    rotateDaily: config.audit.rotateDaily,
    openFile: options.openFile,
    onBatch: options.onWrite,
    onError: (error) => { app.log.error({ errCode: (error as NodeJS.ErrnoException).code, errName: (error as Error).name }, 'audit trail write failed') }
  }).catch((error: unknown) => {
    // Named after the setting, so the operator knows what to fix; the cause says why.
    throw new Error(`AUDIT_LOG_PATH ${config.audit.path}: cannot open the audit trail (${(error as Error).message})`)
  })
  const { trail, report } = opened
  const audit = new AuditLog(trail, config.audit.hmacKey, options.onFailure ?? (() => {}))
  app.decorate('audit', audit)
  app.decorateRequest('auditDone', false)
  app.decorateRequest('auditReason', undefined)
  app.decorateRequest('callerName', undefined)
  app.decorateRequest('startedAt', 0)

  if (report.tornTail !== undefined) {
    app.log.warn({ bytes: report.tornTail.bytes }, 'audit trail ended with a torn record (an interrupted write); it was cut off and noted')
    await trail.append({ v: AUDIT_RECORD_VERSION, type: 'recovery', time: new Date().toISOString(), tornTailBytes: report.tornTail.bytes, tornTailSha256: report.tornTail.sha256 })
  }
  await audit.lifecycle('start', { sandbox: config.authing === undefined })

  app.addHook('onRequest', async (request) => {
    request.startedAt = performance.now()
  })

  app.addHook('onSend', async (request, reply, payload) => {
    if (request.auditDone || request.routeOptions.config?.audit === false) return payload
    await audit.request(request, reply)
    return payload
  })

  // The chain head goes to the log at start and stop: a copy outside the file, against which a trail cut
  // short (the one edit a hash chain alone cannot show) can be checked.
  app.log.info({ auditSeq: trail.head.seq, auditHead: trail.head.prev }, 'audit trail opened')
  app.addHook('onClose', async () => {
    await audit.lifecycle('stop').catch(() => {})
    await trail.close()
    app.log.info({ auditSeq: trail.head.seq, auditHead: trail.head.prev }, 'audit trail closed')
  })
}

export default fp(auditPlugin, { name: 'audit', fastify: '5.x' })
export { AuditWriteError }
