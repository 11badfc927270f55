// Reads a V8 CPU profile (node --cpu-prof) of the service and says where its main thread's time went:
// self time per function, and per stage of a request, each sample attributed to the nearest frame on its
// stack that belongs to a known stage (so JSON.stringify called by the audit code counts as audit).
// Usable alone: node bench/profile.ts <dir-or-file.cpuprofile> [requests] [windowStartUs windowEndUs]
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'

interface CallFrame { functionName: string, url: string, lineNumber: number }
interface ProfileNode { id: number, callFrame: CallFrame, children?: number[] }
interface CpuProfile { nodes: ProfileNode[], startTime: number, endTime: number, samples: number[], timeDeltas: number[] }

export interface ProfileSummary {
  /** Main-thread time sampled in the window, in ms, and the requests answered in it. */
  sampledMs: number
  requests: number
  stages: Array<{ stage: string, ms: number, percent: number, usPerRequest: number }>
  functions: Array<{ name: string, where: string, ms: number, percent: number }>
}

/** Stages, most specific first. A frame belongs to the first whose test matches its URL or name. */
const STAGES: Array<[string, (frame: CallFrame) => boolean]> = [
  ['idle', (f) => f.functionName === '(idle)'],
  ['garbage collection', (f) => f.functionName === '(garbage collector)'],
  ['caller check (src/callers)', (f) => f.url.includes('/src/callers/')],
  ['rate limit (@fastify/rate-limit)', (f) => f.url.includes('/@fastify/rate-limit/') || f.url.includes('/toad-cache/')],
  ['audit records + hash chain + write/fsync (src/audit)', (f) => f.url.includes('/src/audit/')],
  ['signing (src/authing/signature)', (f) => f.url.includes('/src/authing/signature')],
  ['ky', (f) => f.url.includes('/node_modules/ky/')],
  ['fetch adapter (src/authing/transport)', (f) => f.url.includes('/src/authing/transport')],
  ['undici request (the HTTP client to Authing)', (f) => f.url.includes('/node_modules/undici/')],
  ["WHATWG Request/Headers/AbortSignal/streams (Node's fetch classes, used by ky)", (f) => f.url.includes('internal/deps/undici') || f.url.includes('internal/webstreams') || f.url.includes('internal/abort_controller')],
  ['client loop, queue, breaker, mapping (src/authing, src/resilience)', (f) => f.url.includes('/src/authing/') || f.url.includes('/src/resilience/')],
  ['route handler, id checks (src/routes, src/schemas)', (f) => f.url.includes('/src/routes/') || f.url.includes('/src/schemas/')],
  ['metrics (prom-client, src/plugins/metrics)', (f) => f.url.includes('/prom-client/') || f.url.includes('/src/plugins/metrics')],
  ['logging (pino)', (f) => f.url.includes('/pino') || f.url.includes('/sonic-boom/') || f.url.includes('/fast-redact/') || f.url.includes('/quick-format-unescaped/')],
  ['security headers (helmet, cors)', (f) => f.url.includes('/helmet/') || f.url.includes('/@fastify/helmet/') || f.url.includes('/@fastify/cors/') || f.url.includes('/src/plugins/security')],
  ['other plugins (request id, errors, health)', (f) => f.url.includes('/src/plugins/') || f.url.includes('/src/app.ts') || f.url.includes('/src/errors.ts')],
  ['Fastify (routing, hooks, validation, serialization)', (f) => /\/node_modules\/(fastify|find-my-way|fast-json-stringify|ajv|ajv-formats|avvio|fast-querystring|fast-decode-uri-component|fast-uri|@fastify\/(ajv-compiler|fast-json-stringify-compiler|error|proxy-addr|forwarded|merge-json-schemas))\//.test(f.url)],
  ['Node HTTP server (parsing, writing)', (f) => /^node:(_http_|http$)/.test(f.url)],
  ['compiled code, natives (program)', (f) => f.functionName === '(program)']
]
const UNATTRIBUTED = 'Node internals not under a stage (sockets, streams, timers, promise ticks)'

function stageOf (frame: CallFrame): string | undefined {
  for (const [name, test] of STAGES) if (test(frame)) return name
  return undefined
}

function shortUrl (url: string): string {
  const at = url.lastIndexOf('/node_modules/')
  if (at !== -1) return url.slice(at + '/node_modules/'.length)
  const src = url.indexOf('/src/')
  if (src !== -1) return url.slice(src + 1)
  return url.replace(/^file:\/\//, '')
}

export async function summarizeProfile (dirOrFile: string, requests: number, window?: [number, number]): Promise<ProfileSummary> {
  let file = dirOrFile
  if (statSync(dirOrFile).isDirectory()) {
    const candidates = readdirSync(dirOrFile).filter((name) => name.endsWith('.cpuprofile')).map((name) => join(dirOrFile, name))
    candidates.sort((x, y) => statSync(y).size - statSync(x).size)
    if (candidates[0] === undefined) throw new Error(`no .cpuprofile in ${dirOrFile}`)
    file = candidates[0]
  }
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile
  const byId = new Map<number, ProfileNode>()
  const parent = new Map<number, number>()
  for (const node of profile.nodes) {
    byId.set(node.id, node)
    for (const child of node.children ?? []) parent.set(child, node.id)
  }
  const stageCache = new Map<number, string>()
  const stageFor = (id: number): string => {
    const cached = stageCache.get(id)
    if (cached !== undefined) return cached
    const node = byId.get(id) as ProfileNode
    const own = stageOf(node.callFrame)
    const up = parent.get(id)
    const stage = own ?? (up === undefined ? UNATTRIBUTED : stageFor(up))
    stageCache.set(id, stage)
    return stage
  }

  const selfUs = new Map<number, number>()
  let at = profile.startTime
  for (let i = 0; i < profile.samples.length; i++) {
    at += profile.timeDeltas[i] ?? 0
    // Each sample stands for the time until the next one.
    const span = profile.timeDeltas[i + 1] ?? 0
    if (window !== undefined && (at < window[0] || at > window[1])) continue
    const id = profile.samples[i] as number
    selfUs.set(id, (selfUs.get(id) ?? 0) + span)
  }

  const stageUs = new Map<string, number>()
  const functionUs = new Map<string, { name: string, where: string, us: number }>()
  let totalUs = 0
  for (const [id, us] of selfUs) {
    const stage = stageFor(id)
    if (stage === 'idle') continue
    totalUs += us
    stageUs.set(stage, (stageUs.get(stage) ?? 0) + us)
    const frame = (byId.get(id) as ProfileNode).callFrame
    const where = frame.url === '' ? '(native)' : `${shortUrl(frame.url)}:${frame.lineNumber + 1}`
    const key = `${frame.functionName}@${where}`
    const entry = functionUs.get(key) ?? { name: frame.functionName || '(anonymous)', where, us: 0 }
    entry.us += us
    functionUs.set(key, entry)
  }
  const percent = (us: number): number => totalUs === 0 ? 0 : us / totalUs * 100
  return {
    sampledMs: totalUs / 1000,
    requests,
    stages: [...stageUs].sort((x, y) => y[1] - x[1]).map(([stage, us]) => ({ stage, ms: us / 1000, percent: percent(us), usPerRequest: requests === 0 ? 0 : us / requests })),
    functions: [...functionUs.values()].sort((x, y) => y.us - x.us).slice(0, 40).map((f) => ({ name: f.name, where: f.where, ms: f.us / 1000, percent: percent(f.us) }))
  }
}

if (import.meta.main) {
  const [target, requests, from, to] = process.argv.slice(2)
  if (target === undefined) {
    process.stderr.write('usage: node bench/profile.ts <dir-or-file.cpuprofile> [requests] [windowStartUs windowEndUs]\n')
    process.exit(1)
  }
  const summary = await summarizeProfile(target, Number(requests ?? 0), from !== undefined && to !== undefined ? [Number(from), Number(to)] : undefined)
  for (const stage of summary.stages) process.stdout.write(`${stage.stage.padEnd(72)}${stage.usPerRequest.toFixed(1).padStart(8)} µs/req ${stage.percent.toFixed(1).padStart(6)}%\n`)
  process.stdout.write('\n')
  for (const fn of summary.functions.slice(0, 30)) process.stdout.write(`${fn.percent.toFixed(1).padStart(6)}%  ${fn.name}  ${fn.where}\n`)
}
