import { readFileSync } from 'node:fs'
import t from 'tap'
import { generateOpenApi, OPENAPI_FILE, serialise } from '../../src/cli/openapi.ts'
import { ERROR_CATALOG } from '../../src/errors.ts'
import { buildTestApp } from '../helpers/app.ts'

t.test('the committed openapi/openapi.json matches the code (run `npm run openapi` after changing a schema)', async (t) => {
  const committed = readFileSync(OPENAPI_FILE, 'utf8')
  t.equal(committed, serialise(await generateOpenApi()))
})

t.test('the document describes the route, its security, and every error code with an example', async (t) => {
  const document = JSON.parse(readFileSync(OPENAPI_FILE, 'utf8'))
  const operation = document.paths['/users/{userId}/sync-relations/{provider}'].delete
  t.equal(operation.operationId, 'deleteUserSyncRelation')
  t.same(operation.security, [{ callerKey: [] }])
  t.match(document.components.securitySchemes.callerKey, { type: 'http', scheme: 'bearer' })
  t.ok(document.components.schemas.ErrorEnvelope, 'the error envelope is a named component')
  const documented = new Set<string>()
  for (const response of Object.values(operation.responses) as Array<{ content: { 'application/json': { examples: Record<string, unknown> } } }>) {
    for (const name of Object.keys(response.content['application/json'].examples)) documented.add(name)
  }
  const routeCodes = Object.keys(ERROR_CATALOG).filter((code) => !['NOT_FOUND', 'METHOD_NOT_ALLOWED', 'REQUEST_TIMEOUT', 'EXPECTATION_FAILED', 'HEADERS_TOO_LARGE', 'INTERNAL_ERROR'].includes(code))
  for (const code of routeCodes) t.ok(documented.has(code), `${code} has an example`)
})

t.test('the document shows the effective provider list, including AUTHING_EXTRA_PROVIDERS', async (t) => {
  const { app } = await buildTestApp(t, { AUTHING_EXTRA_PROVIDERS: 'lark-international,fxiaoke' })
  const response = await app.inject({ method: 'GET', url: '/docs/json' })
  const provider = response.json().paths['/users/{userId}/sync-relations/{provider}'].delete.parameters.find((p: { name: string }) => p.name === 'provider')
  t.ok(provider.schema.enum.includes('lark-international'))
  t.ok(provider.schema.enum.includes('fxiaoke'))
  t.ok(provider.schema.enum.includes('moka'))
})
