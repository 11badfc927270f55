// loadConfig: the environment is checked once at boot, every problem is named in one error, the sandbox
// starts only where it cannot be mistaken for production, and no secret is ever echoed back.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { ConfigError, loadConfig, SANDBOX_AUDIT_HMAC_KEY } from '../src/config.ts'
import { DOCUMENTED_PROVIDERS } from '../src/schemas/identifiers.ts'
import { tempDir } from './helpers/app.ts'

const SECRET = 'SuperSecret-Value-4f1c9a'
const HMAC_KEY = 'audit-hmac-key-0123456789abcdef'
const CALLERS_FILE = join(tempDir('srp-config-'), 'callers.json')
writeFileSync(CALLERS_FILE, JSON.stringify([{ name: 'hr', keys: [`sha256:${'0'.repeat(64)}`], providers: ['lark'] }]))
/** Everything real Authing needs. */
const REAL = {
  AUTHING_ACCESS_KEY_ID: 'AK',
  AUTHING_ACCESS_KEY_SECRET: SECRET,
  CALLERS_FILE,
  AUDIT_HMAC_KEY: HMAC_KEY
} as const

/** The problems loadConfig reports; fails the test if it does not throw a ConfigError. */
function problemsOf (env: Record<string, string | undefined>): string[] {
  try {
    loadConfig(env)
  } catch (error) {
    if (error instanceof ConfigError) return error.problems
    throw error
  }
  throw new Error('expected a ConfigError')
}

function errorOf (env: Record<string, string | undefined>): ConfigError {
  try {
    loadConfig(env)
  } catch (error) {
    if (error instanceof ConfigError) return error
    throw error
  }
  throw new Error('expected a ConfigError')
}

t.test('defaults', async (t) => {
  t.test('an empty environment starts the sandbox on 127.0.0.1:3000 with zh-CN', async (t) => {
    const config = loadConfig({})
    t.equal(config.host, '127.0.0.1')
    t.equal(config.port, 3000)
    t.equal(config.logLevel, 'info')
    t.same(config.authingOptions, { lang: 'zh-CN', tenantId: undefined, authMode: 'signature' })
    t.same(config.providers, [...DOCUMENTED_PROVIDERS])
    t.equal(config.authing, undefined, 'no real Authing')
    t.same(config.sandbox, { missingRelation: 'not-found' })
    t.equal(config.audit.hmacKey, SANDBOX_AUDIT_HMAC_KEY, 'the sandbox has a built-in audit key')
  })

  t.test('real Authing defaults to https://api.authing.cn', async (t) => {
    const config = loadConfig({ ...REAL })
    t.same(config.authing, { host: 'https://api.authing.cn', credentials: { accessKeyId: 'AK', accessKeySecret: SECRET } })
    t.equal(config.sandbox, undefined)
    t.equal(config.audit.hmacKey, HMAC_KEY)
  })

  t.test('a trailing slash on AUTHING_HOST is dropped', async (t) => {
    t.equal(loadConfig({ ...REAL, AUTHING_HOST: 'https://authing-api.example.com/' }).authing?.host, 'https://authing-api.example.com')
  })

  t.test('an empty variable counts as unset, and numbers are converted', async (t) => {
    const config = loadConfig({ PORT: '', HOST: '', UPSTREAM_MAX_ATTEMPTS: '5' })
    t.equal(config.port, 3000)
    t.equal(config.host, '127.0.0.1')
    t.equal(config.upstream.maxAttempts, 5)
  })

  t.test('lang, tenant and auth mode are passed through', async (t) => {
    const config = loadConfig({ AUTHING_LANG: 'en-US', AUTHING_TENANT_ID: 'T1', AUTHING_AUTH_MODE: 'token' })
    t.same(config.authingOptions, { lang: 'en-US', tenantId: 'T1', authMode: 'token' })
  })
})

t.test('every problem is reported at once', async (t) => {
  t.test('PORT=abc, LOG_LEVEL=loud and UPSTREAM_MAX_ATTEMPTS=0 are all named in one ConfigError', async (t) => {
    const error = errorOf({ PORT: 'abc', LOG_LEVEL: 'loud', UPSTREAM_MAX_ATTEMPTS: '0' })
    for (const name of ['PORT', 'LOG_LEVEL', 'UPSTREAM_MAX_ATTEMPTS']) {
      t.ok(error.problems.some((problem) => problem.startsWith(`${name}:`)), `${name} is named`)
      t.match(error.message, name)
    }
    t.equal(error.name, 'ConfigError')
  })

  t.test('deployment problems are listed together', async (t) => {
    const problems = problemsOf({
      AUTHING_ACCESS_KEY_ID: 'AK',
      AUTHING_ACCESS_KEY_SECRET: SECRET,
      AUTHING_EXTRA_PROVIDERS: 'Bad_Name',
      UPSTREAM_ATTEMPT_TIMEOUT_MS: '20000',
      UPSTREAM_TOTAL_TIMEOUT_MS: '10000',
      CORS_ORIGINS: 'not-an-origin'
    })
    t.ok(problems.some((problem) => problem.startsWith('CALLERS_FILE')), 'CALLERS_FILE')
    t.ok(problems.some((problem) => problem.startsWith('AUDIT_HMAC_KEY')), 'AUDIT_HMAC_KEY')
    t.ok(problems.some((problem) => problem.startsWith('AUTHING_EXTRA_PROVIDERS')), 'AUTHING_EXTRA_PROVIDERS')
    t.ok(problems.some((problem) => problem.startsWith('UPSTREAM_ATTEMPT_TIMEOUT_MS')), 'the timeouts')
    t.ok(problems.some((problem) => problem.startsWith('CORS_ORIGINS')), 'CORS_ORIGINS')
  })

  t.test('a malformed value and a deployment problem are named together', async (t) => {
    const problems = problemsOf({ PORT: 'abc', NODE_ENV: 'production' })
    t.ok(problems.some((problem) => problem.startsWith('PORT:')), 'PORT is named')
    t.ok(problems.some((problem) => /no Authing credentials/.test(problem)), 'the missing credentials are named too')
  })
})

t.test('sandbox or real Authing', async (t) => {
  t.test('no credentials and NODE_ENV unset: the sandbox', async (t) => {
    const config = loadConfig({ NODE_ENV: undefined })
    t.ok(config.sandbox)
    t.equal(config.authing, undefined)
  })

  t.test('no credentials in production: an error that points at SANDBOX=true', async (t) => {
    const problems = problemsOf({ NODE_ENV: 'production' })
    t.ok(problems.some((problem) => /no Authing credentials/.test(problem) && /SANDBOX=true/.test(problem)))
  })

  t.test('no credentials in production with SANDBOX=true: the sandbox', async (t) => {
    const config = loadConfig({ NODE_ENV: 'production', SANDBOX: 'true' })
    t.ok(config.sandbox)
    t.equal(config.authing, undefined)
  })

  t.test('SANDBOX=false without credentials: an error', async (t) => {
    t.ok(problemsOf({ SANDBOX: 'false' }).some((problem) => /no Authing credentials/.test(problem)))
  })

  t.test('credentials: real Authing, which requires CALLERS_FILE and AUDIT_HMAC_KEY', async (t) => {
    const problems = problemsOf({ AUTHING_ACCESS_KEY_ID: 'AK', AUTHING_ACCESS_KEY_SECRET: SECRET })
    t.equal(problems.length, 2)
    t.ok(problems.some((problem) => problem.startsWith('CALLERS_FILE is required')))
    t.ok(problems.some((problem) => problem.startsWith('AUDIT_HMAC_KEY (or AUDIT_HMAC_KEY_FILE) is required')))
    t.ok(loadConfig({ ...REAL, NODE_ENV: 'production' }).authing, 'and runs in production when both are given')
  })

  t.test('credentials with SANDBOX=true: the sandbox all the same', async (t) => {
    const config = loadConfig({ ...REAL, SANDBOX: 'true' })
    t.ok(config.sandbox)
    t.equal(config.authing, undefined)
  })

  t.test('half a credential is an error, not the sandbox', async (t) => {
    t.ok(problemsOf({ AUTHING_ACCESS_KEY_ID: 'AK' }).some((problem) => /AUTHING_ACCESS_KEY_ID is set but no secret/.test(problem)))
    t.ok(problemsOf({ AUTHING_ACCESS_KEY_SECRET: SECRET }).some((problem) => /AUTHING_ACCESS_KEY_ID is not/.test(problem)))
  })

  t.test('SANDBOX_MISSING_RELATION chooses the sandbox answer for a missing relation', async (t) => {
    t.same(loadConfig({ SANDBOX_MISSING_RELATION: 'success' }).sandbox, { missingRelation: 'success' })
  })
})

t.test('secrets from files', async (t) => {
  const dir = tempDir('srp-config-')
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))

  t.test('AUTHING_ACCESS_KEY_SECRET_FILE is read and trimmed', async (t) => {
    const file = join(dir, 'secret')
    writeFileSync(file, `  ${SECRET}\n\n`)
    const { AUTHING_ACCESS_KEY_SECRET: _, ...rest } = REAL
    t.equal(loadConfig({ ...rest, AUTHING_ACCESS_KEY_SECRET_FILE: file }).authing?.credentials.accessKeySecret, SECRET)
  })

  t.test('AUDIT_HMAC_KEY_FILE is read and trimmed', async (t) => {
    const file = join(dir, 'hmac')
    writeFileSync(file, `${HMAC_KEY}\n`)
    const { AUDIT_HMAC_KEY: _, ...rest } = REAL
    t.equal(loadConfig({ ...rest, AUDIT_HMAC_KEY_FILE: file }).audit.hmacKey, HMAC_KEY)
  })

  t.test('an unreadable secret file is reported by name and error code, echoing nothing', async (t) => {
    const missing = join(dir, 'no-such-secret-file')
    const { AUTHING_ACCESS_KEY_SECRET: _, ...rest } = REAL
    const error = errorOf({ ...rest, AUTHING_ACCESS_KEY_SECRET_FILE: missing })
    t.same(error.problems, ['AUTHING_ACCESS_KEY_SECRET_FILE: cannot read the file (ENOENT)'])
    t.notMatch(error.message, 'no-such-secret-file', 'not even the path')

    const directory = join(dir, 'a-directory')
    mkdirSync(directory)
    t.same(problemsOf({ ...rest, AUTHING_ACCESS_KEY_SECRET_FILE: directory }), ['AUTHING_ACCESS_KEY_SECRET_FILE: cannot read the file (EISDIR)'])
  })

  t.test('an empty secret file is an error', async (t) => {
    const file = join(dir, 'empty')
    writeFileSync(file, ' \n')
    const { AUTHING_ACCESS_KEY_SECRET: _, ...rest } = REAL
    t.same(problemsOf({ ...rest, AUTHING_ACCESS_KEY_SECRET_FILE: file }), ['AUTHING_ACCESS_KEY_SECRET_FILE: the file is empty'])
  })

  t.test('both the secret and the secret file: an error', async (t) => {
    const file = join(dir, 'secret-both')
    writeFileSync(file, SECRET)
    t.ok(problemsOf({ ...REAL, AUTHING_ACCESS_KEY_SECRET_FILE: file }).some((problem) => /both set: choose one/.test(problem)))
  })

  t.test('a short key in AUDIT_HMAC_KEY_FILE is refused without showing it', async (t) => {
    const file = join(dir, 'short-hmac')
    writeFileSync(file, 'tiny-key-value')
    const { AUDIT_HMAC_KEY: _, ...rest } = REAL
    const error = errorOf({ ...rest, AUDIT_HMAC_KEY_FILE: file })
    t.ok(error.problems.some((problem) => /at least 16 characters/.test(problem)))
    t.notMatch(error.message, 'tiny-key-value')
  })
})

t.test('AUTHING_EXTRA_PROVIDERS', async (t) => {
  t.test('extends the documented providers, once each', async (t) => {
    const { providers } = loadConfig({ AUTHING_EXTRA_PROVIDERS: ' fxiaoke, lark-international ,lark,,fxiaoke' })
    t.same(providers, [...DOCUMENTED_PROVIDERS, 'fxiaoke', 'lark-international'])
  })

  t.test('reports every bad name', async (t) => {
    const problems = problemsOf({ AUTHING_EXTRA_PROVIDERS: 'Bad_Name,ok-one,-x,x-,a b,' + 'y'.repeat(65) })
    const named = problems.filter((problem) => problem.startsWith('AUTHING_EXTRA_PROVIDERS'))
    t.equal(named.length, 5, 'one problem per bad name, none for ok-one')
    for (const bad of ['"Bad_Name"', '"-x"', '"x-"', '"a b"']) t.ok(named.some((problem) => problem.includes(bad)), bad)
    t.ok(named.every((problem) => problem.length < 200), 'a long name is cut in the message')
  })
})

t.test('the secret never appears in an error', async (t) => {
  const dir = tempDir('srp-config-secret-')
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const secretFile = join(dir, 'secret')
  writeFileSync(secretFile, SECRET)
  const scenarios: Array<[string, Record<string, string>]> = [
    ['secret and secret file both set', { ...REAL, AUTHING_ACCESS_KEY_SECRET_FILE: secretFile }],
    ['secret without key id', { AUTHING_ACCESS_KEY_SECRET: SECRET }],
    ['secret with a malformed setting elsewhere', { ...REAL, PORT: 'abc', LOG_LEVEL: 'loud' }],
    ['secret with missing deployment settings', { AUTHING_ACCESS_KEY_ID: 'AK', AUTHING_ACCESS_KEY_SECRET: SECRET }],
    ['secret file with a bad host', { AUTHING_ACCESS_KEY_ID: 'AK', AUTHING_ACCESS_KEY_SECRET_FILE: secretFile, AUTHING_HOST: 'ftp://x' }],
    ['the secret used as a too-short audit key', { ...REAL, AUDIT_HMAC_KEY: SECRET.slice(0, 12) }]
  ]
  for (const [name, env] of scenarios) {
    const error = errorOf(env)
    t.notMatch(error.message, SECRET.slice(0, 12), name)
    t.notOk(error.problems.some((problem) => problem.includes(SECRET.slice(0, 12))), `${name}: problems`)
  }
})

t.test('regression: settings that would only fail at the first call are refused at start', async (t) => {
  const cases: Array<[Record<string, string>, RegExp]> = [
    [{ AUTHING_HOST: 'http://127.0.0.1:99999' }, /^AUTHING_HOST: not a URL/],
    [{ AUTHING_HOST: 'http://[bad' }, /^AUTHING_HOST: not a URL/],
    [{ AUTHING_HOST: 'https://user:pw@api.example.com' }, /^AUTHING_HOST: must not contain a user name or password/],
    [{ AUTHING_HOST: 'https://api.example.com/api/v3' }, /^AUTHING_HOST: must be a host only/],
    [{ AUTHING_HOST: 'ftp://api.example.com' }, /^AUTHING_HOST: must be http/],
    [{ AUTHING_ACCESS_KEY_ID: 'A K' }, /^AUTHING_ACCESS_KEY_ID:/],
    [{ AUTHING_ACCESS_KEY_ID: 'AK:1' }, /^AUTHING_ACCESS_KEY_ID:/],
    [{ AUTHING_TENANT_ID: 'T1\r\nx-evil: 1' }, /^AUTHING_TENANT_ID:/],
    [{ CALLERS_FILE: '/nonexistent/callers.json' }, /^CALLERS_FILE: cannot read the file \(ENOENT\)/]
  ]
  for (const [env, pattern] of cases) {
    const problems = problemsOf({ ...REAL, ...env })
    t.ok(problems.some((problem) => pattern.test(problem)), `${JSON.stringify(env)} → ${problems.join(' | ')}`)
    t.notOk(problems.join(' ').includes('pw@'), 'no credentials echoed')
  }
  t.equal(loadConfig({ ...REAL, AUTHING_HOST: 'HTTPS://API.Example.com:8443/' }).authing?.host, 'https://api.example.com:8443', 'scheme and host are normalised')
  t.equal(loadConfig({ ...REAL, AUTHING_ACCESS_KEY_SECRET: `  ${SECRET}\n` }).authing?.credentials.accessKeySecret, SECRET, 'whitespace around a secret is dropped')
})
