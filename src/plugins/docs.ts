// The OpenAPI document, generated from the route schemas, and Swagger UI at /docs. The same document is
// written to openapi/ by `npm run openapi`, and a test fails when the committed copy drifts.
import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify'
import fp from 'fastify-plugin'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import { codesByStatus, ErrorEnvelopeSchema, errorExamples, SuccessEnvelopeSchema } from '../schemas/route.ts'
import { SERVICE_VERSION } from '../version.ts'

export interface DocsOptions {
  /** Prefix under which a gateway serves this service (PUBLIC_BASE_PATH); '' when served at the root. */
  publicBasePath: string
}

const INTRO = `Removes a user's sync relation with one external identity source (WeCom, DingTalk, Lark, LDAP, AD,
Moka, …) in Authing, on behalf of internal services that never hold the Authing management secret.

Authenticate with **Authorize** and your caller key (\`Authorization: Bearer <key>\`).

When the service runs its **built-in sandbox** instead of Authing (no Authing credentials configured), use the
development key \`sandbox-dev-key\` and the demo users listed in the README (for example user
\`6229ffaa0b1c2d3e4f5a6b7c\` with provider \`lark\`).`

const EXAMPLE_REQUEST_ID = 'b3f1c2d4-5e6f-4a7b-8c9d-0e1f2a3b4c5d'

const HEADERS: Record<string, { description: string, required: boolean, schema: Record<string, unknown>, example: unknown }> = {
  'X-Request-Id': { description: "This service's request id (a UUID); also in the audit trail and logs.", required: true, schema: { type: 'string', format: 'uuid' }, example: EXAMPLE_REQUEST_ID },
  'Retry-After': { description: 'Seconds to wait before retrying.', required: false, schema: { type: 'integer', minimum: 1 }, example: 1 },
  'WWW-Authenticate': { description: 'The authentication scheme: `Bearer`.', required: true, schema: { type: 'string' }, example: 'Bearer realm="sync-relations-proxy", error="invalid_token"' }
}

interface OperationObject { responses?: Record<string, { headers?: Record<string, unknown>, content?: Record<string, { examples?: unknown, example?: unknown }> }> }

/** Adds what the route schemas cannot carry: response headers and one named example per error code. */
function addExamplesAndHeaders (document: { paths?: Record<string, Record<string, OperationObject>> }): void {
  const byStatus = codesByStatus()
  for (const operations of Object.values(document.paths ?? {})) {
    for (const operation of Object.values(operations)) {
      for (const [status, response] of Object.entries(operation.responses ?? {})) {
        const headers: Record<string, unknown> = { 'X-Request-Id': HEADERS['X-Request-Id'] }
        if (status === '429' || status === '503') headers['Retry-After'] = HEADERS['Retry-After']
        if (status === '401') headers['WWW-Authenticate'] = HEADERS['WWW-Authenticate']
        response.headers = headers
        const media = response.content?.['application/json']
        if (media === undefined) continue
        if (status === '200') {
          media.examples = { removed: { summary: 'The relation was removed', value: SuccessEnvelopeSchema.examples[0] } }
        } else {
          media.examples = errorExamples(byStatus.get(Number(status)) ?? [])
        }
      }
    }
  }
}

const DOCS_PREFIX = '/docs'

/**
 * Swagger UI's page links its assets relative to itself only when opened as `/docs/`; opened as `/docs` it
 * links them absolutely (`/docs/static/…`), which misses the prefix of a gateway that serves this service
 * under PUBLIC_BASE_PATH. So `/docs` redirects to `docs/`: a relative Location, which the browser resolves
 * against the URL it asked for, so the prefix is kept with or without a gateway, and nothing else needs it.
 */
function redirectToTrailingSlash (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void {
  const [path, query] = splitOnce(request.url, '?')
  if (path !== DOCS_PREFIX) {
    done()
    return
  }
  reply.redirect(`${DOCS_PREFIX.slice(DOCS_PREFIX.lastIndexOf('/') + 1)}/${query === undefined ? '' : `?${query}`}`, 302)
}

function splitOnce (value: string, separator: string): [string, string | undefined] {
  const at = value.indexOf(separator)
  return at === -1 ? [value, undefined] : [value.slice(0, at), value.slice(at + 1)]
}

async function docsPlugin (app: FastifyInstance, options: DocsOptions): Promise<void> {
  app.addSchema(SuccessEnvelopeSchema)
  app.addSchema(ErrorEnvelopeSchema)

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'sync-relations-proxy',
        version: SERVICE_VERSION,
        description: INTRO,
        license: { name: 'UNLICENSED', identifier: 'UNLICENSED' }
      },
      servers: [{ url: options.publicBasePath === '' ? '/' : options.publicBasePath, description: 'This service' }],
      tags: [{ name: 'sync-relations', description: "Users' relations with external identity sources" }],
      components: {
        securitySchemes: {
          callerKey: {
            type: 'http',
            scheme: 'bearer',
            description: 'The caller key issued to your service (`npm run caller-key`). In the sandbox: `sandbox-dev-key`.'
          }
        }
      }
    },
    transformObject: (documents) => {
      const document = 'openapiObject' in documents ? documents.openapiObject : documents.swaggerObject
      addExamplesAndHeaders(document as Parameters<typeof addExamplesAndHeaders>[0])
      return document
    },
    refResolver: {
      // Shared schemas keep their names (IsSuccessRespDto, ErrorEnvelope) as components.
      buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`)
    }
  })

  await app.register(swaggerUi, {
    routePrefix: DOCS_PREFIX,
    uiConfig: { deepLinking: false, validatorUrl: null, tryItOutEnabled: true, persistAuthorization: false, displayRequestDuration: true },
    staticCSP: false,
    uiHooks: { onRequest: redirectToTrailingSlash }
  })
}

export default fp(docsPlugin, { name: 'docs', fastify: '5.x' })
