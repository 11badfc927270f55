// Caller authentication and authorisation for the route: a bearer key identifies the calling service,
// its entry in CALLERS_FILE says which providers it may act on, and per-caller limits bound its load.
// The file is re-read on SIGHUP and when it changes; a broken file keeps the last good callers.
import { readFileSync, unwatchFile, watchFile, type Stats } from 'node:fs'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import type { Config } from '../config.ts'
import { ServiceError } from '../errors.ts'
import { CallerRegistry, CallersFileError, mayActOn, type Caller } from './registry.ts'

/** The sandbox's development caller. It exists only when the sandbox plays Authing and no CALLERS_FILE is set. */
export const SANDBOX_CALLER = { name: 'sandbox-dev', key: 'sandbox-dev-key' } as const

const REALM = 'Bearer realm="sync-relations-proxy"'
const BEARER = /^Bearer +([A-Za-z0-9._~+/-]+=*) *$/i
const MAX_AUTHORIZATION_LENGTH = 512

declare module 'fastify' {
  interface FastifyInstance {
    callers: CallerAccess
  }
  interface FastifyRequest {
    caller: Caller | undefined
  }
}

export interface CallersPluginOptions {
  config: Config
  /** Poll the callers file for changes this often (0: only SIGHUP). */
  watchIntervalMs?: number
}

export class CallerAccess {
  readonly registry: CallerRegistry
  readonly #config: Config
  readonly #inFlight = new Map<string, number>()

  constructor (registry: CallerRegistry, config: Config) {
    this.registry = registry
    this.#config = config
  }

  /**
   * onRequest hook: identifies the caller or answers 401; an address whose keys keep failing gets 429
   * instead, so junk traffic is cheap to refuse. A valid key always passes, whatever its address did.
   */
  authenticate = async (request: FastifyRequest): Promise<void> => {
    const header = request.headers.authorization
    if (header === undefined || header === '') return this.#refuse(request, 'missing key', false)
    if (countHeader(request.raw.rawHeaders, 'authorization') > 1) return this.#refuse(request, 'more than one Authorization header', true)
    const match = header.length <= MAX_AUTHORIZATION_LENGTH ? BEARER.exec(header) : null
    if (match === null) return this.#refuse(request, 'malformed Authorization header', true)
    const caller = this.registry.authenticate(match[1] as string)
    if (caller === undefined) return this.#refuse(request, 'unknown key', true)
    request.caller = caller
    request.callerName = caller.name
  }

  #refuse (request: FastifyRequest, reason: string, invalid: boolean): never {
    this.#refuseIfFailingTooOften(request)
    request.auditReason = reason
    this.#countFailure(request.ip)
    throw new ServiceError('UNAUTHENTICATED', { headers: { 'www-authenticate': invalid ? `${REALM}, error="invalid_token"` : REALM } })
  }

  // Failed authentications per address, in fixed windows: unauthenticated traffic is not rate-limited
  // per caller (there is no caller), so an address that keeps failing is slowed down here instead.
  readonly #failures = new Map<string, { count: number, windowEnds: number }>()

  #refuseIfFailingTooOften (request: FastifyRequest): void {
    const entry = this.#failures.get(request.ip)
    if (entry === undefined || entry.count < this.#config.callers.unauthenticatedRateLimitMax) return
    const now = Date.now()
    if (now >= entry.windowEnds) {
      this.#failures.delete(request.ip)
      return
    }
    request.auditReason = 'too many failed authentications'
    throw new ServiceError('RATE_LIMITED', {
      message: 'Too many failed authentications from this address; retry after the time in Retry-After.',
      retryAfter: Math.max(1, Math.ceil((entry.windowEnds - now) / 1000))
    })
  }

  #countFailure (address: string): void {
    const now = Date.now()
    const entry = this.#failures.get(address)
    if (entry === undefined || now >= entry.windowEnds) {
      if (this.#failures.size >= 10_000) {
        for (const [key, value] of this.#failures) if (now >= value.windowEnds) this.#failures.delete(key)
      }
      this.#failures.set(address, { count: 1, windowEnds: now + this.#config.callers.rateLimitWindowMs })
    } else {
      entry.count += 1
    }
  }

  /** Answers 403 unless the caller may act on `provider`. */
  authorize (request: FastifyRequest, caller: Caller, provider: string): void {
    if (mayActOn(caller, provider)) return
    request.auditReason = 'provider not allowed'
    throw new ServiceError('FORBIDDEN_PROVIDER')
  }

  rateLimitMax (caller: Caller | undefined): number {
    return caller?.rateLimitMax ?? this.#config.callers.rateLimitMax
  }

  /** Takes one of the caller's in-flight slots; the returned function gives it back. Answers 429 when none is free. */
  enter (caller: Caller): () => void {
    const limit = caller.maxInFlight ?? this.#config.callers.maxInFlight
    const current = this.#inFlight.get(caller.name) ?? 0
    if (current >= limit) throw new ServiceError('TOO_MANY_IN_FLIGHT', { retryAfter: 1 })
    this.#inFlight.set(caller.name, current + 1)
    let released = false
    return () => {
      if (released) return
      released = true
      const left = (this.#inFlight.get(caller.name) ?? 1) - 1
      if (left === 0) this.#inFlight.delete(caller.name)
      else this.#inFlight.set(caller.name, left)
    }
  }
}

function countHeader (rawHeaders: string[], name: string): number {
  let count = 0
  for (let i = 0; i < rawHeaders.length; i += 2) if (rawHeaders[i]?.toLowerCase() === name) count += 1
  return count
}

function readCallers (file: string, providers: readonly string[], registry?: CallerRegistry): CallerRegistry {
  const text = readFileSync(file, 'utf8')
  if (registry === undefined) return CallerRegistry.fromText(text, providers)
  registry.replace(text, providers)
  return registry
}

async function callersPlugin (app: FastifyInstance, options: CallersPluginOptions): Promise<void> {
  const { config } = options
  const file = config.callers.file
  let registry: CallerRegistry
  if (file !== undefined) {
    try {
      registry = readCallers(file, config.providers)
    } catch (error) {
      const problems = error instanceof CallersFileError ? error.problems : [`cannot read it (${(error as NodeJS.ErrnoException).code ?? 'error'})`]
      throw new Error(`CALLERS_FILE ${file}: ${problems.join('; ')}`)
    }
    app.log.info({ callers: registry.callers.length }, 'callers loaded')
  } else {
    registry = CallerRegistry.single(SANDBOX_CALLER.name, SANDBOX_CALLER.key)
    app.log.warn(`sandbox caller "${SANDBOX_CALLER.name}" is active with the documented development key; set CALLERS_FILE to replace it`)
  }
  app.decorate('callers', new CallerAccess(registry, config))
  app.decorateRequest('caller', undefined)

  if (file === undefined) return
  const reload = (why: string): void => {
    try {
      readCallers(file, config.providers, registry)
      app.log.info({ callers: registry.callers.length, trigger: why }, 'callers reloaded')
    } catch (error) {
      const problems = error instanceof CallersFileError ? error.problems : [`cannot read it (${(error as NodeJS.ErrnoException).code ?? 'error'})`]
      app.log.error({ problems, trigger: why }, 'callers file rejected; keeping the previous callers')
    }
  }
  const onSignal = (): void => { reload('SIGHUP') }
  process.on('SIGHUP', onSignal)
  const interval = options.watchIntervalMs ?? 2000
  // Polling survives the atomic replace and symlink swap that Kubernetes uses for mounted files.
  const onChange = (current: Stats, previous: Stats): void => {
    if (current.mtimeMs !== previous.mtimeMs || current.size !== previous.size || current.ino !== previous.ino) reload('file changed')
  }
  if (interval > 0) watchFile(file, { interval, persistent: false }, onChange)
  app.addHook('onClose', async () => {
    process.off('SIGHUP', onSignal)
    if (interval > 0) unwatchFile(file, onChange)
  })
}

export default fp(callersPlugin, { name: 'callers', fastify: '5.x', dependencies: ['audit'] })
