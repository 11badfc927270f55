// `npm run bench:smoke` in CI: the benchmark still runs end to end and reports figures for (a) the stub,
// (b) the bare forwarder and (c) the service. Deliberately no assertion on any number: thresholds belong
// to `npm run bench` on a quiet machine (docs/performance.md), never to tests.
import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import t from 'tap'

const run = promisify(execFile)
const ROOT = join(import.meta.dirname, '..', '..')

t.test('the bench runs in smoke mode and reports (a), (b) and (c)', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'srp-bench-smoke-'))
  t.teardown(() => { rmSync(dir, { recursive: true, force: true }) })
  const json = join(dir, 'figures.json')
  const { stdout } = await run(process.execPath, ['bench/run.ts', '--smoke', '--json', json], { cwd: ROOT, timeout: 100_000, maxBuffer: 16 * 1024 * 1024 })

  for (const label of ['(a) upstream stub, direct', '(b) bare forwarder', '(c) service']) {
    t.match(stdout, label, `prints a row for ${label}`)
  }
  t.match(stdout, /Targets \(smoke run/, 'says the targets are not judged in a smoke run')
  t.match(stdout, /parts run: /, 'says which parts ran')

  const report = JSON.parse(readFileSync(json, 'utf8')) as {
    smoke: boolean
    scenarios: Record<string, { throughput: Record<string, unknown>, fixedRate?: Record<string, unknown>, peakRssMb: unknown }>
    targets: Array<{ status: string }>
  }
  t.equal(report.smoke, true)
  for (const key of ['a', 'b', 'c']) {
    const scenario = report.scenarios[key]
    t.ok(scenario, `figures for (${key})`)
    if (scenario === undefined) continue
    for (const figure of ['rps', 'cpuUsPerRequest']) t.type(scenario.throughput[figure], 'number', `(${key}) ${figure}`)
    t.type((scenario.throughput.latencyMs as Record<string, unknown>).p99, 'number', `(${key}) p99`)
    t.type(scenario.fixedRate?.rps, 'number', `(${key}) fixed-rate figures`)
    t.type(scenario.peakRssMb, 'number', `(${key}) peak RSS`)
  }
  t.notOk(report.targets.some((target) => target.status === 'met' || target.status === 'not met'), 'no target is judged in a smoke run')
})
