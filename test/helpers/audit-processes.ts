// Real processes for the crash and shutdown tests: the standalone sandbox (`npm run sandbox`) and the
// service itself (`src/server.ts`), with their output kept for diagnostics, and a load generator.
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { hashKey } from '../../src/callers/registry.ts'

const ROOT = join(import.meta.dirname, '..', '..')

/** The credentials `npm run sandbox` uses by default (src/cli/sandbox.ts). */
export const SANDBOX_ACCESS_KEY_ID = '65a0c0ffee0000000000a001'
export const SANDBOX_ACCESS_KEY_SECRET = 'sandbox-access-key-secret'

export interface Child {
  process: ChildProcess
  /** Everything it printed so far, for assertion messages. */
  output: () => string
  exited: Promise<{ code: number | null, signal: NodeJS.Signals | null }>
}

function startChild (args: string[], env: Record<string, string>, onStdoutLine?: (line: string) => void): Child {
  const child = spawn(process.execPath, args, { cwd: ROOT, env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  let pending = ''
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk
    if (onStdoutLine === undefined) return
    pending += chunk
    let newline = pending.indexOf('\n')
    while (newline !== -1) {
      onStdoutLine(pending.slice(0, newline))
      pending = pending.slice(newline + 1)
      newline = pending.indexOf('\n')
    }
  })
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => { output += chunk })
  const exited = new Promise<{ code: number | null, signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => { resolve({ code, signal }) })
  })
  return { process: child, output: () => output, exited }
}

export async function freePort (): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  await new Promise<void>((resolve) => server.close(() => { resolve() }))
  if (address === null || typeof address === 'string') throw new Error('no port')
  return address.port
}

async function waitFor (what: string, check: () => boolean | Promise<boolean>, child: Child, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let exited = false
  void child.exited.then(() => { exited = true })
  while (Date.now() < deadline) {
    if (await check()) return
    if (exited) throw new Error(`${what}: the process exited.\n${child.output()}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  throw new Error(`${what}: timed out.\n${child.output()}`)
}

export interface SandboxProcess extends Child {
  url: string
  /** The bodies of the delete requests it received, parsed. */
  deletes: Array<Record<string, unknown>>
}

/** `node src/cli/sandbox.ts --port 0 --log-requests`: Authing's stand-in in its own process. */
export async function startSandboxProcess (): Promise<SandboxProcess> {
  const deletes: Array<Record<string, unknown>> = []
  const child = startChild(['src/cli/sandbox.ts', '--port', '0', '--log-requests'], {}, (line) => {
    const logged = JSON.parse(line) as { url: string, body: string }
    if (logged.url.endsWith('/delete-user-sync-relations')) deletes.push(JSON.parse(logged.body) as Record<string, unknown>)
  })
  let url = ''
  await waitFor('the sandbox to listen', () => {
    const match = /Authing sandbox listening on (http:\/\/\S+)/.exec(child.output())
    if (match !== null) url = match[1] as string
    return url !== ''
  }, child)
  return { ...child, url, deletes }
}

export interface ServiceProcess extends Child {
  url: string
}

export interface ServiceSetup {
  dir: string
  auditPath: string
  callerKey: string
  env: Record<string, string>
}

/** Environment for the service against a sandbox at `authingHost`, with one caller and its key. */
export function serviceSetup (dir: string, authingHost: string, extra: Record<string, string> = {}): ServiceSetup {
  const callerKey = `crash-test-${randomBytes(16).toString('hex')}`
  const callersFile = join(dir, 'callers.json')
  writeFileSync(callersFile, JSON.stringify([{ name: 'load-test', keys: [hashKey(callerKey)], providers: ['*'] }]))
  const auditPath = join(dir, 'audit', 'audit.log')
  return {
    dir,
    auditPath,
    callerKey,
    env: {
      SANDBOX: 'false',
      AUTHING_HOST: authingHost,
      AUTHING_ACCESS_KEY_ID: SANDBOX_ACCESS_KEY_ID,
      AUTHING_ACCESS_KEY_SECRET: SANDBOX_ACCESS_KEY_SECRET,
      CALLERS_FILE: callersFile,
      AUDIT_HMAC_KEY: 'crash-test-hmac-key-0123456789',
      AUDIT_LOG_PATH: auditPath,
      CALLER_RATE_LIMIT_MAX: '1000000',
      CALLER_MAX_IN_FLIGHT: '10000',
      LOG_LEVEL: 'warn',
      ...extra
    }
  }
}

/** `node src/server.ts` on a free port; resolves once /health/ready answers 200. */
export async function startService (setup: ServiceSetup): Promise<ServiceProcess> {
  const port = await freePort()
  const child = startChild(['src/server.ts'], { ...setup.env, HOST: '127.0.0.1', PORT: String(port) })
  const url = `http://127.0.0.1:${port}`
  await waitFor('the service to be ready', async () => {
    try {
      return (await fetch(`${url}/health/ready`)).status === 200
    } catch {
      return false
    }
  }, child)
  return { ...child, url }
}

export function randomUserId (): string {
  return randomBytes(12).toString('hex')
}

export interface Load {
  /** User ids of every request sent. */
  sent: string[]
  statuses: number[]
  /** Requests that failed without an answer (the connection died). */
  failures: number
  stop: () => Promise<void>
}

/** `workers` loops of DELETE requests with fresh user ids, until stopped. */
export function startLoad (url: string, key: string, workers: number): Load {
  const load: Load = { sent: [], statuses: [], failures: 0, stop: async () => {} }
  let stopped = false
  const loops = Array.from({ length: workers }, async () => {
    while (!stopped) {
      const userId = randomUserId()
      load.sent.push(userId)
      try {
        const response = await fetch(`${url}/users/${userId}/sync-relations/lark`, { method: 'DELETE', headers: { authorization: `Bearer ${key}` }, signal: AbortSignal.timeout(10_000) })
        await response.arrayBuffer()
        load.statuses.push(response.status)
      } catch {
        load.failures += 1
        await new Promise((resolve) => setTimeout(resolve, 5))
      }
    }
  })
  load.stop = async () => {
    stopped = true
    await Promise.all(loops)
  }
  return load
}

/** Resolves once `check()` holds; rejects after `timeoutMs`. */
export async function until (what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

/** Resolves once `count()` has not changed for `quietMs`. */
export async function settle (count: () => number, quietMs = 300, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let last = count()
  let since = Date.now()
  while (Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50))
    const now = count()
    if (now !== last) {
      last = now
      since = Date.now()
    } else if (Date.now() - since >= quietMs) {
      return
    }
  }
}
