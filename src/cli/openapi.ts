// `npm run openapi`: writes the OpenAPI document generated from the route schemas to openapi/openapi.json,
// and the TypeScript types a client team generates from it (openapi-typescript) to openapi/schema.d.ts.
// Both are built with the default configuration, so they do not depend on the machine that runs it; tests
// fail when a committed copy drifts.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { registerHooks } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { buildApp } from '../app.ts'
import { loadConfig } from '../config.ts'

export const OPENAPI_FILE = new URL('../../openapi/openapi.json', import.meta.url)
export const CLIENT_TYPES_FILE = new URL('../../openapi/schema.d.ts', import.meta.url)

/** The document as the default configuration produces it. */
export async function generateOpenApi (): Promise<unknown> {
  const dir = mkdtempSync(join(tmpdir(), 'srp-openapi-'))
  const app = await buildApp(loadConfig({ SANDBOX: 'true', LOG_LEVEL: 'silent', AUDIT_LOG_PATH: join(dir, 'audit.log') }))
  try {
    await app.ready()
    return app.swagger()
  } finally {
    await app.close()
    rmSync(dir, { recursive: true, force: true })
  }
}

export function serialise (document: unknown): string {
  return `${JSON.stringify(document, null, 2)}\n`
}

interface OpenApiTypescript {
  default: (document: unknown, options?: Record<string, unknown>) => Promise<unknown>
  astToString: (nodes: unknown) => string
}

let typescript5Routed = false

/**
 * openapi-typescript builds its output with the TypeScript 5 compiler API, which TypeScript 7 (this project's
 * typechecker) no longer ships. The development dependency `srp-typescript-5` (test/client/typescript-5)
 * installs TypeScript 5 nested, where it cannot replace the project's `tsc`; imports of `typescript` made by
 * openapi-typescript are resolved from there, and nothing else is affected.
 */
function routeTypescript5 (): void {
  if (typescript5Routed) return
  typescript5Routed = true
  const typescript5Home = import.meta.resolve('srp-typescript-5/package.json')
  registerHooks({
    resolve (specifier, context, nextResolve) {
      if (specifier === 'typescript' && context.parentURL?.includes('/node_modules/openapi-typescript/') === true) {
        return nextResolve(specifier, { ...context, parentURL: typescript5Home })
      }
      return nextResolve(specifier, context)
    }
  })
}

/** What `npx openapi-typescript openapi/openapi.json` writes: the `paths` and `components` types for openapi-fetch. */
export async function generateClientTypes (document: unknown): Promise<string> {
  routeTypescript5()
  const openapiTS = await import('openapi-typescript') as unknown as OpenApiTypescript
  const nodes = await openapiTS.default(structuredClone(document))
  return '// Generated from openapi/openapi.json by openapi-typescript (`npm run openapi`). Do not edit.\n\n' +
    openapiTS.astToString(nodes)
}

if (import.meta.main) {
  const document = await generateOpenApi()
  writeFileSync(OPENAPI_FILE, serialise(document))
  process.stdout.write(`wrote ${OPENAPI_FILE.pathname}\n`)
  writeFileSync(CLIENT_TYPES_FILE, await generateClientTypes(document))
  process.stdout.write(`wrote ${CLIENT_TYPES_FILE.pathname}\n`)
}
