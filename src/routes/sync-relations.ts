// DELETE /users/:userId/sync-relations/:provider — the one operation of this service.
// Order of the pipeline: caller key (onRequest) → rate limit (preParsing) → schema validation →
// id format and provider permission (preHandler) → in-flight bound → audit attempt → Authing → audit outcome.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Config } from '../config.ts'
import { ERROR_CATALOG, ServiceError, type ErrorCode } from '../errors.ts'
import type { Outcome } from '../audit/records.ts'
import { sendError } from '../plugins/errors.ts'
import { DEFAULT_USER_ID_TYPE, userIdProblem } from '../schemas/identifiers.ts'
import { codesByStatus, QuerySchema, ROUTE_URL, routeParamsSchema, type RouteParams, type RouteQuery } from '../schemas/route.ts'

const FAIL_FAST: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['UPSTREAM_OVERLOADED', 'UPSTREAM_CIRCUIT_OPEN'])

const DESCRIPTION = `Removes the sync relation between one Authing user and one external identity source, by calling
Authing's \`POST /api/v3/delete-user-sync-relations\` with this service's credentials.

**Results.** 200 passes Authing's answer through (\`data.success\` says whether a relation was removed).
Every error uses the \`ErrorEnvelope\`: \`code\` is stable and machine-readable; \`apiCode\` and \`authingRequestId\`
appear when the error came from Authing. 4xx: the caller can fix the request. 502/503/504: the upstream or this
deployment is at fault; 504 means the outcome is unknown (Authing may or may not have removed the relation).

Every response carries \`X-Request-Id\` (send a UUID to choose it). Any request body is ignored.`

function statusDescription (status: number, codes: readonly ErrorCode[]): string {
  return codes.map((code) => `\`${code}\`: ${ERROR_CATALOG[code].message}`).join('\n\n') || String(status)
}

export interface SyncRelationsRouteOptions {
  config: Config
}

export default async function syncRelationsRoute (app: FastifyInstance, { config }: SyncRelationsRouteOptions): Promise<void> {
  const errorResponses: Record<string, unknown> = {}
  for (const [status, codes] of codesByStatus()) {
    errorResponses[String(status)] = { description: statusDescription(status, codes), $ref: 'ErrorEnvelope#' }
  }

  app.route<{ Params: RouteParams, Querystring: RouteQuery }>({
    method: 'DELETE',
    url: ROUTE_URL,
    schema: {
      operationId: 'deleteUserSyncRelation',
      tags: ['sync-relations'],
      summary: "Remove a user's sync relation with one identity source",
      description: DESCRIPTION,
      security: [{ callerKey: [] }],
      params: routeParamsSchema(config.providers),
      querystring: QuerySchema,
      response: {
        200: { description: "Authing processed the call; its answer is passed through.", $ref: 'IsSuccessRespDto#' },
        ...errorResponses
      }
    },
    onRequest: [app.callers.authenticate],
    config: {
      rateLimit: {
        hook: 'preParsing',
        max: async (request: FastifyRequest) => app.callers.rateLimitMax(request.caller),
        timeWindow: config.callers.rateLimitWindowMs,
        keyGenerator: (request: FastifyRequest) => `caller:${request.caller?.name ?? request.ip}`,
        errorResponseBuilder: (request: FastifyRequest, context: { ttl: number }) => {
          request.auditReason = 'rate limit'
          return new ServiceError('RATE_LIMITED', { retryAfter: Math.max(1, Math.ceil(context.ttl / 1000)) })
        }
      }
    },
    preHandler: async (request) => {
      const { userId, provider } = request.params
      const problem = userIdProblem(userId, request.query.userIdType ?? DEFAULT_USER_ID_TYPE, config.providers)
      if (problem !== undefined) throw new ServiceError('INVALID_USER_ID', { message: problem })
      app.callers.authorize(request, request.caller as NonNullable<typeof request.caller>, provider)
    },
    handler: async (request, reply) => removeRelation(app, config, request, reply)
  })
}

async function removeRelation (
  app: FastifyInstance,
  config: Config,
  request: FastifyRequest<{ Params: RouteParams, Querystring: RouteQuery }>,
  reply: FastifyReply
): Promise<FastifyReply> {
  const caller = request.caller as NonNullable<typeof request.caller>
  const release = app.callers.enter(caller)
  try {
    // Fail fast, before an attempt record that would only say "refused": an open circuit or a full queue.
    app.upstream.breaker.refuseIfOpen()
    app.upstream.bulkhead.refuseIfFull()
    try {
      await app.audit.attempt(request)
    } catch {
      // Fail closed: nothing reaches Authing unless its attempt record is on disk.
      throw new ServiceError('AUDIT_UNAVAILABLE', { retryAfter: 5 })
    }
    const { userId, provider } = request.params
    const userIdType = request.query.userIdType ?? DEFAULT_USER_ID_TYPE
    const deadline = Date.now() + config.upstream.totalTimeoutMs
    let report
    try {
      report = await app.upstream.client.deleteUserSyncRelations({ provider, userId, userIdType }, deadline)
    } catch (error) {
      // A bug, not an upstream answer: the attempt record still gets its outcome.
      await app.audit.outcome(request, { outcome: 'upstream_fault', status: 500, code: 'INTERNAL_ERROR', attempts: 0 })
      throw error
    }
    const { mapped, attempts } = report
    app.metrics.callAttempts.observe(attempts)

    if (mapped.ok) {
      await app.audit.outcome(request, { outcome: 'success', status: 200, authing: mapped.authing, success: mapped.envelope.data.success, attempts })
      return reply.code(200).send(mapped.envelope)
    }
    const { error } = mapped
    const outcome: Outcome = FAIL_FAST.has(error.code) || error.code === 'SHUTTING_DOWN' ? 'unavailable' : mapped.upstreamFault ? 'upstream_fault' : 'authing_error'
    await app.audit.outcome(request, { outcome, status: error.statusCode, code: error.code, authing: error.authing, attempts })
    if (error.statusCode >= 500) request.log.warn({ code: error.code, attempts, authing: error.authing, fault: report.fault }, 'Authing call failed')
    return sendError(reply, request, error)
  } finally {
    release()
  }
}
