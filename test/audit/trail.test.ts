// The trail writer: group commit, durability before resolve, rotation by size and by day with the chain
// continuing, recovery after a crash (torn tail, missing current file), and failed writes that leave the
// chain on disk whole.
import { appendFileSync, existsSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { GENESIS_HASH, hashLine, verifyChain } from '../../src/audit/chain.ts'
import { AuditTrail, AuditWriteError, type AuditTrailOptions } from '../../src/audit/trail.ts'
import { tempDir } from '../helpers/app.ts'
import { ControlledSink, errnoError, fileLines, records, trailFiles } from '../helpers/audit-files.ts'

const LARGE = 1024 * 1024 * 1024

async function openTrail (t: { teardown: (fn: () => unknown) => void }, options: Partial<AuditTrailOptions> & { path: string }): Promise<Awaited<ReturnType<typeof AuditTrail.open>>> {
  const opened = await AuditTrail.open({ rotateBytes: LARGE, rotateDaily: false, ...options })
  t.teardown(() => opened.trail.close())
  return opened
}

/** A clock the test moves by hand. */
function manualClock (start: string): { now: () => Date, set: (iso: string) => void } {
  let current = new Date(start)
  return { now: () => current, set: (iso) => { current = new Date(iso) } }
}

const record = (n: number, time = '2025-03-01T10:00:00.000Z'): Record<string, unknown> => ({ v: 1, type: 'request', time, n })

t.test('a new trail starts at the genesis record', async (t) => {
  const path = join(tempDir(), 'nested', 'audit.log')
  const { trail, report } = await openTrail(t, { path })
  t.same(report, { head: { seq: 0, prev: GENESIS_HASH } })
  await trail.append(record(1))
  t.match(records(path), [{ seq: 1, prev: GENESIS_HASH, type: 'request', n: 1 }])
  t.equal(trail.head.seq, 1)
  t.equal(trail.head.prev, hashLine(fileLines(path)[0] as string))
})

t.test('group commit: concurrent appends share syncs, and each resolves only after its batch is synced', async (t) => {
  const path = join(tempDir(), 'audit.log')
  const sink = new ControlledSink()
  const batches: number[] = []
  const { trail } = await openTrail(t, { path, openFile: sink.openFile, onBatch: (count) => { batches.push(count) } })

  sink.holdSyncs = true
  const started = sink.syncStarted()
  const resolved: boolean[] = []
  const appends = Array.from({ length: 200 }, (_, index) => {
    resolved[index] = false
    return trail.append(record(index + 1)).then(() => { resolved[index] = true })
  })
  await started
  await new Promise((resolve) => setTimeout(resolve, 20))
  t.equal(resolved.filter(Boolean).length, 0, 'no append has resolved while its sync is pending')
  t.ok(fileLines(path).length >= 1, 'the first batch is written (not yet synced)')
  t.ok(trail.pending > 0 && trail.pending < 200, `appends arriving during the sync wait for the next batch (${trail.pending} queued)`)

  sink.releaseSyncs()
  await Promise.all(appends)
  t.equal(batches.reduce((sum, count) => sum + count, 0), 200, 'every record was written')
  t.ok(batches.length < 200, `fewer batches (${batches.length}) than records`)
  t.equal(sink.syncs, batches.length, 'one sync per batch')
  t.match(await verifyChain([path]), { ok: true, records: 200 })
  t.same(records(path).map((each) => each.n), Array.from({ length: 200 }, (_, index) => index + 1), 'records keep the order of the appends')
})

t.test('rotation by size: the chain continues across files and verifies over all of them', async (t) => {
  const path = join(tempDir(), 'audit.log')
  const { trail } = await openTrail(t, { path, rotateBytes: 400 })
  for (let n = 1; n <= 20; n += 1) await trail.append(record(n))
  const files = await trailFiles(path)
  t.ok(files.length > 3, `rotated into ${files.length} files`)
  for (const file of files.slice(0, -1)) {
    t.match(file, /audit\.log\.2\d{3}-\d{2}-\d{2}\.\d{12}$/)
    t.ok(statSync(file).size <= 400, `${file} stays within rotateBytes`)
    const firstSeq = records(file)[0]?.seq
    t.ok(file.endsWith(`.${String(firstSeq).padStart(12, '0')}`), 'a rotated file is named by its first seq')
  }
  t.match(await verifyChain(files), { ok: true, records: 20, firstSeq: 1, lastSeq: 20, fromGenesis: true })
})

t.test('rotation by day: a new UTC day starts a new file named by the old day, and the chain continues', async (t) => {
  const path = join(tempDir(), 'audit.log')
  const clock = manualClock('2025-03-01T23:59:58.000Z')
  const { trail } = await openTrail(t, { path, rotateDaily: true, now: clock.now })
  await trail.append(record(1, '2025-03-01T23:59:58.000Z'))
  await trail.append(record(2, '2025-03-01T23:59:59.000Z'))
  clock.set('2025-03-02T00:00:01.000Z')
  await trail.append(record(3, '2025-03-02T00:00:01.000Z'))
  const rotated = join(path + '.2025-03-01.000000000001')
  t.ok(existsSync(rotated), 'the first day\'s file is audit.log.2025-03-01.000000000001')
  t.same(records(rotated).map((each) => each.n), [1, 2])
  t.same(records(path).map((each) => each.n), [3])
  t.match(await verifyChain(await trailFiles(path)), { ok: true, records: 3 })
})

t.test('after a restart, the day and first seq of the current file come from its first record', async (t) => {
  const path = join(tempDir(), 'audit.log')
  const clock = manualClock('2025-03-01T12:00:00.000Z')
  const first = await AuditTrail.open({ path, rotateBytes: LARGE, rotateDaily: true, now: clock.now })
  for (let n = 1; n <= 3; n += 1) await first.trail.append(record(n, '2025-03-01T12:00:00.000Z'))
  await first.trail.close()

  clock.set('2025-03-02T08:00:00.000Z')
  const { trail, report } = await openTrail(t, { path, rotateDaily: true, now: clock.now })
  t.equal(report.head.seq, 3)
  await trail.append(record(4, '2025-03-02T08:00:00.000Z'))
  t.same(records(`${path}.2025-03-01.000000000001`).map((each) => each.n), [1, 2, 3], 'the old file is rotated under its own day and first seq')
  t.same(records(path).map((each) => each.seq), [4])
  t.match(await verifyChain(await trailFiles(path)), { ok: true, records: 4 })
})

t.test('reopening after a crash trims a torn tail and chains new records from the last complete one', async (t) => {
  const path = join(tempDir(), 'audit.log')
  const first = await AuditTrail.open({ path, rotateBytes: LARGE, rotateDaily: false })
  for (let n = 1; n <= 3; n += 1) await first.trail.append(record(n))
  await first.trail.close()
  const complete = readFileSync(path)
  const torn = '{"seq":4,"prev":"0123456789abcdef'
  appendFileSync(path, torn)
  t.match(await verifyChain([path]), { ok: true, tornTail: { line: 4, bytes: torn.length } }, 'before recovery: a torn tail')

  const { trail, report } = await openTrail(t, { path })
  t.same(report.tornTail, { bytes: torn.length, sha256: hashLine(Buffer.from(torn)) })
  t.equal(report.head.seq, 3)
  t.same(readFileSync(path), complete, 'the file is cut back to its last complete record')
  await trail.append(record(4))
  const report2 = await verifyChain([path])
  t.match(report2, { ok: true, records: 4, lastSeq: 4 })
  t.equal(report2.tornTail, undefined)
})

t.test('reopening when the current file is missing continues from the latest rotated file', async (t) => {
  const dir = tempDir()
  const path = join(dir, 'audit.log')
  const first = await AuditTrail.open({ path, rotateBytes: 400, rotateDaily: false })
  for (let n = 1; n <= 12; n += 1) await first.trail.append(record(n))
  await first.trail.close()
  // The current file is lost (say, moved aside by an operator): the chain continues from the rotated files.
  renameSync(path, join(dir, 'moved-aside.log'))
  const lastRotated = (await trailFiles(path)).at(-1) as string
  const lastSeq = records(lastRotated).at(-1)?.seq as number

  const { trail, report } = await openTrail(t, { path, rotateBytes: 400 })
  t.equal(report.head.seq, lastSeq)
  t.equal(report.head.at, lastRotated)
  await trail.append(record(99))
  t.same(records(path).map((each) => each.seq), [lastSeq + 1])
  t.match(await verifyChain(await trailFiles(path)), { ok: true, records: lastSeq + 1 }, 'the rotated files and the new current file form one chain')
})

t.test('reopening when the current file is empty continues from the latest rotated file', async (t) => {
  const path = join(tempDir(), 'audit.log')
  const first = await AuditTrail.open({ path, rotateBytes: 400, rotateDaily: false })
  for (let n = 1; n <= 12; n += 1) await first.trail.append(record(n))
  await first.trail.close()
  writeFileSync(path, '')
  const { trail } = await openTrail(t, { path, rotateBytes: 400 })
  await trail.append(record(99))
  await trail.append(record(100))
  t.match(await verifyChain(await trailFiles(path)), { ok: true, fromGenesis: true })
})

t.test('reopening after a crash that tore the first record of a freshly rotated file continues the chain', async (t) => {
  // A crash right after rotation: the new current file holds only part of its first record.
  const dir = tempDir()
  const path = join(dir, 'audit.log')
  const first = await AuditTrail.open({ path, rotateBytes: 400, rotateDaily: false })
  for (let n = 1; n <= 12; n += 1) await first.trail.append(record(n))
  await first.trail.close()
  // Rotate the current file as the trail does, then leave a torn first record in the new one.
  const firstOfCurrent = records(path)[0]?.seq as number
  renameSync(path, `${path}.2025-03-01.${String(firstOfCurrent).padStart(12, '0')}`)
  const lastRotatedSeq = records(`${path}.2025-03-01.${String(firstOfCurrent).padStart(12, '0')}`).at(-1)?.seq as number
  writeFileSync(path, '{"seq":')
  const rotatedBefore = readdirSync(dir).filter((name) => name !== 'audit.log').sort()
  const contentsBefore = rotatedBefore.map((name) => readFileSync(join(dir, name), 'utf8'))

  const { trail, report } = await openTrail(t, { path, rotateBytes: 400 })
  t.equal(report.tornTail?.bytes, 7)
  t.equal(report.head.seq, lastRotatedSeq, 'the head comes from the latest rotated file')
  for (let n = 1; n <= 12; n += 1) await trail.append(record(100 + n))
  t.same(rotatedBefore.map((name) => readFileSync(join(dir, name), 'utf8')), contentsBefore, 'rotated files are never overwritten')
  t.match(await verifyChain(await trailFiles(path)), { ok: true }, 'the whole trail verifies')
})

t.test('a failed write rejects with AuditWriteError, marks the trail unhealthy, and leaves the chain whole for later writes', async (t) => {
  const path = join(tempDir(), 'audit.log')
  const sink = new ControlledSink()
  const errors: unknown[] = []
  const { trail } = await openTrail(t, { path, openFile: sink.openFile, onError: (error) => { errors.push(error) } })
  await trail.append(record(1))
  const sizeBefore = statSync(path).size

  sink.failAppend = () => errnoError('ENOSPC')
  const failed = trail.append(record(2))
  await t.rejects(failed, AuditWriteError)
  await failed.catch((error: Error) => { t.equal((error.cause as NodeJS.ErrnoException).code, 'ENOSPC', 'the cause is kept') })
  t.equal(trail.healthy, false)
  t.equal(trail.failures, 1)
  t.equal(errors.length, 1, 'onError is told')
  t.equal(statSync(path).size, sizeBefore, 'the half-written batch was cut off')
  t.equal(trail.head.seq, 1, 'the failed record did not take a seq')

  sink.failAppend = () => undefined
  await trail.append(record(3))
  t.equal(trail.healthy, true, 'a successful write makes the trail healthy again')
  t.match(records(path), [{ seq: 1, n: 1 }, { seq: 2, n: 3 }])
  t.match(await verifyChain([path]), { ok: true, records: 2 })
})

t.test('a failed sync rejects the whole batch and cuts it off the file', async (t) => {
  const path = join(tempDir(), 'audit.log')
  const sink = new ControlledSink()
  const { trail } = await openTrail(t, { path, openFile: sink.openFile })
  await trail.append(record(1))
  sink.failSync = errnoError('EIO')
  const results = await Promise.allSettled([trail.append(record(2)), trail.append(record(3)), trail.append(record(4))])
  t.ok(results.every((result) => result.status === 'rejected' && result.reason instanceof AuditWriteError), 'no append claims a record that is not on disk')
  t.equal(fileLines(path).length, 1)
  sink.failSync = undefined
  await trail.append(record(5))
  t.match(await verifyChain([path]), { ok: true, records: 2 })
})

t.test('a trail that cannot be opened fails to open', async (t) => {
  const path = join(tempDir(), 'audit.log')
  await t.rejects(AuditTrail.open({ path, rotateBytes: LARGE, rotateDaily: false, openFile: async () => { throw errnoError('EACCES') } }), { code: 'EACCES' })
})

t.test('a trail whose last complete line is not a record refuses to open rather than fork the chain', async (t) => {
  const path = join(tempDir(), 'audit.log')
  writeFileSync(path, 'this is not an audit record\n')
  await t.rejects(AuditTrail.open({ path, rotateBytes: LARGE, rotateDaily: false }), /not an audit record/)
})

t.test('close writes what is queued; appends after close are refused', async (t) => {
  const path = join(tempDir(), 'audit.log')
  const { trail } = await AuditTrail.open({ path, rotateBytes: LARGE, rotateDaily: false })
  const pending = [trail.append(record(1)), trail.append(record(2))]
  await trail.close()
  await Promise.all(pending)
  t.equal(fileLines(path).length, 2)
  await t.rejects(trail.append(record(3)), AuditWriteError)
})
