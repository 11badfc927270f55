// Prometheus metrics: inbound requests, calls to Authing, the queue and circuit in front of it, the
// audit trail's writes, and build info. Each app has its own registry (tests build many apps).
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client'
import type { AttemptObservation } from '../authing/client.ts'
import type { CircuitState } from '../resilience/breaker.ts'
import { SERVICE_VERSION } from '../version.ts'

declare module 'fastify' {
  interface FastifyInstance {
    metrics: Metrics
  }
}

/** Authing's documented business statuses and the apiCodes that matter here (authing-contract.md §3). */
const KNOWN_STATUS_CODES: ReadonlySet<number> = new Set([200, 400, 401, 402, 403, 404, 409, 413, 422, 429, 499, 500, 501, 502, 503, 601, 602, 603])
const KNOWN_API_CODES: ReadonlySet<number> = new Set([1300, 1301, 1302, 1303, 1304, 1305, 1306, 2004, 2020, 2224, 4021])

/** A label value from a fixed set, so an upstream inventing codes cannot grow the series without bound. */
function boundedLabel (value: number | undefined, known: ReadonlySet<number>): string {
  if (value === undefined) return 'none'
  return known.has(value) ? String(value) : 'other'
}

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20]

export class Metrics {
  readonly registry = new Registry()
  readonly httpRequests = new Counter({ name: 'http_requests_total', help: 'Inbound HTTP requests, by route, method and status.', labelNames: ['route', 'method', 'status_code'], registers: [this.registry] })
  readonly httpDuration = new Histogram({ name: 'http_request_duration_seconds', help: 'Time from request arrival to response, by route, method and status.', labelNames: ['route', 'method', 'status_code'], buckets: LATENCY_BUCKETS, registers: [this.registry] })
  readonly upstreamRequests = new Counter({ name: 'authing_requests_total', help: 'Requests sent to Authing, by outcome, Authing statusCode and apiCode.', labelNames: ['outcome', 'status_code', 'api_code'], registers: [this.registry] })
  readonly upstreamDuration = new Histogram({ name: 'authing_request_duration_seconds', help: 'Duration of one request to Authing, by outcome.', labelNames: ['outcome'], buckets: LATENCY_BUCKETS, registers: [this.registry] })
  readonly callAttempts = new Histogram({ name: 'authing_call_attempts', help: 'Requests sent to Authing per inbound call (retries included).', buckets: [0, 1, 2, 3, 4, 5, 10], registers: [this.registry] })
  /** Reads the upstream's live figures at scrape time. */
  upstreamGauges: (() => { queued: number, active: number }) | undefined
  readonly queueDepth = new Gauge({ name: 'authing_queue_depth', help: 'Calls waiting for a free slot to Authing.', registers: [this.registry], collect: () => { this.queueDepth.set(this.upstreamGauges?.().queued ?? 0) } })
  readonly inFlight = new Gauge({ name: 'authing_in_flight', help: 'Calls to Authing in progress.', registers: [this.registry], collect: () => { this.inFlight.set(this.upstreamGauges?.().active ?? 0) } })
  readonly circuitState = new Gauge({ name: 'authing_circuit_state', help: 'Circuit breaker state: 1 for the current state.', labelNames: ['state'], registers: [this.registry] })
  readonly auditWriteDuration = new Histogram({ name: 'audit_write_duration_seconds', help: 'Time to write and sync one batch of audit records.', buckets: LATENCY_BUCKETS, registers: [this.registry] })
  readonly auditRecords = new Counter({ name: 'audit_records_total', help: 'Audit records written and synced.', registers: [this.registry] })
  readonly auditFailures = new Counter({ name: 'audit_write_failures_total', help: 'Audit records that could not be written, by stage.', labelNames: ['stage'], registers: [this.registry] })
  readonly buildInfo = new Gauge({ name: 'sync_relations_proxy_build_info', help: 'Always 1; labels carry the version.', labelNames: ['version', 'node_version'], registers: [this.registry] })

  constructor () {
    collectDefaultMetrics({ register: this.registry })
    this.buildInfo.set({ version: SERVICE_VERSION, node_version: process.version }, 1)
    this.setCircuit('closed')
    for (const stage of ['attempt', 'outcome', 'request']) this.auditFailures.inc({ stage }, 0)
  }

  observeAttempt = (observation: AttemptObservation): void => {
    this.upstreamRequests.inc({
      outcome: observation.outcome,
      status_code: boundedLabel(observation.authing?.statusCode, KNOWN_STATUS_CODES),
      api_code: boundedLabel(observation.authing?.apiCode, KNOWN_API_CODES)
    })
    this.upstreamDuration.observe({ outcome: observation.outcome }, observation.durationMs / 1000)
  }

  observeAuditBatch = (records: number, ms: number): void => {
    this.auditRecords.inc(records)
    this.auditWriteDuration.observe(ms / 1000)
  }

  setCircuit (state: CircuitState): void {
    for (const each of ['closed', 'open', 'half-open']) this.circuitState.set({ state: each }, each === state ? 1 : 0)
  }
}

async function metricsPlugin (app: FastifyInstance, options: { expose: boolean, metrics: Metrics }): Promise<void> {
  const { metrics } = options
  app.decorate('metrics', metrics)

  app.addHook('onResponse', async (request, reply) => {
    if (request.routeOptions.config?.audit === false) return
    const labels = { route: request.routeOptions.url ?? 'unmatched', method: request.method, status_code: String(reply.statusCode) }
    metrics.httpRequests.inc(labels)
    metrics.httpDuration.observe(labels, reply.elapsedTime / 1000)
  })

  if (!options.expose) return
  app.get('/metrics', { config: { audit: false }, schema: { hide: true } }, async (_request, reply) => {
    reply.type(metrics.registry.contentType)
    return metrics.registry.metrics()
  })
}

export default fp(metricsPlugin, { name: 'metrics', fastify: '5.x' })
