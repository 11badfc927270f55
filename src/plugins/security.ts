// Response headers that harden the service without breaking Swagger UI on plain HTTP (no
// `upgrade-insecure-requests`, no HSTS: TLS, if any, is the gateway's business), and CORS for the
// browser origins an operator lists (off by default).
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import cors from '@fastify/cors'
import helmet from '@fastify/helmet'
import { REQUEST_ID_HEADER } from './request-id.ts'

async function securityPlugin (app: FastifyInstance, options: { corsOrigins: readonly string[] }): Promise<void> {
  await app.register(helmet, {
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", 'data:'],
        connectSrc: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        upgradeInsecureRequests: null
      }
    },
    strictTransportSecurity: false,
    crossOriginEmbedderPolicy: false
  })
  app.addHook('onSend', async (_request, reply, payload) => {
    if (reply.getHeader('cache-control') === undefined) reply.header('cache-control', 'no-store')
    return payload
  })

  if (options.corsOrigins.length > 0) {
    // Browsers send the origin in lowercase; CORS_ORIGINS may not be.
    const listed = new Set(options.corsOrigins.map((origin) => origin.toLowerCase()))
    await app.register(cors, {
      // Only a listed origin gets CORS headers. Any other request, a preflight included, is handled as if
      // CORS were off (an OPTIONS is answered 405 with `Allow: DELETE`), so the browser refuses it. A
      // preflight is answered before any route hook: it carries no caller key and is never asked for one.
      origin: (origin, callback) => { callback(null, origin !== undefined && listed.has(origin) ? origin : false) },
      strictPreflight: false,
      methods: ['DELETE'],
      allowedHeaders: ['authorization', 'content-type', REQUEST_ID_HEADER],
      exposedHeaders: [REQUEST_ID_HEADER, 'retry-after', 'x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset'],
      maxAge: 600
    })
  }
}

export default fp(securityPlugin, { name: 'security', fastify: '5.x' })
