// `npm run audit -- verify|find`: exit codes and messages on an intact, a tampered and a torn trail; finding
// records by a hashed email, caller, provider, outcome, request id and time window; never printing the key.
import { spawnSync } from 'node:child_process'
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { keyedHash } from '../../src/audit/records.ts'
import { SANDBOX_AUDIT_HMAC_KEY } from '../../src/config.ts'
import { EXIT_BROKEN, EXIT_OK, EXIT_USAGE, main, USAGE } from '../../src/cli/audit.ts'
import { AUTH, buildTestApp, LISI, routeUrl, tempDir, ZHANGSAN } from '../helpers/app.ts'
import { chainedLines, fileLines, trailFiles, writeLines } from '../helpers/audit-files.ts'

const KEY = 'investigator-test-hmac-key-7f3a'
const CLI = join(import.meta.dirname, '..', '..', 'src', 'cli', 'audit.ts')

interface Run { code: number, stdout: string, stderr: string }

async function run (args: string[], env: Record<string, string | undefined> = {}): Promise<Run> {
  let stdout = ''
  let stderr = ''
  const code = await main(args, { env, stdout: (text) => { stdout += text }, stderr: (text) => { stderr += text } })
  return { code, stdout, stderr }
}

/** The CLI as an operator runs it, in its own process. */
function spawnCli (args: string[], env: Record<string, string> = {}): Run {
  const result = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '', ...env }, timeout: 20_000 })
  return { code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr }
}

/** A real trail, written by the app, rotated over several files. */
async function realTrail (t: { teardown: (fn: () => unknown) => void }, env: Record<string, string> = { AUDIT_HMAC_KEY: KEY }): Promise<{ path: string, requestIds: Record<string, string> }> {
  const { app, auditPath } = await buildTestApp(t, { AUDIT_ROTATE_BYTES: '4096', ...env })
  const requestIds: Record<string, string> = {}
  const send = async (name: string, url: string, headers: Record<string, string> = AUTH): Promise<void> => {
    const response = await app.inject({ method: 'DELETE', url, headers })
    requestIds[name] = String(response.headers['x-request-id'])
  }
  await send('lisiByEmail', routeUrl('li.si+hr@example.com', 'moka', '?userIdType=email'))
  for (let i = 0; i < 12; i += 1) await send(`zhangsan${i}`, routeUrl(ZHANGSAN, 'lark'))
  await send('unauthenticated', routeUrl(LISI, 'wechatwork'), {})
  await app.close()
  return { path: auditPath, requestIds }
}

t.test('verify', async (t) => {
  const { path } = await realTrail(t)
  const files = await trailFiles(path)
  t.ok(files.length >= 2, 'the trail was rotated')

  t.test('an intact trail: exit 0, the files in chain order, the record count and range, from genesis', async (t) => {
    const result = await run(['verify'], { AUDIT_LOG_PATH: path })
    t.equal(result.code, EXIT_OK)
    t.equal(result.stderr, '')
    const total = files.reduce((sum, file) => sum + fileLines(file).length, 0)
    t.match(result.stdout, `Records: ${total} (seq 1 to ${total})`)
    t.match(result.stdout, /Start: the genesis record/)
    t.match(result.stdout, /OK: the chain holds\./)
    const listed = [...result.stdout.matchAll(/^ {2}\d+\. (.+)$/gm)].map((match) => match[1])
    t.same(listed, files, 'rotated files first, by their first seq, then the current file')
  })

  t.test('files given in any order are walked in chain order', async (t) => {
    const result = await run(['verify', '--json', ...[...files].reverse()])
    t.equal(result.code, EXIT_OK)
    t.same(JSON.parse(result.stdout).files, files)
  })

  t.test('--json prints the report', async (t) => {
    const result = await run(['verify', '--json', ...files])
    t.equal(result.code, EXIT_OK)
    t.match(JSON.parse(result.stdout), { ok: true, fromGenesis: true, firstSeq: 1, files })
  })

  t.test('a file set that does not start at the genesis record says so', async (t) => {
    const result = await run(['verify', path])
    t.equal(result.code, EXIT_OK)
    t.match(result.stdout, /not the genesis record: earlier files are not included/)
  })
})

t.test('verify reports tampering: exit 1 with the file, line, seq and reason', async (t) => {
  const { path } = await realTrail(t)
  const files = await trailFiles(path)
  const target = files[0] as string
  const lines = fileLines(target)
  // Someone rewrites who made the third call.
  lines[2] = (lines[2] as string).replace('"caller":"sandbox-dev"', '"caller":"someone-else"')
  writeLines(target, lines)

  const result = await run(['verify', ...files])
  t.equal(result.code, EXIT_BROKEN)
  t.match(result.stdout, `BROKEN: the chain does not hold at ${target}, line 4, seq 4: prev does not match the hash of the record before (that record was altered)`)
  t.match(result.stdout, 'The 3 records before that point verified.')
  t.notMatch(result.stdout, /OK:/)

  const json = await run(['verify', '--json', ...files])
  t.equal(json.code, EXIT_BROKEN)
  t.match(JSON.parse(json.stdout), { ok: false, break: { file: target, line: 4, seq: 4 } })
})

t.test('verify reports a deleted rotated file as missing records', async (t) => {
  const dir = tempDir()
  const lines = chainedLines(9)
  writeLines(join(dir, 'audit.log.2025-01-01.000000000001'), lines.slice(0, 3))
  writeLines(join(dir, 'audit.log'), lines.slice(6))
  const result = await run(['verify'], { AUDIT_LOG_PATH: join(dir, 'audit.log') })
  t.equal(result.code, EXIT_BROKEN)
  t.match(result.stdout, /line 1, seq 7: expected seq 4, found 7 \(records missing or reordered\)/)
})

t.test('verify reports a torn last line as a torn tail, not tampering: exit 0', async (t) => {
  const { path } = await realTrail(t)
  appendFileSync(path, '{"seq":99,"prev":"ab')
  const result = await run(['verify'], { AUDIT_LOG_PATH: path })
  t.equal(result.code, EXIT_OK)
  t.match(result.stdout, /Torn tail: .*audit\.log, line \d+ \(20 bytes\) is an incomplete last line: a torn tail \(an interrupted write\), not tampering\./)
  t.match(result.stdout, /OK: the chain holds up to the torn tail\./)
  t.notMatch(result.stdout, /BROKEN/)
})

t.test('verify usage errors: exit 2 with one line and no stack trace', async (t) => {
  const missing = await run(['verify', '/nonexistent/audit.log'])
  t.equal(missing.code, EXIT_USAGE)
  t.equal(missing.stderr, 'audit: cannot read /nonexistent/audit.log: no such file or directory\n')
  t.equal(missing.stdout, '')

  const directory = await run(['verify', tempDir()])
  t.equal(directory.code, EXIT_USAGE)
  t.match(directory.stderr, /not a regular file/)

  const noTrail = await run(['verify'], { AUDIT_LOG_PATH: join(tempDir(), 'audit.log') })
  t.equal(noTrail.code, EXIT_USAGE)
  t.match(noTrail.stderr, /^audit: no audit trail at .*audit\.log \(set AUDIT_LOG_PATH or name the files\)\n$/)

  const unknownOption = await run(['verify', '--fast'])
  t.equal(unknownOption.code, EXIT_USAGE)
  t.match(unknownOption.stderr, /Unknown option '--fast'/)
  t.match(unknownOption.stderr, USAGE, 'with the usage text')
})

t.test('usage: no command, an unknown command, and --help', async (t) => {
  const none = await run([])
  t.equal(none.code, EXIT_USAGE)
  t.match(none.stderr, 'a command is required: verify or find')
  t.match(none.stderr, 'Usage:')
  const unknown = await run(['rewrite'])
  t.equal(unknown.code, EXIT_USAGE)
  t.match(unknown.stderr, 'unknown command "rewrite"')
  for (const args of [['--help'], ['verify', '--help'], ['find', '-h']]) {
    const help = await run(args)
    t.equal(help.code, EXIT_OK, args.join(' '))
    t.equal(help.stdout, USAGE)
  }
})

t.test('find', async (t) => {
  const { path, requestIds } = await realTrail(t)
  const env = { AUDIT_LOG_PATH: path, AUDIT_HMAC_KEY: KEY }
  const jsonLines = (stdout: string): Array<Record<string, unknown>> => stdout.split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as Record<string, unknown>)

  t.test('by email: hashes the value with AUDIT_HMAC_KEY and lists its records', async (t) => {
    const result = await run(['find', '--user-id', 'li.si+hr@example.com', '--json'], env)
    t.equal(result.code, EXIT_OK)
    const found = jsonLines(result.stdout)
    t.match(found, [
      { type: 'attempt', requestId: requestIds.lisiByEmail, userIdType: 'email', userIdHmac: keyedHash(KEY, 'li.si+hr@example.com') },
      { type: 'outcome', requestId: requestIds.lisiByEmail, outcome: 'success', status: 200 }
    ])
    t.equal(found.length, 2)
    t.match(result.stderr, 'audit: 2 records matched')
  })

  t.test('by email with --user-id-type, and in the table', async (t) => {
    const result = await run(['find', '--user-id', 'li.si+hr@example.com', '--user-id-type', 'email'], env)
    t.equal(result.code, EXIT_OK)
    const rows = result.stdout.trim().split('\n')
    t.match(rows[0], /^time\s+seq\s+type\s+outcome\s+status\s+code\s+caller\s+provider\s+user\s+requestId$/)
    t.equal(rows.length, 3)
    t.match(rows[2], new RegExp(`outcome\\s+success\\s+200\\s+-\\s+sandbox-dev\\s+moka\\s+email:hmac:${keyedHash(KEY, 'li.si+hr@example.com').slice(0, 12)}…\\s+${requestIds.lisiByEmail}$`))
    t.notMatch(result.stdout, /li\.si/, 'the table does not reveal the email either')
    const wrongType = await run(['find', '--user-id', 'li.si+hr@example.com', '--user-id-type', 'phone', '--json'], env)
    t.equal(wrongType.stdout, '')
  })

  t.test('by email with the key in AUDIT_HMAC_KEY_FILE', async (t) => {
    const keyFile = join(tempDir(), 'hmac.key')
    writeFileSync(keyFile, `${KEY}\n`)
    const result = await run(['find', '--user-id', 'li.si+hr@example.com', '--json'], { AUDIT_LOG_PATH: path, AUDIT_HMAC_KEY_FILE: keyFile })
    t.equal(jsonLines(result.stdout).length, 2)
  })

  t.test('with another key, a personal id is not found', async (t) => {
    const result = await run(['find', '--user-id', 'li.si+hr@example.com', '--json'], { ...env, AUDIT_HMAC_KEY: 'some-other-key-of-16+chars' })
    t.equal(result.code, EXIT_OK)
    t.equal(result.stdout, '')
    t.match(result.stderr, 'audit: 0 records matched')
  })

  t.test('by an opaque id stored in the clear', async (t) => {
    const result = await run(['find', '--user-id', ZHANGSAN, '--json'], env)
    t.equal(jsonLines(result.stdout).length, 24, 'attempt and outcome of 12 calls')
  })

  t.test('by caller, provider, outcome and request id', async (t) => {
    const byCaller = jsonLines((await run(['find', '--caller', 'sandbox-dev', '--json'], env)).stdout)
    t.equal(byCaller.length, 26)
    t.ok(byCaller.every((record) => record.caller === 'sandbox-dev'))
    const byProvider = jsonLines((await run(['find', '--provider', 'moka', '--json'], env)).stdout)
    t.same(byProvider.map((record) => record.requestId), [requestIds.lisiByEmail, requestIds.lisiByEmail])
    const rejected = jsonLines((await run(['find', '--outcome', 'rejected', '--json'], env)).stdout)
    t.match(rejected, [{ type: 'request', requestId: requestIds.unauthenticated, status: 401, reason: 'missing key' }])
    t.equal(rejected.length, 1)
    const removed = jsonLines((await run(['find', '--outcome', 'success', '--provider', 'lark', '--json'], env)).stdout)
    t.same(removed.map((record) => record.requestId), [requestIds.zhangsan0], 'only the first call to remove the Lark relation succeeded')
    const byRequest = jsonLines((await run(['find', '--request-id', requestIds.zhangsan3 as string, '--json'], env)).stdout)
    t.same(byRequest.map((record) => record.type), ['attempt', 'outcome'])
  })

  t.test('records come in chain order across rotated files', async (t) => {
    const all = jsonLines((await run(['find', '--json'], env)).stdout)
    t.same(all.map((record) => record.seq), all.map((_, index) => index + 1))
    t.match(all.at(-1), { type: 'lifecycle', event: 'stop' })
  })

  t.test('filter values are checked', async (t) => {
    for (const args of [['--outcome', 'ok'], ['--user-id-type', 'mail'], ['--since', 'yesterday'], ['--since', '2025-02-01', '--until', '2025-01-01'], ['--caller', '']]) {
      const result = await run(['find', ...args], env)
      t.equal(result.code, EXIT_USAGE, args.join(' '))
      t.match(result.stderr, /^audit: --/)
      t.notMatch(result.stderr, /\n\s+at /, 'no stack trace')
    }
    const bothKeys = await run(['find', '--user-id', 'x@example.com'], { ...env, AUDIT_HMAC_KEY_FILE: '/some/file' })
    t.equal(bothKeys.code, EXIT_USAGE)
    t.match(bothKeys.stderr, 'AUDIT_HMAC_KEY and AUDIT_HMAC_KEY_FILE are both set')
    const shortKey = await run(['find', '--user-id', 'x@example.com'], { ...env, AUDIT_HMAC_KEY: 'short' })
    t.equal(shortKey.code, EXIT_USAGE)
    t.notMatch(shortKey.stderr, /short"/, 'the key is not echoed')
  })
})

t.test('find by time window, on a trail with known times', async (t) => {
  const path = join(tempDir(), 'audit.log')
  const times = ['2025-01-31T23:59:59.000Z', '2025-02-01T00:00:00.000Z', '2025-02-01T12:00:00.000Z', '2025-02-02T00:00:00.000Z']
  writeLines(path, chainedLines(4, 1, undefined, (seq) => ({ v: 1, type: 'request', time: times[seq - 1], outcome: 'rejected', status: 401 })))
  const seqs = async (...args: string[]): Promise<number[]> => (await run(['find', '--json', ...args, path])).stdout.split('\n').filter(Boolean).map((line) => (JSON.parse(line) as { seq: number }).seq)
  t.same(await seqs('--since', '2025-02-01'), [2, 3, 4], '--since is inclusive')
  t.same(await seqs('--until', '2025-02-01'), [1], '--until is exclusive')
  t.same(await seqs('--since', '2025-02-01T06:00:00Z', '--until', '2025-02-02T00:00:00Z'), [3])
  t.same(await seqs('--since', '2025-02-01T08:00:00+08:00', '--until', '2025-02-01T08:00:01+08:00'), [2], 'offsets are honoured')
})

t.test('find without a configured key uses the sandbox key and warns', async (t) => {
  const { path, requestIds } = await realTrail(t, {})
  const result = await run(['find', '--user-id', 'li.si+hr@example.com', '--json'], { AUDIT_LOG_PATH: path })
  t.equal(result.code, EXIT_OK)
  t.match(result.stderr, /warning: neither AUDIT_HMAC_KEY nor AUDIT_HMAC_KEY_FILE is set; hashing with the sandbox key/)
  t.notMatch(result.stderr + result.stdout, SANDBOX_AUDIT_HMAC_KEY, 'the sandbox key is not printed')
  const found = result.stdout.split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>)
  t.same(found.map((record) => record.requestId), [requestIds.lisiByEmail, requestIds.lisiByEmail])
})

t.test('find never prints the key, whatever it is asked', async (t) => {
  const { path } = await realTrail(t)
  const keyFile = join(tempDir(), 'hmac.key')
  writeFileSync(keyFile, KEY)
  const invocations: Array<[string[], Record<string, string>]> = [
    [['find', '--user-id', 'li.si+hr@example.com'], { AUDIT_HMAC_KEY: KEY }],
    [['find', '--user-id', 'li.si+hr@example.com', '--json'], { AUDIT_HMAC_KEY: KEY }],
    [['find', '--user-id', 'li.si+hr@example.com', '--json'], { AUDIT_HMAC_KEY_FILE: keyFile }],
    [['find', '--user-id', 'li.si+hr@example.com', '--outcome', 'nope'], { AUDIT_HMAC_KEY: KEY }],
    [['find', '--user-id', 'li.si+hr@example.com'], { AUDIT_HMAC_KEY: KEY, AUDIT_HMAC_KEY_FILE: keyFile }],
    [['verify'], { AUDIT_HMAC_KEY: KEY }]
  ]
  for (const [args, env] of invocations) {
    const result = await run(args, { AUDIT_LOG_PATH: path, ...env })
    t.notOk((result.stdout + result.stderr).includes(KEY), `${args.join(' ')}: no key in the output`)
  }
  t.notOk(readFileSync(path, 'utf8').includes(KEY), 'nor in the trail')
})

t.test('as a process: exit codes and messages an operator sees', async (t) => {
  const { path } = await realTrail(t)
  const intact = spawnCli(['verify'], { AUDIT_LOG_PATH: path })
  t.equal(intact.code, 0)
  t.match(intact.stdout, /OK: the chain holds\./)

  const found = spawnCli(['find', '--user-id', 'li.si+hr@example.com'], { AUDIT_LOG_PATH: path, AUDIT_HMAC_KEY: KEY })
  t.equal(found.code, 0)
  t.equal(found.stdout.trim().split('\n').length, 3, 'a header and two records')
  t.notOk((found.stdout + found.stderr).includes(KEY))

  const missing = spawnCli(['verify', join(tempDir(), 'nope.log')])
  t.equal(missing.code, 2)
  t.match(missing.stderr, /^audit: cannot read .*nope\.log: no such file or directory\n$/, 'one line, no stack trace')

  const files = await trailFiles(path)
  const last = files.at(-1) as string
  const lines = fileLines(last)
  lines.splice(1, 1)
  writeLines(last, lines)
  const tampered = spawnCli(['verify', ...files])
  t.equal(tampered.code, 1)
  t.match(tampered.stdout, /BROKEN: .* line 2, seq \d+: expected seq \d+, found \d+ \(records missing or reordered\)/)
})
