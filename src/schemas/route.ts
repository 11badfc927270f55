// The route's schema: one TypeBox source for validation, the handler's types and the OpenAPI document.
// Built per app because the provider list is configurable (AUTHING_EXTRA_PROVIDERS).
import { Type, type Static, type TSchema } from '@sinclair/typebox'
import { ERROR_CATALOG, type ErrorCode } from '../errors.ts'
import { DEFAULT_USER_ID_TYPE, DOCUMENTED_PROVIDERS, MAX_USER_ID_LENGTH, USER_ID_TYPES, type UserIdType } from './identifiers.ts'

export const ROUTE_URL = '/users/:userId/sync-relations/:provider'

export const SuccessEnvelopeSchema = Type.Object({
  statusCode: Type.Literal(200, { description: 'Authing business status: 200 means the call succeeded.', examples: [200] }),
  message: Type.String({ minLength: 0, description: "Authing's message, in AUTHING_LANG (may be empty).", examples: ['操作成功'] }),
  requestId: Type.Optional(Type.String({ minLength: 0, description: "Authing's request id (quote it to Authing support).", examples: ['934108e5-9fbf-4d24-8da1-c330328abd6c'] })),
  data: Type.Object({
    success: Type.Boolean({ description: 'Whether Authing removed the relation.', examples: [true] })
  }, { additionalProperties: false })
}, {
  $id: 'IsSuccessRespDto',
  title: 'IsSuccessRespDto',
  description: "Authing's answer, passed through unchanged. The service's own request id is in the X-Request-Id header.",
  additionalProperties: false,
  examples: [{ statusCode: 200, message: '操作成功', requestId: '934108e5-9fbf-4d24-8da1-c330328abd6c', data: { success: true } }]
})

export type SuccessEnvelopeBody = Static<typeof SuccessEnvelopeSchema>

const ERROR_CODES = Object.keys(ERROR_CATALOG) as ErrorCode[]

export const ErrorEnvelopeSchema = Type.Object({
  statusCode: Type.Integer({ description: 'The HTTP status of this response.', examples: [404] }),
  code: Type.Unsafe<ErrorCode>({ type: 'string', enum: ERROR_CODES, description: 'Stable, machine-readable error code (see the README error table).', examples: ['USER_NOT_FOUND'] }),
  message: Type.String({ minLength: 1, description: 'What went wrong, for humans. Never contains secrets or internals.', examples: ['用户不存在'] }),
  requestId: Type.String({ minLength: 1, description: "This service's request id, the same as the X-Request-Id header.", examples: ['b3f1c2d4-5e6f-4a7b-8c9d-0e1f2a3b4c5d'] }),
  apiCode: Type.Optional(Type.Integer({ description: "Authing's detailed error code, when Authing gave one.", examples: [2004] })),
  authingStatusCode: Type.Optional(Type.Integer({ description: "Authing's business statusCode, when the error came from Authing.", examples: [404] })),
  authingRequestId: Type.Optional(Type.String({ minLength: 0, description: "Authing's request id, when the error came from Authing.", examples: ['c8a2e6f0-1b2c-4d3e-8f9a-0b1c2d3e4f5a'] }))
}, {
  $id: 'ErrorEnvelope',
  title: 'ErrorEnvelope',
  description: 'The one envelope of every error this service returns.',
  additionalProperties: false
})

function enumOf<T extends string> (values: readonly T[], options: Record<string, unknown>): TSchema {
  return Type.Unsafe<T>({ type: 'string', enum: [...values], ...options })
}

const PROVIDER_DESCRIPTIONS: Record<string, string> = {
  wechatwork: 'WeCom (企业微信)',
  dingtalk: 'DingTalk (钉钉)',
  lark: 'Lark / Feishu (飞书)',
  welink: 'WeLink',
  ldap: 'LDAP',
  'active-directory': 'Windows AD',
  italent: 'Beisen iTalent (北森)',
  xiaoshouyi: 'Xiaoshouyi (销售易)',
  maycur: 'Maycur (每刻报销)',
  scim: 'SCIM',
  moka: 'Moka HR'
}

export function routeParamsSchema (providers: readonly string[]): TSchema {
  const listed = providers.map((provider) => `\`${provider}\`${PROVIDER_DESCRIPTIONS[provider] ? ` (${PROVIDER_DESCRIPTIONS[provider]})` : ''}`).join(', ')
  const extra = providers.filter((provider) => !(DOCUMENTED_PROVIDERS as readonly string[]).includes(provider))
  return Type.Object({
    userId: Type.String({
      minLength: 1,
      maxLength: MAX_USER_ID_LENGTH,
      description: `The user, in the form its userIdType says; percent-encode reserved characters (\`/\` as %2F, \`+\` stays a plus). At most ${MAX_USER_ID_LENGTH} characters after decoding.\n\n` +
        '- `identity`: `<24-hex extIdpId>:<id in the identity source>`\n- `sync_relation`: `<provider>:<id in that provider>`\n- `email`, `phone`: must look like one.',
      examples: ['6229ffaa0b1c2d3e4f5a6b7c']
    }),
    provider: enumOf(providers, {
      description: `The external identity source whose relation is removed: ${listed}.${extra.length > 0 ? ` Added by this deployment: ${extra.join(', ')}.` : ''}`,
      examples: ['lark']
    })
  }, { additionalProperties: false })
}

export const QuerySchema = Type.Object({
  userIdType: Type.Optional(enumOf(USER_ID_TYPES, {
    default: DEFAULT_USER_ID_TYPE,
    description: 'What kind of id `userId` is: `user_id` (Authing user id), `phone`, `email`, `username`, `external_id` (the user\'s externalId), `identity` or `sync_relation`. Exact case.',
    examples: ['user_id']
  }))
}, { additionalProperties: false })

export interface RouteParams { userId: string, provider: string }
export interface RouteQuery { userIdType?: UserIdType }

/** Example error bodies for the OpenAPI document, one per code that a status can carry. */
export function errorExamples (codes: readonly ErrorCode[]): Record<string, { summary: string, value: Record<string, unknown> }> {
  const examples: Record<string, { summary: string, value: Record<string, unknown> }> = {}
  for (const code of codes) {
    const spec = ERROR_CATALOG[code]
    const value: Record<string, unknown> = { statusCode: spec.status, code, message: spec.message, requestId: 'b3f1c2d4-5e6f-4a7b-8c9d-0e1f2a3b4c5d' }
    if (code === 'USER_NOT_FOUND') Object.assign(value, { message: '用户不存在', apiCode: 2004, authingStatusCode: 404, authingRequestId: 'c8a2e6f0-1b2c-4d3e-8f9a-0b1c2d3e4f5a' })
    if (code === 'UPSTREAM_AUTH_REJECTED') Object.assign(value, { apiCode: 1300, authingStatusCode: 401 })
    examples[code] = { summary: spec.message, value }
  }
  return examples
}

/** Codes answered for requests that never matched the route (documented in the README, not on the operation). */
const NOT_ROUTE_ANSWERS: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['NOT_FOUND', 'METHOD_NOT_ALLOWED', 'REQUEST_TIMEOUT', 'EXPECTATION_FAILED', 'HEADERS_TOO_LARGE', 'INTERNAL_ERROR'])

/** Which error codes the route can answer with, per HTTP status (for the OpenAPI document). */
export function codesByStatus (): Map<number, ErrorCode[]> {
  const byStatus = new Map<number, ErrorCode[]>()
  for (const code of ERROR_CODES) {
    if (NOT_ROUTE_ANSWERS.has(code)) continue
    const status = ERROR_CATALOG[code].status
    byStatus.set(status, [...(byStatus.get(status) ?? []), code])
  }
  return byStatus
}
