// Every failure this service reports has a stable `code`, an HTTP status and a fixed message. The
// catalog below is the single source for the error envelope, the OpenAPI examples and the README table.

export interface ErrorSpec {
  readonly status: number
  readonly message: string
  /** Who can act on it: the caller (fix the request) or the operator (fix the deployment or wait). */
  readonly fix: 'caller' | 'operator'
}

export const ERROR_CATALOG = {
  // Rejected by this service before anything is sent to Authing.
  INVALID_USER_ID: { status: 400, fix: 'caller', message: 'The userId is not valid for its userIdType.' },
  INVALID_USER_ID_TYPE: { status: 400, fix: 'caller', message: 'The userIdType is not one of the supported values.' },
  UNSUPPORTED_PROVIDER: { status: 400, fix: 'caller', message: 'The provider is not one of the supported identity sources.' },
  UNKNOWN_QUERY_PARAMETER: { status: 400, fix: 'caller', message: 'The request has a query parameter this route does not accept.' },
  REPEATED_QUERY_PARAMETER: { status: 400, fix: 'caller', message: 'A query parameter was given more than once.' },
  MALFORMED_URL: { status: 400, fix: 'caller', message: 'The URL is not well-formed (check its percent-encoding).' },
  INVALID_REQUEST: { status: 400, fix: 'caller', message: 'The request is not valid.' },
  UNAUTHENTICATED: { status: 401, fix: 'caller', message: 'A valid caller key is required: send Authorization: Bearer <key>.' },
  FORBIDDEN_PROVIDER: { status: 403, fix: 'caller', message: 'This caller may not remove relations for this provider.' },
  NOT_FOUND: { status: 404, fix: 'caller', message: 'No such route.' },
  METHOD_NOT_ALLOWED: { status: 405, fix: 'caller', message: 'This route only accepts DELETE.' },
  PAYLOAD_TOO_LARGE: { status: 413, fix: 'caller', message: 'The request body is too large.' },
  RATE_LIMITED: { status: 429, fix: 'caller', message: 'This caller has sent too many requests; retry after the time in Retry-After.' },
  TOO_MANY_IN_FLIGHT: { status: 429, fix: 'caller', message: 'This caller has too many requests in progress; retry after the time in Retry-After.' },
  REQUEST_TIMEOUT: { status: 408, fix: 'caller', message: 'The request was not received in time.' },
  EXPECTATION_FAILED: { status: 417, fix: 'caller', message: 'The Expect header cannot be met (only 100-continue is supported).' },
  HEADERS_TOO_LARGE: { status: 431, fix: 'caller', message: 'The request headers are too large.' },

  // Answered by Authing: the caller can act on these.
  AUTHING_INVALID_ARGUMENT: { status: 400, fix: 'caller', message: 'Authing rejected the request as invalid.' },
  USER_NOT_FOUND: { status: 404, fix: 'caller', message: 'Authing found no user with this id.' },
  AUTHING_NOT_FOUND: { status: 404, fix: 'caller', message: 'Authing found nothing to remove for this user and provider.' },
  AUTHING_CONFLICT: { status: 409, fix: 'caller', message: 'Authing reported a conflict.' },
  AUTHING_INVALID_OPERATION: { status: 422, fix: 'caller', message: 'Authing refused the operation in the current state.' },
  AUTHING_THROTTLED: { status: 429, fix: 'caller', message: 'Authing is throttling requests; retry after the time in Retry-After.' },

  // Only an operator can fix these, or they are upstream faults.
  UPSTREAM_AUTH_REJECTED: { status: 502, fix: 'operator', message: "Authing rejected this service's credentials or signature." },
  UPSTREAM_FORBIDDEN: { status: 502, fix: 'operator', message: "This service's Authing key lacks the permission for this operation." },
  UPSTREAM_BILLING: { status: 502, fix: 'operator', message: 'Authing refused the call for a billing reason.' },
  UPSTREAM_MISCONFIGURED: { status: 502, fix: 'operator', message: 'The Authing host or user pool is misconfigured.' },
  UPSTREAM_ERROR: { status: 502, fix: 'operator', message: 'Authing failed to process the request.' },
  UPSTREAM_BAD_RESPONSE: { status: 502, fix: 'operator', message: 'Authing sent a response this service cannot read.' },
  UPSTREAM_CONNECTION_FAILED: { status: 502, fix: 'operator', message: 'The connection to Authing failed.' },
  UPSTREAM_UNAVAILABLE: { status: 503, fix: 'operator', message: 'Authing is unavailable; retry later.' },
  UPSTREAM_OVERLOADED: { status: 503, fix: 'operator', message: 'Too many calls to Authing are in progress; retry after the time in Retry-After.' },
  UPSTREAM_CIRCUIT_OPEN: { status: 503, fix: 'operator', message: 'Calls to Authing are paused after repeated failures; retry after the time in Retry-After.' },
  UPSTREAM_TIMEOUT: { status: 504, fix: 'operator', message: 'Authing did not answer in time. The relation may or may not have been removed.' },
  AUDIT_UNAVAILABLE: { status: 503, fix: 'operator', message: 'The audit trail cannot be written, so nothing was sent to Authing.' },
  SHUTTING_DOWN: { status: 503, fix: 'operator', message: 'The service is shutting down; retry on another instance.' },
  INTERNAL_ERROR: { status: 500, fix: 'operator', message: 'An internal error occurred.' }
} as const satisfies Record<string, ErrorSpec>

export type ErrorCode = keyof typeof ERROR_CATALOG

/** What Authing said, when an error came from an Authing answer. */
export interface AuthingFacts {
  statusCode?: number
  apiCode?: number
  requestId?: string
}

export interface ServiceErrorOptions {
  /** Replaces the catalog message; used for validation details and Authing's own caller-facing text. */
  message?: string
  authing?: AuthingFacts
  /** Seconds, sent as Retry-After. */
  retryAfter?: number
  headers?: Record<string, string>
}

/** A failure with a stable code. Its message is always safe to show to the caller. */
export class ServiceError extends Error {
  readonly code: ErrorCode
  readonly statusCode: number
  readonly authing: AuthingFacts | undefined
  readonly retryAfter: number | undefined
  readonly headers: Record<string, string>

  constructor (code: ErrorCode, options: ServiceErrorOptions = {}) {
    super(options.message ?? ERROR_CATALOG[code].message)
    this.name = 'ServiceError'
    this.code = code
    this.statusCode = ERROR_CATALOG[code].status
    this.authing = options.authing
    this.retryAfter = options.retryAfter
    this.headers = options.headers ?? {}
  }
}

export function isServiceError (error: unknown): error is ServiceError {
  return error instanceof ServiceError
}

/** The one error envelope: Authing's field names, plus `code` and what Authing said, if anything. */
export interface ErrorEnvelope {
  statusCode: number
  code: ErrorCode
  message: string
  requestId: string
  apiCode?: number
  authingStatusCode?: number
  authingRequestId?: string
}

export function errorEnvelope (error: ServiceError, requestId: string): ErrorEnvelope {
  const envelope: ErrorEnvelope = {
    statusCode: error.statusCode,
    code: error.code,
    message: error.message,
    requestId
  }
  if (error.authing?.apiCode !== undefined) envelope.apiCode = error.authing.apiCode
  if (error.authing?.statusCode !== undefined) envelope.authingStatusCode = error.authing.statusCode
  if (error.authing?.requestId !== undefined) envelope.authingRequestId = error.authing.requestId
  return envelope
}
