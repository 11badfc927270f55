// One envelope for every failure: validation, authentication, Authing's answers, unknown routes and
// framework-level rejections alike. 5xx details go to the log, never to the caller.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { errorEnvelope, isServiceError, ServiceError, type ErrorCode } from '../errors.ts'
import { MAX_USER_ID_LENGTH, USER_ID_TYPES } from '../schemas/identifiers.ts'

declare module 'fastify' {
  interface FastifyRequest {
    /** The error code this request was answered with, for the audit trail and metrics. */
    errorCode: ErrorCode | undefined
  }
}

/** The route's shape, used to tell "wrong method" and "id too long" from an unknown path. */
export const ROUTE_SHAPE = /^\/users\/[^/?]*\/sync-relations\/[^/?]*(?:\?|$)/

interface AjvError { instancePath: string, keyword: string, params: Record<string, unknown> }

function printable (value: unknown): string {
  // eslint-disable-next-line no-control-regex
  return String(value).replace(/[\u0000-\u001f\u007f-\u009f"\\]/g, '?').slice(0, 40)
}

/** Turns the first schema violation into one short, readable message with a stable code. */
export function validationError (error: FastifyError, providers: readonly string[]): ServiceError {
  const first = (error.validation?.[0] ?? { instancePath: '', keyword: '', params: {} }) as AjvError
  const context = error.validationContext
  const field = first.instancePath.replace(/^\//, '')
  if (context === 'params' && field === 'userId') {
    if (first.keyword === 'maxLength') return new ServiceError('INVALID_USER_ID', { message: `userId must be at most ${MAX_USER_ID_LENGTH} characters` })
    return new ServiceError('INVALID_USER_ID', { message: 'userId must not be blank' })
  }
  if (context === 'params' && field === 'provider') {
    return new ServiceError('UNSUPPORTED_PROVIDER', { message: `provider must be one of: ${providers.join(', ')}` })
  }
  if (context === 'querystring') {
    if (first.keyword === 'additionalProperties') {
      return new ServiceError('UNKNOWN_QUERY_PARAMETER', { message: `unknown query parameter "${printable(first.params.additionalProperty)}": only userIdType is accepted` })
    }
    if (field === 'userIdType' && first.keyword === 'type') {
      return new ServiceError('REPEATED_QUERY_PARAMETER', { message: 'userIdType must be given at most once' })
    }
    if (field === 'userIdType') {
      return new ServiceError('INVALID_USER_ID_TYPE', { message: `userIdType must be one of: ${USER_ID_TYPES.join(', ')}` })
    }
  }
  return new ServiceError('INVALID_REQUEST')
}

/** Which path parameter outgrew the router's limit: the provider segment, or (usually) the user id. */
export function tooLongParameter (url: string | undefined, providers: readonly string[], maxRawLength: number): ServiceError {
  const provider = /^\/users\/[^/?]*\/sync-relations\/([^/?]*)/.exec(url ?? '')?.[1]
  if (provider !== undefined && provider.length > maxRawLength) {
    return new ServiceError('UNSUPPORTED_PROVIDER', { message: `provider must be one of: ${providers.join(', ')}` })
  }
  return new ServiceError('INVALID_USER_ID', { message: `userId must be at most ${MAX_USER_ID_LENGTH} characters` })
}

/** Maps anything thrown during a request to a ServiceError that is safe to show. */
export function toServiceError (error: unknown, providers: readonly string[]): ServiceError {
  if (isServiceError(error)) return error
  const fastifyError = error as FastifyError
  if (fastifyError.validation !== undefined) return validationError(fastifyError, providers)
  switch (fastifyError.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE': return new ServiceError('PAYLOAD_TOO_LARGE')
    case 'FST_ERR_BAD_URL': return new ServiceError('MALFORMED_URL')
    case 'FST_ERR_MAX_PARAM_LENGTH': return new ServiceError('INVALID_USER_ID', { message: `userId must be at most ${MAX_USER_ID_LENGTH} characters` })
  }
  const status = fastifyError.statusCode
  if (typeof status === 'number' && status >= 400 && status < 500) return new ServiceError('INVALID_REQUEST')
  return new ServiceError('INTERNAL_ERROR')
}

export function sendError (reply: FastifyReply, request: FastifyRequest, error: ServiceError): FastifyReply {
  request.errorCode = error.code
  reply.code(error.statusCode)
  for (const [name, value] of Object.entries(error.headers)) reply.header(name, value)
  if (error.retryAfter !== undefined) reply.header('retry-after', String(error.retryAfter))
  return reply.type('application/json; charset=utf-8').send(errorEnvelope(error, request.id))
}

async function errorsPlugin (app: FastifyInstance, options: { providers: readonly string[] }): Promise<void> {
  app.decorateRequest('errorCode', undefined)

  app.setErrorHandler((error, request, reply) => {
    const serviceError = toServiceError(error, options.providers)
    if (serviceError.statusCode >= 500 && !isServiceError(error)) {
      // Only the error's class and code: framework and client errors can carry URLs and bodies.
      const { name, code } = error as FastifyError
      request.log.error({ errName: name, errCode: code, frames: (error as Error).stack?.split('\n').slice(1, 6).join('\n') }, 'unhandled error')
    }
    return sendError(reply, request, serviceError)
  })

  app.setNotFoundHandler((request, reply) => {
    if (ROUTE_SHAPE.test(request.url)) {
      return sendError(reply, request, new ServiceError('METHOD_NOT_ALLOWED', { headers: { allow: 'DELETE' } }))
    }
    return sendError(reply, request, new ServiceError('NOT_FOUND'))
  })
}

export default fp(errorsPlugin, { name: 'errors', fastify: '5.x' })
