// The upstream as the app sees it: an Authing client behind a bounded queue and a circuit breaker,
// talking either to the configured Authing host or to the embedded sandbox.
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { Config } from '../config.ts'
import { Bulkhead } from '../resilience/bulkhead.ts'
import { CircuitBreaker } from '../resilience/breaker.ts'
import { startSandbox, type Sandbox } from '../sandbox/emulator.ts'
import { AuthingClient } from './client.ts'
import { createAgent, createFetch } from './transport.ts'

declare module 'fastify' {
  interface FastifyInstance {
    upstream: Upstream
  }
}

export interface Upstream {
  client: AuthingClient
  bulkhead: Bulkhead
  breaker: CircuitBreaker
  /** The embedded sandbox, when it plays Authing. */
  sandbox: Sandbox | undefined
  /** Where calls go: the Authing host or the sandbox's loopback address. */
  baseUrl: string
}

export interface UpstreamPluginOptions {
  config: Config
  /** Use this sandbox instead of starting one (tests reach into it). */
  sandbox?: Sandbox | undefined
  random?: () => number
}

async function upstreamPlugin (app: FastifyInstance, options: UpstreamPluginOptions): Promise<void> {
  const { config } = options
  let sandbox: Sandbox | undefined
  let baseUrl: string
  let credentials
  if (config.authing === undefined) {
    sandbox = options.sandbox ?? await startSandbox({ missingRelation: config.sandbox?.missingRelation ?? 'not-found' })
    if (options.sandbox === undefined) app.addHook('onClose', async () => { await sandbox?.close() })
    baseUrl = sandbox.url
    credentials = { accessKeyId: sandbox.accessKeyId, accessKeySecret: sandbox.accessKeySecret }
  } else {
    baseUrl = config.authing.host
    credentials = config.authing.credentials
  }

  const up = config.upstream
  const agent = createAgent({ keepAliveTimeoutMs: up.keepAliveTimeoutMs, connections: up.maxConcurrency, connectTimeoutMs: Math.min(up.attemptTimeoutMs, 5000) })
  const bulkhead = new Bulkhead(up.maxConcurrency, up.maxQueue)
  // Closing the pool fails whatever still runs on it, so wait for calls in flight first (they end by
  // the shutdown cut-off below at the latest). With a listening server they are already done by now.
  app.addHook('onClose', async () => {
    const until = Date.now() + config.shutdownTimeoutMs
    while ((bulkhead.active > 0 || bulkhead.queued > 0) && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 20))
    await agent.close()
  })
  const breaker = new CircuitBreaker({
    failureThreshold: up.breakerFailureThreshold,
    openMs: up.breakerOpenMs,
    onStateChange: (state) => {
      app.metrics.setCircuit(state)
      app.log.warn({ state }, 'Authing circuit breaker changed state')
    }
  })
  app.metrics.upstreamGauges = () => ({ queued: bulkhead.queued, active: bulkhead.active })

  // Shutdown waits for calls in flight, but not past its bound: shortly before SHUTDOWN_TIMEOUT_MS the
  // remaining calls are cut off and answered as timeouts (outcome unknown), so each still gets its
  // answer and its outcome record before the process exits.
  // (The timer is not cleared on close: closing may itself be what waits on those calls.)
  const shutdown = new AbortController()
  app.addHook('preClose', async () => {
    const margin = Math.min(2000, config.shutdownTimeoutMs * 0.25)
    setTimeout(() => { shutdown.abort() }, config.shutdownTimeoutMs - margin).unref()
  })

  const client = new AuthingClient({
    baseUrl,
    credentials,
    lang: config.authingOptions.lang,
    tenantId: config.authingOptions.tenantId,
    authMode: config.authingOptions.authMode,
    attemptTimeoutMs: up.attemptTimeoutMs,
    maxAttempts: up.maxAttempts,
    retryBaseMs: up.retryBaseMs,
    retryMaxDelayMs: up.retryMaxDelayMs,
    bulkhead,
    breaker,
    fetch: createFetch(agent),
    onAttempt: app.metrics.observeAttempt,
    shutdownSignal: shutdown.signal,
    ...(options.random ? { random: options.random } : {})
  })
  app.decorate('upstream', { client, bulkhead, breaker, sandbox, baseUrl })
}

export default fp(upstreamPlugin, { name: 'upstream', fastify: '5.x', dependencies: ['metrics'] })
