// The vocabulary of the route: which identity sources and which kinds of user id Authing accepts.
// Source: ../shared/upstream/delete-user-sync-relations.zh-CN.md (restated in authing-contract.md §4).

/** The 11 `provider` values that Authing documents for this operation. */
export const DOCUMENTED_PROVIDERS = [
  'wechatwork',
  'dingtalk',
  'lark',
  'welink',
  'ldap',
  'active-directory',
  'italent',
  'xiaoshouyi',
  'maycur',
  'scim',
  'moka'
] as const

/** The 7 documented `userIdType` values, in Authing's exact case. */
export const USER_ID_TYPES = [
  'user_id',
  'phone',
  'email',
  'username',
  'external_id',
  'identity',
  'sync_relation'
] as const

export type UserIdType = (typeof USER_ID_TYPES)[number]

export const DEFAULT_USER_ID_TYPE: UserIdType = 'user_id'

/** Longest user id accepted, counted in characters after percent-decoding. */
export const MAX_USER_ID_LENGTH = 512

/** Provider names an operator may add: lowercase words joined by hyphens, like the documented ones. */
export const PROVIDER_NAME_PATTERN = /^[a-z0-9]+(?:-[a-z0-9]+)*$/

/** Ids of these kinds are personal data: the audit trail stores a keyed hash of them, never the value. */
export const PERSONAL_USER_ID_TYPES: ReadonlySet<string> = new Set(['email', 'phone', 'username'])

export function isUserIdType (value: string): value is UserIdType {
  return (USER_ID_TYPES as readonly string[]).includes(value)
}

// eslint-disable-next-line no-control-regex
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f-\u009f]/
const HEX_24 = /^[0-9a-fA-F]{24}$/
const EMAIL = /^[^\s@]+@[^\s@.]+(?:\.[^\s@.]+)+$/
const PHONE = /^\+?[0-9](?:[0-9 -]*[0-9])?$/

/**
 * Checks a decoded user id against the format its type implies. Returns a short message for the
 * caller, or undefined when the id is acceptable. Messages never repeat the id itself.
 */
export function userIdProblem (userId: string, userIdType: UserIdType, providers: readonly string[]): string | undefined {
  if (userId.trim() === '') return 'userId must not be blank'
  if ([...userId].length > MAX_USER_ID_LENGTH) return `userId must be at most ${MAX_USER_ID_LENGTH} characters`
  if (CONTROL_CHARACTER.test(userId)) return 'userId must not contain control characters'

  switch (userIdType) {
    case 'identity': {
      const [extIdpId, idInIdp] = splitOnce(userId)
      if (!HEX_24.test(extIdpId) || idInIdp === undefined || idInIdp.trim() === '') {
        return 'a userId of type identity must look like <24-hex extIdpId>:<id in the identity source>'
      }
      return undefined
    }
    case 'sync_relation': {
      const [provider, idInProvider] = splitOnce(userId)
      if (idInProvider === undefined || idInProvider.trim() === '' || !providers.includes(provider)) {
        return 'a userId of type sync_relation must look like <provider>:<id in that provider>, with a supported provider'
      }
      return undefined
    }
    case 'email':
      if (userId.length > 254 || !EMAIL.test(userId)) return 'a userId of type email must be an email address'
      return undefined
    case 'phone': {
      const digits = userId.replace(/[^0-9]/g, '').length
      if (!PHONE.test(userId) || digits < 5 || digits > 20) {
        return 'a userId of type phone must be a phone number: digits, optionally a leading + and spaces or hyphens'
      }
      return undefined
    }
    default:
      return undefined
  }
}

function splitOnce (value: string): [string, string | undefined] {
  const at = value.indexOf(':')
  return at === -1 ? [value, undefined] : [value.slice(0, at), value.slice(at + 1)]
}
