// Every response carries this service's request id in X-Request-Id. A caller may choose it by sending a
// well-formed UUID; anything else is replaced, so logs and the audit trail never hold caller-made ids.
import { randomUUID } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'

export const REQUEST_ID_HEADER = 'x-request-id'
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/** Fastify's `genReqId`: the caller's UUID (lowercased) or a new random one. */
export function requestIdFor (request: IncomingMessage): string {
  const offered = request.headers[REQUEST_ID_HEADER]
  return typeof offered === 'string' && UUID.test(offered) ? offered.toLowerCase() : randomUUID()
}

async function requestIdPlugin (app: FastifyInstance): Promise<void> {
  app.addHook('onRequest', async (request, reply) => {
    reply.header(REQUEST_ID_HEADER, request.id)
  })
}

export default fp(requestIdPlugin, { name: 'request-id', fastify: '5.x' })
