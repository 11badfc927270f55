// The process's signals: SIGHUP reloads the callers file and never stops the service; SIGTERM drains.
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { hashKey } from '../../src/callers/registry.ts'
import { serviceSetup, startSandboxProcess, startService } from '../helpers/audit-processes.ts'
import { tempDir } from '../helpers/app.ts'

t.test('regression: SIGHUP (even twice) reloads callers and does not shut the service down', async (t) => {
  const sandbox = await startSandboxProcess()
  t.teardown(() => { sandbox.process.kill('SIGKILL') })
  const setup = serviceSetup(tempDir('srp-signals-'), sandbox.url)
  const service = await startService(setup)
  t.teardown(() => { service.process.kill('SIGKILL') })
  const call = async (key: string): Promise<number> => (await fetch(`${service.url}/users/6229ffaa0b1c2d3e4f5a6b7f/sync-relations/lark`, { method: 'DELETE', headers: { authorization: `Bearer ${key}` } })).status

  t.equal(await call(setup.callerKey), 404, 'the caller works before the reload')
  const newKey = 'srp_signals-test-rotated-key'
  writeFileSync(join(setup.dir, 'callers.json'), JSON.stringify([{ name: 'load-test', keys: [hashKey(newKey)], providers: ['*'] }]))
  service.process.kill('SIGHUP')
  service.process.kill('SIGHUP')
  await new Promise((resolve) => setTimeout(resolve, 300))
  t.equal((await fetch(`${service.url}/health/ready`)).status, 200, 'still up and ready')
  t.equal(await call(newKey), 404, 'the new key works')
  t.equal(await call(setup.callerKey), 401, 'the old key is revoked')

  service.process.kill('SIGTERM')
  t.same(await service.exited, { code: 0, signal: null }, 'SIGTERM still shuts down cleanly')
})
