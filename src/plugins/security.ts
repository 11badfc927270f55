// Response headers that harden the service without breaking Swagger UI on plain HTTP (no
// `upgrade-insecure-requests`, no HSTS: TLS, if any, is the gateway's business), and CORS for the
// browser origins an operator lists (off by default).
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import cors from '@fastify/cors'
import helmet from 'helmet'
import { REQUEST_ID_HEADER } from './request-id.ts'

/**
 * helmet's headers, computed once: they never change per request, and building helmet's middleware for
 * every request (as @fastify/helmet does) cost about 5% of the service's CPU under load.
 */
function securityHeaders (): Record<string, string> {
  const headers: Record<string, string> = {}
  const middleware = helmet({
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
  const collector = {
    setHeader: (name: string, value: string) => { headers[name.toLowerCase()] = value },
    removeHeader: (name: string) => { delete headers[name.toLowerCase()] }
  }
  middleware({} as Parameters<typeof middleware>[0], collector as unknown as Parameters<typeof middleware>[1], () => {})
  return headers
}

async function securityPlugin (app: FastifyInstance, options: { corsOrigins: readonly string[] }): Promise<void> {
  const headers = securityHeaders()
  app.addHook('onRequest', async (_request, reply) => {
    reply.headers(headers)
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
