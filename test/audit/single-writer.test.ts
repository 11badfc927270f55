// One trail, one writer: a second process on the same file would interleave records and break the chain.
import { appendFileSync, existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import t from 'tap'
import { verifyChain } from '../../src/audit/chain.ts'
import { AuditTrail, AuditWriteError } from '../../src/audit/trail.ts'
import { tempDir } from '../helpers/app.ts'

const OPTIONS = { rotateBytes: 1024 * 1024, rotateDaily: false }

t.test('regression: a second trail on the same file refuses to open while the first is alive', async (t) => {
  const path = join(tempDir('srp-writer-'), 'audit.log')
  const { trail } = await AuditTrail.open({ path, ...OPTIONS })
  t.ok(existsSync(join(dirname(path), '.audit.log.lock')), 'a hidden lock file, out of reach of audit.log* globs')
  // Another live process on this host: simulate with the parent process's pid in the lock.
  const other = { pid: process.ppid, hostname: (await import('node:os')).hostname() }
  await trail.close()
  const { writeFileSync } = await import('node:fs')
  writeFileSync(join(dirname(path), '.audit.log.lock'), JSON.stringify(other))
  await t.rejects(AuditTrail.open({ path, ...OPTIONS }), { code: 'ELOCKED' })
})

t.test('a lock left behind by a crashed process is taken over', async (t) => {
  const path = join(tempDir('srp-writer-'), 'audit.log')
  const { writeFileSync } = await import('node:fs')
  writeFileSync(join(dirname(path), '.audit.log.lock'), JSON.stringify({ pid: 2 ** 22 + 7, hostname: (await import('node:os')).hostname() }))
  const { trail } = await AuditTrail.open({ path, ...OPTIONS })
  await trail.append({ type: 'x' })
  await trail.close()
  t.notOk(existsSync(join(dirname(path), '.audit.log.lock')), 'released on close')
})

t.test('regression: if the file grows behind its back, the trail stops writing instead of interleaving', async (t) => {
  const path = join(tempDir('srp-writer-'), 'audit.log')
  const errors: unknown[] = []
  const { trail } = await AuditTrail.open({ path, ...OPTIONS, onError: (error) => { errors.push(error) } })
  await trail.append({ type: 'first' })
  appendFileSync(path, '{"seq":2,"prev":"' + '0'.repeat(64) + '","by":"someone else"}\n')
  await t.rejects(trail.append({ type: 'second' }), AuditWriteError)
  t.equal(trail.healthy, false)
  t.match((errors[0] as Error).name, 'ConcurrentWriterError')
  await trail.close()
  const report = await verifyChain([path])
  t.equal(report.records, 1, 'our record is intact; the foreign line is what verify flags')
})
