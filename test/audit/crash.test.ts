// Crash and shutdown with real processes. `kill -9` under load: every request that reached Authing has its
// attempt record, and the trail verifies; the next start continues the chain (noting a torn tail if one
// was left). SIGTERM: in-flight calls are answered, the process exits 0, the trail ends with `stop`.
import { appendFileSync, existsSync, statSync } from 'node:fs'
import t from 'tap'
import { verifyChain } from '../../src/audit/chain.ts'
import { startSandbox } from '../../src/sandbox/emulator.ts'
import { tempDir, ZHANGSAN } from '../helpers/app.ts'
import { allRecords, trailFiles } from '../helpers/audit-files.ts'
import { randomUserId, SANDBOX_ACCESS_KEY_ID, SANDBOX_ACCESS_KEY_SECRET, serviceSetup, settle, startLoad, startSandboxProcess, startService, until } from '../helpers/audit-processes.ts'

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

t.test('kill -9 under load: every request that reached Authing has its attempt record, and the trail verifies', async (t) => {
  const sandbox = await startSandboxProcess()
  t.teardown(() => { sandbox.process.kill('SIGKILL') })
  // Small files, so that the crash can land around a rotation too.
  const setup = serviceSetup(tempDir('srp-crash-'), sandbox.url, { AUDIT_ROTATE_BYTES: '16384' })
  const service = await startService(setup)
  t.teardown(() => { service.process.kill('SIGKILL') })

  const load = startLoad(service.url, setup.callerKey, 16)
  await sleep(1200)
  t.ok(load.statuses.length > 0, `answers before the crash: ${load.statuses.length}`)
  service.process.kill('SIGKILL')
  t.equal((await service.exited).signal, 'SIGKILL')
  await load.stop()
  await settle(() => sandbox.deletes.length)

  t.ok(load.failures > 0, `requests were in flight at the kill (${load.failures} failed at or after it)`)
  t.ok(sandbox.deletes.length > 0, `Authing received ${sandbox.deletes.length} calls`)
  const records = await allRecords(setup.auditPath)
  const attempted = new Set(records.filter((record) => record.type === 'attempt').map((record) => record.userId))
  const withoutAttempt = sandbox.deletes.filter((body) => !attempted.has(body.userId))
  t.same(withoutAttempt, [], 'every call Authing received has an attempt record with its user id')

  const files = await trailFiles(setup.auditPath)
  const afterCrash = await verifyChain(files)
  t.equal(afterCrash.ok, true, 'the chain holds after the crash')
  t.equal(afterCrash.break, undefined)
  t.ok(afterCrash.fromGenesis)
  t.ok(files.length > 1, `the trail rotated (${files.length} files)`)

  // kill -9 cannot tear a write() that has started, but a power loss can leave part of a batch: add one.
  const torn = '{"seq":' + String((afterCrash.lastSeq ?? 0) + 1) + ',"prev":"0a1b2c'
  const canTear = existsSync(setup.auditPath) && statSync(setup.auditPath).size > 0
  if (canTear) appendFileSync(setup.auditPath, torn)

  const restarted = await startService(setup)
  t.teardown(() => { restarted.process.kill('SIGKILL') })
  const response = await fetch(`${restarted.url}/users/${randomUserId()}/sync-relations/lark`, { method: 'DELETE', headers: { authorization: `Bearer ${setup.callerKey}` } })
  t.equal(response.status, 404, 'the restarted service answers (USER_NOT_FOUND for a random id)')
  const requestId = response.headers.get('x-request-id')
  restarted.process.kill('SIGTERM')
  t.same(await restarted.exited, { code: 0, signal: null }, 'SIGTERM: a clean exit')

  const final = await verifyChain(await trailFiles(setup.auditPath))
  t.match(final, { ok: true, fromGenesis: true }, 'the whole chain, before and after the crash, verifies')
  t.equal(final.tornTail, undefined, 'no torn tail is left')
  const after = (await allRecords(setup.auditPath)).filter((record) => (record.seq as number) > (afterCrash.lastSeq ?? 0))
  const recovery = after.find((record) => record.type === 'recovery')
  if (afterCrash.tornTail !== undefined || canTear) {
    t.ok(recovery, 'the torn tail is noted in a recovery record')
    t.equal(recovery?.seq, (afterCrash.lastSeq ?? 0) + 1, 'the recovery record continues the chain')
  }
  if (canTear) t.equal(recovery?.tornTailBytes, torn.length + (afterCrash.tornTail?.bytes ?? 0))
  t.match(after.map((record) => record.type === 'lifecycle' ? `lifecycle:${String(record.event)}` : record.type), [
    ...(recovery !== undefined ? ['recovery'] : []), 'lifecycle:start', 'attempt', 'outcome', 'lifecycle:stop'
  ])
  t.match(after.filter((record) => record.requestId === requestId), [{ type: 'attempt' }, { type: 'outcome', outcome: 'authing_error', code: 'USER_NOT_FOUND' }])
})

interface DrainResult {
  exit: { code: number | null, signal: NodeJS.Signals | null }
  exitMs: number
  statuses: number[]
  records: Array<Record<string, unknown>>
  requestIds: Array<string | null>
  verified: Awaited<ReturnType<typeof verifyChain>>
}

/** Sends `inFlight` calls that Authing holds for 500 ms, sends SIGTERM while they wait, and collects what happened. */
async function drainUnderSigterm (t: { teardown: (fn: () => unknown) => void }, shutdownTimeoutMs: number, headers: Record<string, string>): Promise<DrainResult> {
  const sandbox = await startSandbox({ accessKeyId: SANDBOX_ACCESS_KEY_ID, accessKeySecret: SANDBOX_ACCESS_KEY_SECRET })
  t.teardown(() => sandbox.close())
  const setup = serviceSetup(tempDir('srp-sigterm-'), sandbox.url, { SHUTDOWN_TIMEOUT_MS: String(shutdownTimeoutMs) })
  const service = await startService(setup)
  t.teardown(() => { service.process.kill('SIGKILL') })

  const inFlight = 6
  sandbox.injectFault({ mode: 'latency', delayMs: 500, times: inFlight })
  const userIds = [ZHANGSAN, ...Array.from({ length: inFlight - 1 }, () => randomUserId())]
  const answers = userIds.map(async (userId) => {
    const response = await fetch(`${service.url}/users/${userId}/sync-relations/lark`, { method: 'DELETE', headers: { authorization: `Bearer ${setup.callerKey}`, ...headers } })
    await response.arrayBuffer()
    return { status: response.status, requestId: response.headers.get('x-request-id') }
  })
  await until('every call to be at Authing', () => sandbox.received.length === inFlight)

  const signalledAt = Date.now()
  service.process.kill('SIGTERM')
  const results = await Promise.all(answers)
  const exit = await service.exited
  const exitMs = Date.now() - signalledAt
  return {
    exit,
    exitMs,
    statuses: results.map((result) => result.status),
    requestIds: results.map((result) => result.requestId),
    records: await allRecords(setup.auditPath),
    verified: await verifyChain(await trailFiles(setup.auditPath))
  }
}

const DRAINED_STATUSES = [200, 404, 404, 404, 404, 404] // ZHANGSAN's Lark relation, then random ids: USER_NOT_FOUND

t.test('SIGTERM drains in-flight calls, exits 0 and ends the trail with a stop record', async (t) => {
  const shutdownTimeoutMs = 5000
  const result = await drainUnderSigterm(t, shutdownTimeoutMs, { connection: 'close' })
  t.same(result.statuses, DRAINED_STATUSES, 'every in-flight call got its answer')
  t.same(result.exit, { code: 0, signal: null }, 'exit 0')
  t.ok(result.exitMs < shutdownTimeoutMs, 'within SHUTDOWN_TIMEOUT_MS')
  t.match(result.records.at(-1), { type: 'lifecycle', event: 'stop' }, 'the trail ends with the stop record')
  for (const requestId of result.requestIds) {
    t.same(result.records.filter((record) => record.requestId === requestId).map((record) => record.type), ['attempt', 'outcome'], `${requestId}: attempt and outcome`)
  }
  t.match(result.verified, { ok: true })
  t.equal(result.verified.tornTail, undefined)
})

t.test('SIGTERM with keep-alive clients (as fetch and load balancers keep them) also exits 0 once in-flight calls are answered', async (t) => {
  const shutdownTimeoutMs = 2000
  const result = await drainUnderSigterm(t, shutdownTimeoutMs, {})
  t.same(result.statuses, DRAINED_STATUSES, 'every in-flight call got its answer')
  for (const requestId of result.requestIds) {
    t.same(result.records.filter((record) => record.requestId === requestId).map((record) => record.type), ['attempt', 'outcome'], `${requestId}: attempt and outcome`)
  }
  t.match(result.verified, { ok: true })
  t.same(result.exit, { code: 0, signal: null }, 'exit 0')
  t.ok(result.exitMs < shutdownTimeoutMs, 'within SHUTDOWN_TIMEOUT_MS')
  t.match(result.records.at(-1), { type: 'lifecycle', event: 'stop' }, 'the trail ends with the stop record')
})
