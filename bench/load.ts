// The load generator, in its own process so it never shares one with a server under test. bench/run.ts
// sends it jobs over IPC; it answers with the figures. Two kinds of load:
//  - closed: autocannon with fixed connections and duration (each connection sends its next request
//    when the previous answer arrives), for throughput;
//  - paced: an open-loop generator at a fixed rate (requests are issued on schedule whether or not
//    earlier ones have been answered), for latency at a given load. autocannon's own `overallRate`
//    sends each connection's per-second quota back to back at the top of each second, which measures
//    a burst rather than a steady rate, and its histogram has 1 ms resolution; hence this generator.
// Latencies are recorded per response as floating-point milliseconds.
import autocannon from 'autocannon'
import { Pool } from 'undici'
import { cpuSeconds, machineBusySeconds } from './procfs.ts'

export interface RequestSpec {
  method: string
  path: string
  headers: Record<string, string>
  body?: string
}

export interface ClosedJob {
  kind: 'closed'
  url: string
  connections: number
  warmupS: number
  durationS: number
  requests: RequestSpec[]
  /** Processes whose CPU time is read at the start and end of the measured run. */
  pids: number[]
}

export interface PacedJob {
  kind: 'paced'
  url: string
  rate: number
  connections: number
  warmupS: number
  durationS: number
  requests: RequestSpec[]
  pids: number[]
}

export type Job = ClosedJob | PacedJob

export interface LoadResult {
  kind: 'closed' | 'paced'
  durationS: number
  /** Answers received in the measured window. */
  responses: number
  ok: number
  non2xx: number
  errors: number
  rps: number
  latencyMs: { p50: number, p90: number, p99: number, p999: number, max: number, mean: number }
  /** CPU seconds each of `pids` used during the measured window. */
  cpuS: Record<string, number>
  /** CPU seconds this load generator used during the measured window. */
  loadCpuS: number
  /** The measured window on the monotonic clock, in µs (the clock of V8's CPU profiles). */
  windowUs: [number, number]
  /** CPU seconds the whole machine was busy during the measured window (all processes). */
  machineBusyS: number
}

function percentiles (values: Float64Array): LoadResult['latencyMs'] {
  const sorted = values.slice().sort()
  const at = (q: number): number => sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] as number
  let sum = 0
  for (const value of sorted) sum += value
  return { p50: at(0.5), p90: at(0.9), p99: at(0.99), p999: at(0.999), max: at(1), mean: sorted.length === 0 ? 0 : sum / sorted.length }
}

class Recorder {
  values = new Float64Array(1 << 16)
  count = 0
  ok = 0
  non2xx = 0
  errors = 0
  record (ms: number, status: number): void {
    if (this.count === this.values.length) {
      const bigger = new Float64Array(this.values.length * 2)
      bigger.set(this.values)
      this.values = bigger
    }
    this.values[this.count++] = ms
    if (status >= 200 && status < 300) this.ok += 1
    else this.non2xx += 1
  }
}

function cpuOf (pids: number[]): Record<string, number> {
  const result: Record<string, number> = {}
  for (const pid of pids) result[pid] = cpuSeconds(pid)
  return result
}

function cpuDelta (before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  const result: Record<string, number> = {}
  for (const pid of Object.keys(before)) result[pid] = (after[pid] ?? 0) - (before[pid] ?? 0)
  return result
}

const monotonicUs = (): number => Number(process.hrtime.bigint() / 1000n)

function summary (kind: LoadResult['kind'], recorder: Recorder, durationS: number, cpuS: Record<string, number>, loadCpuS: number, windowUs: [number, number], machineBusyS: number): LoadResult {
  const values = recorder.values.subarray(0, recorder.count)
  return {
    kind,
    durationS,
    responses: recorder.count,
    ok: recorder.ok,
    non2xx: recorder.non2xx,
    errors: recorder.errors,
    rps: recorder.count / durationS,
    latencyMs: percentiles(values),
    cpuS,
    loadCpuS,
    windowUs,
    machineBusyS
  }
}

async function closed (job: ClosedJob): Promise<LoadResult> {
  const options = { url: job.url, connections: job.connections, pipelining: 1, timeout: 30, requests: job.requests }
  if (job.warmupS > 0) await autocannon({ ...options, duration: job.warmupS })
  const recorder = new Recorder()
  const cpuBefore = cpuOf(job.pids)
  const busyBefore = machineBusySeconds()
  const selfBefore = process.cpuUsage()
  const started = performance.now()
  const from = monotonicUs()
  const instance = autocannon({ ...options, duration: job.durationS }) as unknown as Promise<unknown> & NodeJS.EventEmitter
  instance.on('response', (_client: unknown, statusCode: number, _bytes: number, responseTime: number) => { recorder.record(responseTime, statusCode) })
  instance.on('reqError', () => { recorder.errors += 1 })
  await instance
  const to = monotonicUs()
  const elapsedS = (performance.now() - started) / 1000
  const self = process.cpuUsage(selfBefore)
  return summary('closed', recorder, elapsedS, cpuDelta(cpuBefore, cpuOf(job.pids)), (self.user + self.system) / 1e6, [from, to], machineBusySeconds() - busyBefore)
}

async function paced (job: PacedJob): Promise<LoadResult> {
  const pool = new Pool(job.url, { connections: job.connections, pipelining: 1, keepAliveTimeout: 60_000 })
  const requests = job.requests
  const run = async (durationS: number, recorder: Recorder | undefined): Promise<number> => {
    const total = Math.round(job.rate * durationS)
    const interval = 1000 / job.rate
    let sent = 0
    let settled = 0
    const started = performance.now()
    await new Promise<void>((resolve) => {
      const fire = (index: number): void => {
        const spec = requests[index % requests.length] as RequestSpec
        const t0 = performance.now()
        pool.request({ method: spec.method as 'DELETE', path: spec.path, headers: spec.headers, body: spec.body ?? null })
          .then(async (answer) => {
            await answer.body.text()
            recorder?.record(performance.now() - t0, answer.statusCode)
          }, () => { if (recorder !== undefined) recorder.errors += 1 })
          .finally(() => {
            settled += 1
            if (settled === total) resolve()
          })
      }
      const tick = (): void => {
        const due = Math.min(total, Math.floor((performance.now() - started) / interval) + 1)
        while (sent < due) fire(sent++)
        if (sent < total) setTimeout(tick, 1)
      }
      tick()
    })
    return (performance.now() - started) / 1000
  }
  try {
    if (job.warmupS > 0) await run(job.warmupS, undefined)
    const recorder = new Recorder()
    const cpuBefore = cpuOf(job.pids)
    const busyBefore = machineBusySeconds()
    const selfBefore = process.cpuUsage()
    const from = monotonicUs()
    const elapsedS = await run(job.durationS, recorder)
    const to = monotonicUs()
    const self = process.cpuUsage(selfBefore)
    return summary('paced', recorder, elapsedS, cpuDelta(cpuBefore, cpuOf(job.pids)), (self.user + self.system) / 1e6, [from, to], machineBusySeconds() - busyBefore)
  } finally {
    await pool.close()
  }
}

process.on('message', (message: { id: number, job: Job }) => {
  const work = message.job.kind === 'closed' ? closed(message.job) : paced(message.job)
  work.then(
    (result) => { process.send?.({ id: message.id, result }) },
    (error: unknown) => { process.send?.({ id: message.id, error: String((error as Error)?.stack ?? error) }) }
  )
})
process.on('disconnect', () => { process.exit(0) })
process.send?.({ ready: 0 })
