// The environment, described once as a TypeBox schema and validated once at boot. Every problem is
// reported together, so an operator fixes a broken deployment in one pass. Handlers never read process.env.
import { readFileSync } from 'node:fs'
import { Type, type Static, type TBoolean, type TInteger, type TString } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'
import { CallerRegistry, CallersFileError } from './callers/registry.ts'
import { DOCUMENTED_PROVIDERS, PROVIDER_NAME_PATTERN } from './schemas/identifiers.ts'

const Integer = (defaultValue: number, minimum: number, maximum: number, description: string): TInteger =>
  Type.Integer({ default: defaultValue, minimum, maximum, description })
const Flag = (description: string): TBoolean => Type.Boolean({ description })
const Text = (description: string): TString => Type.String({ description })

/** Every setting the service reads. Descriptions feed the README's configuration table. */
export const EnvironmentSchema = Type.Object({
  HOST: Type.String({ default: '127.0.0.1', minLength: 1, description: 'Address to listen on (the Docker image sets 0.0.0.0).' }),
  PORT: Integer(3000, 0, 65535, 'Port to listen on.'),
  LOG_LEVEL: Type.Union(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((level) => Type.Literal(level)), { default: 'info', description: 'pino log level.' }),
  NODE_ENV: Type.Optional(Text('`production` makes missing Authing credentials an error instead of starting the sandbox.')),
  PUBLIC_BASE_PATH: Type.String({ default: '', pattern: '^(/[A-Za-z0-9._~-]+)*$', description: 'Path prefix under which a gateway serves this service, e.g. `/sync-proxy`.' }),
  CORS_ORIGINS: Type.String({ default: '', description: 'Comma-separated origins allowed to call from a browser. Empty: CORS off.' }),

  AUTHING_HOST: Type.String({ default: 'https://api.authing.cn', minLength: 1, description: 'Authing API host (private deployments: your own host).' }),
  // Printable ASCII without spaces or colons: the id is sent as `authing <id>:<signature>`.
  AUTHING_ACCESS_KEY_ID: Type.Optional(Type.String({ pattern: '^[\\x21-\\x39\\x3b-\\x7e]+$', description: 'Authing access key id (the user pool id).' })),
  AUTHING_ACCESS_KEY_SECRET: Type.Optional(Type.String({ minLength: 1, description: 'Authing access key secret. Prefer the _FILE form.' })),
  AUTHING_ACCESS_KEY_SECRET_FILE: Type.Optional(Type.String({ minLength: 1, description: 'File holding the secret (Docker/Kubernetes secrets).' })),
  AUTHING_TENANT_ID: Type.Optional(Type.String({ pattern: '^[\\x21-\\x7e]+$', description: 'Sent as `x-authing-app-id` when set.' })),
  AUTHING_LANG: Type.Union(['zh-CN', 'en-US', 'ja-JP', 'zh-TW'].map((lang) => Type.Literal(lang)), { default: 'zh-CN', description: 'Language of Authing messages.' }),
  AUTHING_AUTH_MODE: Type.Union([Type.Literal('signature'), Type.Literal('token')], { default: 'signature', description: '`signature` (AK/SK, as the Node SDK) or `token` (management token).' }),
  AUTHING_EXTRA_PROVIDERS: Type.String({ default: '', description: 'Comma-separated providers to accept beyond the 11 documented ones.' }),

  SANDBOX: Type.Optional(Flag('`true` forces the built-in Authing emulator; `false` forbids it.')),
  SANDBOX_MISSING_RELATION: Type.Union([Type.Literal('not-found'), Type.Literal('success')], { default: 'not-found', description: 'How the sandbox answers when the relation does not exist.' }),

  CALLERS_FILE: Type.Optional(Type.String({ minLength: 1, description: 'JSON file of callers and their key hashes. Required with real Authing credentials.' })),
  CALLER_RATE_LIMIT_MAX: Integer(600, 1, 1_000_000, 'Requests per caller per window (a caller entry may override it).'),
  CALLER_RATE_LIMIT_WINDOW_MS: Integer(60_000, 1000, 86_400_000, 'Rate-limit window.'),
  CALLER_MAX_IN_FLIGHT: Integer(32, 1, 10_000, 'Requests one caller may have in progress at once.'),
  UNAUTHENTICATED_RATE_LIMIT_MAX: Integer(60, 1, 1_000_000, 'Failed authentications one address may make per window before it gets 429.'),

  AUDIT_LOG_PATH: Type.String({ default: './data/audit.log', minLength: 1, description: 'The audit trail file (rotated files sit next to it).' }),
  AUDIT_HMAC_KEY: Type.Optional(Type.String({ minLength: 16, description: 'Key for hashing personal user ids in the audit trail. Required with real Authing credentials.' })),
  AUDIT_HMAC_KEY_FILE: Type.Optional(Type.String({ minLength: 1, description: 'File holding AUDIT_HMAC_KEY.' })),
  AUDIT_ROTATE_BYTES: Integer(100 * 1024 * 1024, 4096, 2 ** 40, 'Rotate the audit file when it would exceed this size.'),
  AUDIT_ROTATE_DAILY: Type.Boolean({ default: true, description: 'Also rotate when the UTC day changes.' }),

  UPSTREAM_ATTEMPT_TIMEOUT_MS: Integer(5000, 100, 120_000, 'Timeout of one attempt to Authing.'),
  UPSTREAM_TOTAL_TIMEOUT_MS: Integer(15_000, 100, 300_000, 'Deadline for the whole call, retries included.'),
  UPSTREAM_MAX_ATTEMPTS: Integer(3, 1, 10, 'Attempts per call; retries happen only when provably safe.'),
  UPSTREAM_RETRY_BASE_MS: Integer(200, 1, 60_000, 'First backoff delay (doubled per retry, with full jitter).'),
  UPSTREAM_RETRY_MAX_DELAY_MS: Integer(2000, 1, 60_000, 'Longest wait before a retry, Retry-After included; longer waits are returned to the caller.'),
  UPSTREAM_MAX_CONCURRENCY: Integer(64, 1, 10_000, 'Calls to Authing in progress at once.'),
  UPSTREAM_MAX_QUEUE: Integer(256, 0, 100_000, 'Calls waiting for a free slot; beyond this, 503 at once.'),
  UPSTREAM_KEEP_ALIVE_TIMEOUT_MS: Integer(4000, 100, 600_000, 'Idle time after which this service closes a kept-alive connection to Authing.'),
  BREAKER_FAILURE_THRESHOLD: Integer(5, 1, 1000, 'Consecutive upstream faults that open the circuit.'),
  BREAKER_OPEN_MS: Integer(10_000, 100, 600_000, 'How long the circuit stays open before one probe is let through.'),

  METRICS_ENABLED: Type.Boolean({ default: true, description: 'Serve Prometheus metrics at /metrics.' }),
  REQUEST_TIMEOUT_MS: Integer(30_000, 1000, 600_000, 'Time a client has to send a whole request; slower ones get 408.'),
  SHUTDOWN_TIMEOUT_MS: Integer(20_000, 1000, 600_000, 'Longest drain on SIGTERM/SIGINT; calls still in flight shortly before it are answered as timeouts.')
})

export type Environment = Static<typeof EnvironmentSchema>

export type AuthMode = 'signature' | 'token'

export interface AuthingCredentials {
  accessKeyId: string
  accessKeySecret: string
}

export interface Config {
  host: string
  port: number
  logLevel: string
  publicBasePath: string
  corsOrigins: string[]
  providers: string[]
  /** Real Authing, or undefined when the embedded sandbox plays Authing. */
  authing: { host: string, credentials: AuthingCredentials } | undefined
  authingOptions: { lang: string, tenantId: string | undefined, authMode: AuthMode }
  sandbox: { missingRelation: 'not-found' | 'success' } | undefined
  callers: { file: string | undefined, rateLimitMax: number, rateLimitWindowMs: number, maxInFlight: number, unauthenticatedRateLimitMax: number }
  audit: { path: string, hmacKey: string, rotateBytes: number, rotateDaily: boolean }
  upstream: {
    attemptTimeoutMs: number
    totalTimeoutMs: number
    maxAttempts: number
    retryBaseMs: number
    retryMaxDelayMs: number
    maxConcurrency: number
    maxQueue: number
    keepAliveTimeoutMs: number
    breakerFailureThreshold: number
    breakerOpenMs: number
  }
  metricsEnabled: boolean
  requestTimeoutMs: number
  shutdownTimeoutMs: number
}

/** The HMAC key used in sandbox mode when none is configured; it protects nothing real. */
export const SANDBOX_AUDIT_HMAC_KEY = 'sandbox-audit-hmac-key-not-secret'

export class ConfigError extends Error {
  readonly problems: string[]
  constructor (problems: string[]) {
    super(`Invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`)
    this.name = 'ConfigError'
    this.problems = problems
  }
}

function readSecretFile (name: string, file: string, problems: string[]): string | undefined {
  try {
    const value = readFileSync(file, 'utf8').trim()
    if (value === '') problems.push(`${name}: the file is empty`)
    return value
  } catch (error) {
    problems.push(`${name}: cannot read the file (${(error as NodeJS.ErrnoException).code ?? 'error'})`)
    return undefined
  }
}

function commaList (value: string): string[] {
  return value.split(',').map((item) => item.trim()).filter((item) => item !== '')
}

/** A plain-words expectation for the kinds of setting TypeBox describes tersely; undefined otherwise. */
function describeExpectation (schema: { anyOf?: Array<{ const?: unknown }>, type?: unknown, minimum?: number, maximum?: number }): string | undefined {
  if (Array.isArray(schema.anyOf) && schema.anyOf.every((option) => option.const !== undefined)) {
    return `must be one of: ${schema.anyOf.map((option) => String(option.const)).join(', ')}`
  }
  if (schema.type === 'boolean') return 'must be true or false (or 1 or 0)'
  if (schema.type === 'integer') return `must be a whole number from ${schema.minimum} to ${schema.maximum}`
  return undefined
}

/** `scheme://host[:port]` of AUTHING_HOST, or undefined (with a problem noted) when it is not one. */
function authingOrigin (value: unknown, problems: string[]): string | undefined {
  let url: URL
  try {
    url = new URL(String(value))
  } catch {
    problems.push('AUTHING_HOST: not a URL like https://api.authing.cn')
    return undefined
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') problems.push('AUTHING_HOST: must be http:// or https://')
  else if (url.username !== '' || url.password !== '') problems.push('AUTHING_HOST: must not contain a user name or password')
  else if (url.pathname !== '/' || url.search !== '' || url.hash !== '') problems.push('AUTHING_HOST: must be a host only, without a path or query (the API path is added by the service)')
  else return url.origin
  return undefined
}

/** Reads and checks the environment. Throws one ConfigError naming every problem. */
export function loadConfig (env: Record<string, string | undefined> = process.env): Config {
  const raw: Record<string, unknown> = {}
  for (const key of Object.keys(EnvironmentSchema.properties)) {
    const value = env[key]
    if (value !== undefined && value !== '') raw[key] = value
  }
  const converted = Value.Convert(EnvironmentSchema, Value.Default(EnvironmentSchema, raw))
  // Values are never echoed: some of them are secrets.
  const problems = [...Value.Errors(EnvironmentSchema, converted)].map((error) => `${error.path.slice(1)}: ${describeExpectation(error.schema as Parameters<typeof describeExpectation>[0]) ?? error.message}`)
  // Carry on with the cross-field checks even if some values are malformed: every problem is reported at once.
  const e = converted as Environment

  if (e.AUTHING_ACCESS_KEY_SECRET !== undefined && e.AUTHING_ACCESS_KEY_SECRET_FILE !== undefined) {
    problems.push('AUTHING_ACCESS_KEY_SECRET and AUTHING_ACCESS_KEY_SECRET_FILE are both set: choose one')
  }
  // Surrounding whitespace is dropped from a secret, whether it comes from the environment or a file.
  const secret = e.AUTHING_ACCESS_KEY_SECRET_FILE !== undefined
    ? readSecretFile('AUTHING_ACCESS_KEY_SECRET_FILE', e.AUTHING_ACCESS_KEY_SECRET_FILE, problems)
    : e.AUTHING_ACCESS_KEY_SECRET?.trim()
  if (e.AUTHING_ACCESS_KEY_SECRET !== undefined && secret === '') problems.push('AUTHING_ACCESS_KEY_SECRET: is blank')
  const authingHost = authingOrigin(e.AUTHING_HOST, problems)
  const hasKeyId = e.AUTHING_ACCESS_KEY_ID !== undefined
  const secretGiven = e.AUTHING_ACCESS_KEY_SECRET !== undefined || e.AUTHING_ACCESS_KEY_SECRET_FILE !== undefined
  if (hasKeyId && !secretGiven) {
    problems.push('AUTHING_ACCESS_KEY_ID is set but no secret: set AUTHING_ACCESS_KEY_SECRET or AUTHING_ACCESS_KEY_SECRET_FILE')
  }
  if (!hasKeyId && secretGiven) problems.push('an Authing secret is set but AUTHING_ACCESS_KEY_ID is not')

  const production = e.NODE_ENV === 'production'
  let useSandbox: boolean
  if (e.SANDBOX === true) useSandbox = true
  else if (e.SANDBOX === false) useSandbox = false
  else useSandbox = !hasKeyId && !secretGiven && !production
  if (!useSandbox && !hasKeyId && !secretGiven) {
    problems.push(production && e.SANDBOX === undefined
      ? 'no Authing credentials: set AUTHING_ACCESS_KEY_ID and AUTHING_ACCESS_KEY_SECRET (or _FILE); the sandbox only starts in production with SANDBOX=true'
      : 'no Authing credentials: set AUTHING_ACCESS_KEY_ID and AUTHING_ACCESS_KEY_SECRET (or _FILE), or SANDBOX=true')
  }
  if (!useSandbox && e.CALLERS_FILE === undefined) {
    problems.push('CALLERS_FILE is required with real Authing credentials: without it nobody could call, or everybody could')
  }
  const providers = [...new Set<string>([...DOCUMENTED_PROVIDERS, ...commaList(String(e.AUTHING_EXTRA_PROVIDERS))])]
  if (e.CALLERS_FILE !== undefined) {
    try {
      CallerRegistry.fromText(readFileSync(e.CALLERS_FILE, 'utf8'), providers)
    } catch (error) {
      const details = error instanceof CallersFileError ? error.problems : [`cannot read the file (${(error as NodeJS.ErrnoException).code ?? 'error'})`]
      for (const detail of details) problems.push(`CALLERS_FILE: ${detail}`)
    }
  }

  if (e.AUDIT_HMAC_KEY !== undefined && e.AUDIT_HMAC_KEY_FILE !== undefined) {
    problems.push('AUDIT_HMAC_KEY and AUDIT_HMAC_KEY_FILE are both set: choose one')
  }
  let hmacKey = e.AUDIT_HMAC_KEY_FILE !== undefined
    ? readSecretFile('AUDIT_HMAC_KEY_FILE', e.AUDIT_HMAC_KEY_FILE, problems)
    : e.AUDIT_HMAC_KEY
  if (e.AUDIT_HMAC_KEY_FILE !== undefined && hmacKey !== undefined && hmacKey.length < 16) problems.push('AUDIT_HMAC_KEY_FILE: the key must be at least 16 characters')
  if (hmacKey === undefined && e.AUDIT_HMAC_KEY_FILE === undefined) {
    if (useSandbox) hmacKey = SANDBOX_AUDIT_HMAC_KEY
    else problems.push('AUDIT_HMAC_KEY (or AUDIT_HMAC_KEY_FILE) is required with real Authing credentials')
  }

  const extraProviders = commaList(e.AUTHING_EXTRA_PROVIDERS)
  for (const provider of extraProviders) {
    if (!PROVIDER_NAME_PATTERN.test(provider) || provider.length > 64) {
      problems.push(`AUTHING_EXTRA_PROVIDERS: "${provider.slice(0, 64)}" is not a provider name (lowercase letters, digits and hyphens)`)
    }
  }
  if (typeof e.UPSTREAM_ATTEMPT_TIMEOUT_MS === 'number' && typeof e.UPSTREAM_TOTAL_TIMEOUT_MS === 'number' && e.UPSTREAM_ATTEMPT_TIMEOUT_MS > e.UPSTREAM_TOTAL_TIMEOUT_MS) {
    problems.push('UPSTREAM_ATTEMPT_TIMEOUT_MS must not exceed UPSTREAM_TOTAL_TIMEOUT_MS')
  }
  const corsOrigins = commaList(e.CORS_ORIGINS)
  for (const origin of corsOrigins) {
    if (!/^https?:\/\/[^/\s]+$/.test(origin)) problems.push(`CORS_ORIGINS: "${origin.slice(0, 100)}" is not an origin like https://tools.example.com`)
  }
  if (problems.length > 0) throw new ConfigError(problems)

  return {
    host: e.HOST,
    port: e.PORT,
    logLevel: e.LOG_LEVEL,
    publicBasePath: e.PUBLIC_BASE_PATH,
    corsOrigins,
    providers,
    authing: useSandbox
      ? undefined
      : { host: authingHost as string, credentials: { accessKeyId: e.AUTHING_ACCESS_KEY_ID as string, accessKeySecret: secret as string } },
    authingOptions: { lang: e.AUTHING_LANG, tenantId: e.AUTHING_TENANT_ID, authMode: e.AUTHING_AUTH_MODE },
    sandbox: useSandbox ? { missingRelation: e.SANDBOX_MISSING_RELATION } : undefined,
    callers: {
      file: e.CALLERS_FILE,
      rateLimitMax: e.CALLER_RATE_LIMIT_MAX,
      rateLimitWindowMs: e.CALLER_RATE_LIMIT_WINDOW_MS,
      maxInFlight: e.CALLER_MAX_IN_FLIGHT,
      unauthenticatedRateLimitMax: e.UNAUTHENTICATED_RATE_LIMIT_MAX
    },
    audit: { path: e.AUDIT_LOG_PATH, hmacKey: hmacKey as string, rotateBytes: e.AUDIT_ROTATE_BYTES, rotateDaily: e.AUDIT_ROTATE_DAILY },
    upstream: {
      attemptTimeoutMs: e.UPSTREAM_ATTEMPT_TIMEOUT_MS,
      totalTimeoutMs: e.UPSTREAM_TOTAL_TIMEOUT_MS,
      maxAttempts: e.UPSTREAM_MAX_ATTEMPTS,
      retryBaseMs: e.UPSTREAM_RETRY_BASE_MS,
      retryMaxDelayMs: e.UPSTREAM_RETRY_MAX_DELAY_MS,
      maxConcurrency: e.UPSTREAM_MAX_CONCURRENCY,
      maxQueue: e.UPSTREAM_MAX_QUEUE,
      keepAliveTimeoutMs: e.UPSTREAM_KEEP_ALIVE_TIMEOUT_MS,
      breakerFailureThreshold: e.BREAKER_FAILURE_THRESHOLD,
      breakerOpenMs: e.BREAKER_OPEN_MS
    },
    metricsEnabled: e.METRICS_ENABLED,
    requestTimeoutMs: e.REQUEST_TIMEOUT_MS,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS
  }
}
