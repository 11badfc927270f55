// The sandbox's demo tenant: a few users with every kind of id and some sync relations to remove.
// The README lists this data; tests use it. Deleting changes only this in-memory copy.

export interface SeedUser {
  userId: string
  name: string
  username: string
  email: string
  phone: string
  externalId: string
  /** Identities by Authing identity-source id. */
  identities: Array<{ extIdpId: string, userIdInIdp: string }>
  /** Sync relations by provider. */
  relations: Record<string, string>
}

export const LARK_EXT_IDP_ID = '62f20932716fbcc10d966ee5'
export const WECOM_EXT_IDP_ID = '62f20932716fbcc10d966ee6'

export const SEED_USERS: readonly SeedUser[] = [
  {
    userId: '6229ffaa0b1c2d3e4f5a6b7c',
    name: '张三',
    username: 'zhangsan',
    email: 'zhangsan@example.com',
    phone: '13800138000',
    externalId: 'EMP-1001',
    identities: [{ extIdpId: LARK_EXT_IDP_ID, userIdInIdp: 'ou_8bae746eac07cd2564654140d2a9ac61' }],
    relations: { lark: 'ou_8bae746eac07cd2564654140d2a9ac61', wechatwork: 'ZhangSan', dingtalk: 'manager4321' }
  },
  {
    userId: '6229ffaa0b1c2d3e4f5a6b7d',
    name: '李四',
    username: 'lisi',
    email: 'li.si+hr@example.com',
    phone: '+86 139-0013-9000',
    externalId: 'dept/42:lisi',
    identities: [{ extIdpId: WECOM_EXT_IDP_ID, userIdInIdp: 'LiSi' }],
    relations: { wechatwork: 'LiSi', moka: 'moka-2001', ldap: 'uid=lisi,ou=people,dc=example,dc=com' }
  },
  {
    userId: '6229ffaa0b1c2d3e4f5a6b7e',
    name: '王五',
    username: '王五',
    email: 'wangwu@example.com',
    phone: '13700137000',
    externalId: 'EMP-1003',
    identities: [{ extIdpId: LARK_EXT_IDP_ID, userIdInIdp: 'ou_5f0c1e8d2b7a4c3e9d6f1a2b3c4d5e6f' }],
    relations: {
      lark: 'ou_5f0c1e8d2b7a4c3e9d6f1a2b3c4d5e6f',
      'active-directory': 'CN=Wang Wu,OU=Staff,DC=corp,DC=example',
      scim: '2819c223-7f76-453a-919d-413861904646',
      italent: 'it-3003',
      xiaoshouyi: 'xsy-3003',
      maycur: 'mc-3003',
      welink: 'wl-3003'
    }
  },
  {
    userId: '6229ffaa0b1c2d3e4f5a6b7f',
    name: '赵六',
    username: 'zhaoliu',
    email: 'zhaoliu@example.com',
    phone: '13600136000',
    externalId: 'EMP-1004',
    identities: [],
    relations: {}
  }
]

export type LookupType = 'user_id' | 'phone' | 'email' | 'username' | 'external_id' | 'identity' | 'sync_relation'

/** A mutable copy of the seed, with Authing's seven ways of finding a user. */
export class DemoTenant {
  readonly users: SeedUser[]

  constructor (seed: readonly SeedUser[] = SEED_USERS) {
    this.users = structuredClone(seed) as SeedUser[]
  }

  find (userIdType: LookupType, userId: string): SeedUser | undefined {
    return this.users.find((user) => {
      switch (userIdType) {
        case 'user_id': return user.userId === userId
        case 'phone': return user.phone === userId
        case 'email': return user.email === userId
        case 'username': return user.username === userId
        case 'external_id': return user.externalId === userId
        case 'identity': return user.identities.some((identity) => `${identity.extIdpId}:${identity.userIdInIdp}` === userId)
        case 'sync_relation': return Object.entries(user.relations).some(([provider, id]) => `${provider}:${id}` === userId)
        default: return false
      }
    })
  }

  /** Removes the user's relation with `provider`; false when there was none. */
  removeRelation (user: SeedUser, provider: string): boolean {
    if (!Object.hasOwn(user.relations, provider)) return false
    delete user.relations[provider]
    return true
  }
}
