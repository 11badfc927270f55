// Who may call, and for which providers. The callers file holds only SHA-256 hashes of keys, so a
// leaked file grants nothing. A presented key is hashed and compared with every configured hash in
// constant time, without stopping at the first match.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import { Type, type Static } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'

export const KEY_HASH_PATTERN = '^sha256:[0-9a-f]{64}$'
const CALLER_NAME_PATTERN = '^[a-z0-9][a-z0-9._-]{0,63}$'

export const CallerEntrySchema = Type.Object({
  name: Type.String({ pattern: CALLER_NAME_PATTERN, description: 'Shown in logs, metrics and the audit trail.' }),
  keys: Type.Array(Type.String({ pattern: KEY_HASH_PATTERN }), { minItems: 1, maxItems: 4, description: 'Hashes of the keys this caller may present: one, or two while rotating.' }),
  providers: Type.Array(Type.String({ minLength: 1 }), { minItems: 1, description: 'Providers this caller may act on; ["*"] for all.' }),
  rateLimitMax: Type.Optional(Type.Integer({ minimum: 1, description: 'Overrides CALLER_RATE_LIMIT_MAX for this caller.' })),
  maxInFlight: Type.Optional(Type.Integer({ minimum: 1, description: 'Overrides CALLER_MAX_IN_FLIGHT for this caller.' }))
}, { additionalProperties: false })

export const CallersFileSchema = Type.Array(CallerEntrySchema)

export type CallerEntry = Static<typeof CallerEntrySchema>

export interface Caller {
  readonly name: string
  /** Undefined means every provider. */
  readonly providers: ReadonlySet<string> | undefined
  readonly rateLimitMax: number | undefined
  readonly maxInFlight: number | undefined
}

interface KeyHash { hash: Buffer, caller: Caller }

export class CallersFileError extends Error {
  readonly problems: string[]
  constructor (problems: string[]) {
    super(`invalid callers file: ${problems.join('; ')}`)
    this.name = 'CallersFileError'
    this.problems = problems
  }
}

export function hashKey (key: string): string {
  return `sha256:${createHash('sha256').update(key, 'utf8').digest('hex')}`
}

/** A new caller key: 256 random bits, URL-safe, with a prefix that makes it recognisable in a secret scanner. */
export function generateKey (): string {
  return `srp_${randomBytes(32).toString('base64url')}`
}

/** Parses and checks a callers file's text. Throws CallersFileError listing every problem. */
function checkEntries (text: string, knownProviders: readonly string[]): CallerEntry[] {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    throw new CallersFileError(['the file is not valid JSON'])
  }
  const problems = [...Value.Errors(CallersFileSchema, value)].map((error) => `${error.path || '/'}: ${error.message}`)
  if (problems.length > 0) throw new CallersFileError(problems.slice(0, 20))
  const entries = value as CallerEntry[]
  const names = new Set<string>()
  const hashes = new Set<string>()
  for (const [index, entry] of entries.entries()) {
    if (names.has(entry.name)) problems.push(`/${index}/name: "${entry.name}" appears twice`)
    names.add(entry.name)
    for (const key of entry.keys) {
      if (hashes.has(key)) problems.push(`/${index}/keys: a key hash is used more than once`)
      hashes.add(key)
    }
    const wildcard = entry.providers.includes('*')
    if (wildcard && entry.providers.length > 1) problems.push(`/${index}/providers: "*" must stand alone`)
    for (const provider of entry.providers) {
      if (provider !== '*' && !knownProviders.includes(provider)) problems.push(`/${index}/providers: unknown provider "${provider.slice(0, 64)}"`)
    }
  }
  if (problems.length > 0) throw new CallersFileError(problems)
  return entries
}

function buildKeyHashes (entries: CallerEntry[]): { callers: Caller[], keyHashes: KeyHash[] } {
  const callers: Caller[] = []
  const keyHashes: KeyHash[] = []
  for (const entry of entries) {
    const caller: Caller = {
      name: entry.name,
      providers: entry.providers.includes('*') ? undefined : new Set(entry.providers),
      rateLimitMax: entry.rateLimitMax,
      maxInFlight: entry.maxInFlight
    }
    callers.push(caller)
    for (const key of entry.keys) keyHashes.push({ hash: Buffer.from(key.slice('sha256:'.length), 'hex'), caller })
  }
  return { callers, keyHashes }
}

/** The callers in force. Replaced as a whole on reload, so a request sees one consistent version. */
export class CallerRegistry {
  #keyHashes: KeyHash[] = []
  #callers: Caller[] = []

  static fromText (text: string, knownProviders: readonly string[]): CallerRegistry {
    const registry = new CallerRegistry()
    registry.replace(text, knownProviders)
    return registry
  }

  /** Development only: one caller with a known key. */
  static single (name: string, key: string): CallerRegistry {
    return CallerRegistry.fromText(JSON.stringify([{ name, keys: [hashKey(key)], providers: ['*'] }]), [])
  }

  get callers (): readonly Caller[] { return this.#callers }

  /** Parses `text` and swaps it in; on any problem, throws and keeps the current callers. */
  replace (text: string, knownProviders: readonly string[]): void {
    const built = buildKeyHashes(checkEntries(text, knownProviders))
    this.#callers = built.callers
    this.#keyHashes = built.keyHashes
  }

  /** The caller that owns `key`, or undefined. Takes the same time whichever hash matches, if any. */
  authenticate (key: string): Caller | undefined {
    const presented = createHash('sha256').update(key, 'utf8').digest()
    let found: Caller | undefined
    for (const { hash, caller } of this.#keyHashes) {
      if (timingSafeEqual(presented, hash) && found === undefined) found = caller
    }
    return found
  }
}

export function mayActOn (caller: Caller, provider: string): boolean {
  return caller.providers === undefined || caller.providers.has(provider)
}
