// The OpenAPI document, generated from the route schemas, and Swagger UI at /docs. The same document is
// written to openapi/ by `npm run openapi`, and a test fails when the committed copy drifts.
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import { ErrorEnvelopeSchema, SuccessEnvelopeSchema } from '../schemas/route.ts'
import { SERVICE_VERSION } from '../version.ts'

export interface DocsOptions {
  /** Prefix under which a gateway serves this service (PUBLIC_BASE_PATH); '' when served at the root. */
  publicBasePath: string
  sandbox: boolean
}

const INTRO = `Removes a user's sync relation with one external identity source (WeCom, DingTalk, Lark, LDAP, AD,
Moka, …) in Authing, on behalf of internal services that never hold the Authing management secret.

Authenticate with **Authorize** and your caller key (\`Authorization: Bearer <key>\`).`

const SANDBOX_NOTE = `

This instance talks to the **built-in sandbox**, not to Authing: use the development key \`sandbox-dev-key\` and
the demo users listed in the README (for example user \`6229ffaa0b1c2d3e4f5a6b7c\` with provider \`lark\`).`

async function docsPlugin (app: FastifyInstance, options: DocsOptions): Promise<void> {
  app.addSchema(SuccessEnvelopeSchema)
  app.addSchema(ErrorEnvelopeSchema)

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'sync-relations-proxy',
        version: SERVICE_VERSION,
        description: INTRO + (options.sandbox ? SANDBOX_NOTE : ''),
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
    refResolver: {
      // Shared schemas keep their names (IsSuccessRespDto, ErrorEnvelope) as components.
      buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`)
    }
  })

  await app.register(swaggerUi, {
    routePrefix: '/docs',
    uiConfig: { deepLinking: false, validatorUrl: null, tryItOutEnabled: true, persistAuthorization: false, displayRequestDuration: true },
    staticCSP: false
  })
}

export default fp(docsPlugin, { name: 'docs', fastify: '5.x' })
