// What an audit record says about a request, and how personal data is kept out of it: user ids that are
// personal data (email, phone, username) are stored as HMAC-SHA256 under AUDIT_HMAC_KEY, so an
// investigator who knows the value can find its records (`npm run audit -- find`) but a reader cannot.
import { createHmac } from 'node:crypto'
import { DOCUMENTED_PROVIDERS, PERSONAL_USER_ID_TYPES, isUserIdType } from '../schemas/identifiers.ts'

export const AUDIT_RECORD_VERSION = 1

/** `request`: answered without calling Authing. `attempt`/`outcome`: before and after a call to Authing. */
export type RecordType = 'request' | 'attempt' | 'outcome' | 'recovery' | 'lifecycle'

export type Outcome =
  | 'success' // Authing removed the relation (or reported success: false, see `authing`)
  | 'rejected' // refused by this service: validation, authentication, permission, rate limit
  | 'authing_error' // Authing answered with an error
  | 'upstream_fault' // Authing could not be reached or answered unreadably
  | 'unavailable' // this service refused to call: audit, overload, circuit open, shutting down
  | 'served' // a documentation or other non-operation request

export function keyedHash (key: string, value: string): string {
  return createHmac('sha256', key).update(value, 'utf8').digest('hex')
}

/** Longest user id stored in the clear; a longer one is stored as a keyed hash, so records stay small. */
const MAX_CLEAR_USER_ID = 256

/**
 * The user id as the trail stores it: readable only when an authenticated caller sent it with a type
 * that says it is an opaque id; otherwise (a personal or unknown type, an anonymous request, an
 * oversized value) as a keyed hash. Anyone can put anything in a URL; only callers' ids are trusted.
 */
export function userIdFields (userId: string | undefined, userIdType: string | undefined, hmacKey: string, authenticated: boolean): Record<string, string | number> {
  if (userId === undefined || userId === '') return {}
  const opaque = userIdType !== undefined && isUserIdType(userIdType) && !PERSONAL_USER_ID_TYPES.has(userIdType)
  if (opaque && authenticated && userId.length <= MAX_CLEAR_USER_ID) return { userId }
  return { userIdHmac: keyedHash(hmacKey, userId), ...(userId.length > MAX_CLEAR_USER_ID ? { userIdLength: userId.length } : {}) }
}

/** Path words that say nothing about a person; every other segment of an unmatched path is masked. */
const PATH_VOCABULARY: ReadonlySet<string> = new Set([
  'users', 'sync-relations', 'sync-relation', 'docs', 'static', 'json', 'yaml', 'health', 'live', 'ready', 'metrics',
  'api', 'v3', 'favicon.ico', 'robots.txt', ...DOCUMENTED_PROVIDERS
])

/**
 * A path as logs and the trail keep it: no query string, every segment outside a small fixed vocabulary
 * replaced by `*` (a segment may be an email, a phone number or a username), and a bounded length.
 */
export function redactedPath (url: string): string {
  const path = url.split('?', 1)[0] ?? ''
  const redacted = path.split('/').map((segment) => (segment === '' || PATH_VOCABULARY.has(segment) ? segment : '*')).join('/')
  return redacted.length > 200 ? `${redacted.slice(0, 200)}…` : redacted
}

/** Maps an HTTP status and error code of a request that never reached Authing to its outcome. */
export function localOutcome (statusCode: number, code: string | undefined): Outcome {
  if (statusCode < 400) return 'served'
  if (code === 'AUDIT_UNAVAILABLE' || code === 'UPSTREAM_OVERLOADED' || code === 'UPSTREAM_CIRCUIT_OPEN' || code === 'SHUTTING_DOWN') return 'unavailable'
  return 'rejected'
}
