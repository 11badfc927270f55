// Builds the real app against its embedded sandbox, with the audit trail in a fresh temporary directory.
import { mkdtempSync, readFileSync, existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import { buildApp, type AppDependencies } from '../../src/app.ts'
import { loadConfig, type Config } from '../../src/config.ts'
import type { Sandbox } from '../../src/sandbox/emulator.ts'

export const DEV_KEY = 'sandbox-dev-key'
export const AUTH = { authorization: `Bearer ${DEV_KEY}` } as const

/** The seeded demo users (see src/sandbox/tenant.ts and the README). */
export const ZHANGSAN = '6229ffaa0b1c2d3e4f5a6b7c'
export const LISI = '6229ffaa0b1c2d3e4f5a6b7d'
export const WANGWU = '6229ffaa0b1c2d3e4f5a6b7e'
export const ZHAOLIU = '6229ffaa0b1c2d3e4f5a6b7f'

interface Teardown { teardown: (fn: () => unknown) => void }

export interface TestApp {
  app: FastifyInstance
  config: Config
  sandbox: Sandbox
  dir: string
  auditPath: string
  /** The audit trail's records, parsed. */
  audit: () => Array<Record<string, unknown>>
  /** Requests the sandbox (Authing) received. */
  upstreamCalls: () => number
}

export function tempDir (prefix = 'srp-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix))
}

export async function buildTestApp (t: Teardown, env: Record<string, string> = {}, deps: AppDependencies = {}): Promise<TestApp> {
  const dir = tempDir()
  const auditPath = join(dir, 'audit.log')
  const config = loadConfig({ AUDIT_LOG_PATH: auditPath, LOG_LEVEL: 'silent', ...env })
  const app = await buildApp(config, { callersWatchIntervalMs: 0, ...deps })
  t.teardown(() => app.close())
  await app.ready()
  const sandbox = app.upstream.sandbox as Sandbox
  return {
    app,
    config,
    sandbox,
    dir,
    auditPath,
    audit: () => readAudit(auditPath),
    upstreamCalls: () => sandbox.received.length
  }
}

export function readAudit (path: string): Array<Record<string, unknown>> {
  if (!existsSync(path)) return []
  return readFileSync(path, 'utf8').split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as Record<string, unknown>)
}

/** The records about one request id. */
export function recordsFor (records: Array<Record<string, unknown>>, requestId: string): Array<Record<string, unknown>> {
  return records.filter((record) => record.requestId === requestId)
}

export function routeUrl (userId: string, provider: string, query = ''): string {
  return `/users/${encodeURIComponent(userId)}/sync-relations/${provider}${query}`
}
