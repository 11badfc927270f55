// Authing's AK/SK request signature, reproduced from the official Node SDK so that Authing cannot tell
// the two apart (authing-contract.md §1a; vectors in §1d and authing-capture.json). Pure functions only.
import { createHmac, randomBytes } from 'node:crypto'

export const SIGNATURE_METHOD = 'HMAC-SHA1'
export const SIGNATURE_VERSION = '1.0'
/**
 * The SDK identifies itself in a signed header. We send the tag of the SDK release whose algorithm we
 * reproduce, so that the server treats our requests exactly as it treats that SDK's.
 */
export const SDK_VERSION_TAG = 'authing-node-sdk:4.0.1'
export const AUTHORIZATION_SCHEME = 'authing'

/** Headers that take part in the signature: every `x-authing-*` header, and `date`. */
export function isSignedHeader (name: string): boolean {
  return name === 'date' || name.startsWith('x-authing-')
}

/** Tabs, line breaks and form feeds become spaces, then the value is trimmed (as the SDK does). */
function canonicalValue (value: string): string {
  return value.replace(/[\t\n\r\f]/g, ' ').trim()
}

export function canonicalHeaders (headers: Readonly<Record<string, string>>): string {
  return Object.keys(headers)
    .filter(isSignedHeader)
    .sort()
    .map((name) => `${name}:${canonicalValue(headers[name] ?? '')}\n`)
    .join('')
}

function canonicalParameterValue (value: unknown): string {
  if (value === null) return 'null'
  if (typeof value === 'object') return JSON.stringify(value)
  return String(value)
}

/**
 * The path, then the body's top-level fields as `?k=v&k=v` in sorted key order, with nothing
 * URL-encoded. Undefined fields are skipped, but (an SDK quirk) still cause the `?`.
 */
export function canonicalResource (path: string, body: Readonly<Record<string, unknown>>): string {
  const keys = Object.keys(body).sort()
  if (keys.length === 0) return path
  const pairs = keys
    .filter((key) => body[key] !== undefined)
    .map((key) => `${key}=${canonicalParameterValue(body[key])}`)
  return `${path}?${pairs.join('&')}`
}

export function stringToSign (
  method: string,
  headers: Readonly<Record<string, string>>,
  path: string,
  body: Readonly<Record<string, unknown>>
): string {
  return `${method}\n${canonicalHeaders(headers)}${canonicalResource(path, body)}`
}

export function computeSignature (secret: string, text: string): string {
  return createHmac('sha1', secret).update(text, 'utf8').digest('base64')
}

export function authorizationValue (accessKeyId: string, signature: string): string {
  return `${AUTHORIZATION_SCHEME} ${accessKeyId}:${signature}`
}

/** Splits `authing <AK>:<signature>`; undefined when the value has another shape. */
export function parseAuthorization (value: string): { accessKeyId: string, signature: string } | undefined {
  const match = /^authing ([^:\s]+):(\S+)$/.exec(value)
  if (match === null) return undefined
  return { accessKeyId: match[1] as string, signature: match[2] as string }
}

/** 32 lowercase hex characters, new for every request: Authing refuses a nonce it has already seen. */
export function newNonce (): string {
  return randomBytes(16).toString('hex')
}

export interface SignInput {
  accessKeyId: string
  accessKeySecret: string
  method: 'POST'
  path: string
  body: Readonly<Record<string, unknown>>
  lang: string
  tenantId?: string | undefined
  date: Date
  nonce: string
}

/** The full header set for one attempt, signed last so nothing signed changes afterwards. */
export function signedHeaders (input: SignInput): Record<string, string> {
  const headers: Record<string, string> = {
    'x-authing-signature-nonce': input.nonce,
    'x-authing-signature-method': SIGNATURE_METHOD,
    'x-authing-signature-version': SIGNATURE_VERSION,
    'x-authing-sdk-version': SDK_VERSION_TAG,
    'x-authing-lang': input.lang,
    date: input.date.toUTCString()
  }
  if (input.tenantId) headers['x-authing-app-id'] = input.tenantId
  const signature = computeSignature(input.accessKeySecret, stringToSign(input.method, headers, input.path, input.body))
  headers.authorization = authorizationValue(input.accessKeyId, signature)
  return headers
}
