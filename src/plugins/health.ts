// Liveness and readiness for orchestrators. Ready means: configuration loaded (we are running), the
// audit trail writable, the circuit to Authing not open, and not draining for shutdown.
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { Type } from '@sinclair/typebox'
import { ServiceError } from '../errors.ts'

declare module 'fastify' {
  interface FastifyInstance {
    /** True once shutdown has begun: new work is refused. */
    draining: boolean
  }
}

const Checks = Type.Object({
  status: Type.Union([Type.Literal('ok'), Type.Literal('unavailable')]),
  checks: Type.Optional(Type.Object({
    audit: Type.Boolean(),
    circuit: Type.String(),
    draining: Type.Boolean()
  }))
})

/** How often an unhealthy audit trail is probed with a write while nothing else is written. */
const AUDIT_PROBE_INTERVAL_MS = 5000

async function healthPlugin (app: FastifyInstance, options: { shutdownTimeoutMs: number }): Promise<void> {
  app.decorate('draining', false)
  let lastResort: NodeJS.Timeout | undefined
  app.addHook('preClose', async () => {
    app.draining = true
    // A client that never finishes sending its request must not hold the shutdown open until the
    // process is killed: just before the bound, whatever connections remain are closed.
    const margin = Math.min(1000, options.shutdownTimeoutMs * 0.1)
    lastResort = setTimeout(() => { app.server.closeAllConnections() }, options.shutdownTimeoutMs - margin).unref()
  })
  app.addHook('onClose', async () => { clearTimeout(lastResort) })

  // Once draining, new requests (on connections that were already open) are refused, and audited.
  app.addHook('onRequest', async (request) => {
    if (app.draining && request.routeOptions.config?.audit !== false) throw new ServiceError('SHUTTING_DOWN', { retryAfter: 1 })
  })
  // ...and every answer closes its connection, so kept-alive clients do not hold the server open.
  app.addHook('onSend', async (_request, reply, payload) => {
    if (app.draining) reply.header('connection', 'close')
    return payload
  })

  let lastProbe = 0
  const hidden = { hide: true, response: { 200: Checks, 503: Checks } }
  app.get('/health/live', { config: { audit: false }, schema: hidden }, async () => ({ status: 'ok' as const }))
  app.get('/health/ready', { config: { audit: false }, schema: hidden }, async (_request, reply) => {
    if (!app.audit.healthy && Date.now() - lastProbe > AUDIT_PROBE_INTERVAL_MS) {
      // After a failed write, readiness itself tests whether the trail can be written again.
      lastProbe = Date.now()
      await app.audit.lifecycle('probe').catch(() => {})
    }
    const checks = { audit: app.audit.healthy, circuit: app.upstream.breaker.state, draining: app.draining }
    const ready = checks.audit && checks.circuit !== 'open' && !checks.draining
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ok' : 'unavailable', checks })
  })
}

export default fp(healthPlugin, { name: 'health', fastify: '5.x', dependencies: ['audit', 'upstream'] })
