// Which user ids the proxy sends to Authing and which it refuses up front (authing-contract.md §4 gives
// the formats; the limits are this service's own choice). userIdProblem receives the id already decoded.
import t from 'tap'
import {
  DOCUMENTED_PROVIDERS,
  isUserIdType,
  MAX_USER_ID_LENGTH,
  USER_ID_TYPES,
  userIdProblem,
  type UserIdType
} from '../../src/schemas/identifiers.ts'

const PROVIDERS: readonly string[] = DOCUMENTED_PROVIDERS

/** The few assertions the helpers below use, so they take any tap test. */
interface Asserts {
  equal: (found: unknown, wanted: unknown, message: string) => boolean
  match: (found: unknown, pattern: RegExp, message: string) => boolean
  notOk: (value: unknown, message: string) => boolean
}
const EXT_IDP = '62f20932716fbcc10d966ee5'

function accepts (t: Asserts, type: UserIdType, ids: readonly string[], providers = PROVIDERS): void {
  for (const id of ids) t.equal(userIdProblem(id, type, providers), undefined, `accepts ${JSON.stringify(id).slice(0, 60)}`)
}

function refuses (t: Asserts, type: UserIdType, ids: readonly string[], pattern: RegExp, providers = PROVIDERS): void {
  for (const id of ids) {
    const problem = userIdProblem(id, type, providers)
    t.match(problem, pattern, `refuses ${JSON.stringify(id).slice(0, 60)}`)
    if (id.trim().length >= 3 && problem !== undefined) t.notOk(problem.includes(id), 'the message does not repeat the id')
  }
}

t.test('every userIdType', async (t) => {
  for (const type of USER_ID_TYPES) {
    t.test(`${type}: refuses a blank id`, async (t) => {
      refuses(t, type, ['', ' ', '   ', '\t', '\u00a0', '\u3000 '], /must not be blank/)
    })

    t.test(`${type}: refuses control characters anywhere`, async (t) => {
      const controls = ['\u0000', '\u0001', '\t', '\n', '\r', '\u001b', '\u001f', '\u007f', '\u0080', '\u009f']
      refuses(t, type, controls.map((c) => `lark:ab${c}cd`), /control characters/)
    })

    t.test(`${type}: refuses more than ${MAX_USER_ID_LENGTH} characters`, async (t) => {
      refuses(t, type, ['a'.repeat(513), '张'.repeat(513), '😀'.repeat(513)], /at most 512 characters/)
    })
  }
})

t.test('length is counted in code points, not UTF-16 units or bytes', async (t) => {
  t.equal(MAX_USER_ID_LENGTH, 512)
  accepts(t, 'username', [
    'a'.repeat(512),
    '张'.repeat(512), // 1536 bytes in UTF-8
    '😀'.repeat(512), // 1024 UTF-16 units
    'a😀'.repeat(256)
  ])
  refuses(t, 'username', ['a'.repeat(511) + '😀😀', '张'.repeat(511) + '😀😀'], /at most 512/)
  accepts(t, 'identity', [`${EXT_IDP}:${'x'.repeat(512 - 25)}`])
  refuses(t, 'identity', [`${EXT_IDP}:${'x'.repeat(513 - 25)}`], /at most 512/)
})

t.test('identity: <24-hex extIdpId>:<id in the identity source>', async (t) => {
  accepts(t, 'identity', [
    `${EXT_IDP}:ou_8bae746eac07cd2564654140d2a9ac61`,
    `${EXT_IDP.toUpperCase()}:x`,
    `${EXT_IDP}:a:b:c`,
    `${EXT_IDP}:张三`
  ])
  refuses(t, 'identity', [
    'ou_8bae746eac07cd2564654140d2a9ac61',
    `${EXT_IDP}`,
    `${EXT_IDP}:`,
    `${EXT_IDP}:   `,
    `${EXT_IDP.slice(1)}:x`,
    `${EXT_IDP}0:x`,
    `${EXT_IDP.slice(1)}g:x`,
    `:${EXT_IDP}`,
    `lark:${EXT_IDP}`
  ], /type identity must look like/)
})

t.test('sync_relation: <supported provider>:<id in that provider>', async (t) => {
  accepts(t, 'sync_relation', [
    'lark:ou_8bae746eac07cd2564654140d2a9ac61',
    'wechatwork:LiSi',
    'active-directory:CN=Wang Wu,OU=Staff,DC=corp',
    'ldap:uid=lisi:x'
  ])
  for (const provider of DOCUMENTED_PROVIDERS) accepts(t, 'sync_relation', [`${provider}:x`])
  refuses(t, 'sync_relation', [
    'unknown:x',
    'Lark:x',
    'lark',
    'lark:',
    'lark: ',
    ':x',
    ' lark:x'
  ], /type sync_relation must look like/)

  t.test('a provider added by the operator is accepted only when configured', async (t) => {
    refuses(t, 'sync_relation', ['custom-hr:x'], /sync_relation/)
    accepts(t, 'sync_relation', ['custom-hr:x'], [...PROVIDERS, 'custom-hr'])
  })
})

t.test('email', async (t) => {
  accepts(t, 'email', [
    'zhangsan@example.com',
    'li.si+hr@example.com',
    'a@b.co',
    'UPPER@EXAMPLE.COM',
    '张三@例子.中国',
    `${'a'.repeat(242)}@example.com` // 254 characters
  ])
  refuses(t, 'email', [
    'abc',
    'a@b',
    '@example.com',
    'a@',
    'a b@example.com',
    'a@@example.com',
    'a@example..com',
    'a@.example.com',
    'a@example.com.',
    `${'a'.repeat(243)}@example.com` // 255 characters
  ], /must be an email address/)
})

t.test('phone', async (t) => {
  accepts(t, 'phone', [
    '+86 139-0013-9000',
    '13800138000',
    '+1 202 555 0100',
    '138 0013 8000',
    '12345',
    '1'.repeat(20)
  ])
  refuses(t, 'phone', [
    'abc',
    '12',
    '1234',
    '++1',
    '+',
    '+86 abc',
    '-13800138000',
    '13800138000-',
    ' 13800138000',
    '1'.repeat(21)
  ], /must be a phone number/)
})

t.test('user_id, username and external_id accept anything that is not blank', async (t) => {
  const anything = ['x', '王五', 'dept/42:lisi', 'not-an-objectid', '%zz', ' padded ', 'a@b', '++1', 'unknown:x', 'a\u00a0b']
  for (const type of ['user_id', 'username', 'external_id'] as const) accepts(t, type, anything)
})

t.test('isUserIdType knows exactly the seven documented types, in their exact case', async (t) => {
  t.same([...USER_ID_TYPES].sort(), ['email', 'external_id', 'identity', 'phone', 'sync_relation', 'user_id', 'username'])
  for (const type of USER_ID_TYPES) t.ok(isUserIdType(type), type)
  for (const other of ['USER_ID', 'userId', 'custom_field', '', 'user_id ']) t.notOk(isUserIdType(other), JSON.stringify(other))
})
