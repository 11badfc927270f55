// Management-token mode (authing-contract.md §1b): one token serves every call until shortly before it
// expires; concurrent callers share a single refresh; a token Authing refuses is dropped and fetched anew.

export interface ManagementToken {
  token: string
  /** The user pool the token is scoped to (JWT claim `scoped_userpool_id`), sent as `x-authing-userpool-id`. */
  userPoolId: string
  expiresAt: number
}

/** Refresh this long (or a tenth of the lifetime, if shorter) before expiry, so a token never expires in flight. */
const REFRESH_MARGIN_MS = 60_000

export function userPoolIdFromJwt (token: string): string | undefined {
  const payload = token.split('.')[1]
  if (payload === undefined) return undefined
  try {
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { scoped_userpool_id?: unknown }
    return typeof claims.scoped_userpool_id === 'string' ? claims.scoped_userpool_id : undefined
  } catch {
    return undefined
  }
}

export class TokenCache {
  readonly #fetchToken: () => Promise<ManagementToken>
  readonly #now: () => number
  #current: ManagementToken | undefined
  #refreshing: Promise<ManagementToken> | undefined
  #refreshAt = 0

  constructor (fetchToken: () => Promise<ManagementToken>, now: () => number = Date.now) {
    this.#fetchToken = fetchToken
    this.#now = now
  }

  /** A valid token, fetching one if needed. Concurrent calls share one fetch. */
  async get (): Promise<ManagementToken> {
    const current = this.#current
    if (current !== undefined && this.#now() < this.#refreshAt) return current
    return this.#refresh()
  }

  /** Drops `token` if it is still the cached one (another caller may already have replaced it). */
  invalidate (token: string): void {
    if (this.#current?.token === token) this.#current = undefined
  }

  #refresh (): Promise<ManagementToken> {
    this.#refreshing ??= this.#fetchToken()
      .then((token) => {
        this.#current = token
        const lifetime = token.expiresAt - this.#now()
        this.#refreshAt = token.expiresAt - Math.min(REFRESH_MARGIN_MS, lifetime * 0.1)
        return token
      })
      .finally(() => { this.#refreshing = undefined })
    return this.#refreshing
  }
}
