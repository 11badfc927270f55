// `npm run openapi`: writes the OpenAPI document generated from the route schemas to openapi/openapi.json.
// It is built with the default configuration, so it does not depend on the machine that runs it.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { buildApp } from '../app.ts'
import { loadConfig } from '../config.ts'

export const OPENAPI_FILE = new URL('../../openapi/openapi.json', import.meta.url)

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

if (import.meta.main) {
  writeFileSync(OPENAPI_FILE, serialise(await generateOpenApi()))
  process.stdout.write(`wrote ${OPENAPI_FILE.pathname}\n`)
}
