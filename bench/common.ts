// What every part of the bench agrees on: the request mix, the upstream's answer, the bench caller.
import { DOCUMENTED_PROVIDERS } from '../src/schemas/identifiers.ts'

export const DELETE_PATH = '/api/v3/delete-user-sync-relations'

/** The bench caller's key (its SHA-256 goes into the CALLERS_FILE of the service under test). */
export const BENCH_KEY = 'srp_bench-caller-key-not-a-secret-0000000000000000'
export const BENCH_ACCESS_KEY_ID = '65a0c0ffee0000000000b001'
export const BENCH_ACCESS_KEY_SECRET = 'bench-access-key-secret-not-a-secret'
export const BENCH_HMAC_KEY = 'bench-audit-hmac-key-not-a-secret'

export interface MixEntry {
  provider: string
  userId: string
  userIdType: 'user_id' | 'email' | 'username' | 'external_id'
}

/**
 * 512 distinct (user, provider, id type) combinations, cycled by every connection: ids of four types
 * (two of them personal, so the audit trail HMACs them), across the 11 documented providers.
 */
export function requestMix (size = 512): MixEntry[] {
  const types: Array<MixEntry['userIdType']> = ['user_id', 'email', 'username', 'external_id']
  const mix: MixEntry[] = []
  for (let i = 0; i < size; i++) {
    const userIdType = types[i % types.length] as MixEntry['userIdType']
    const provider = DOCUMENTED_PROVIDERS[i % DOCUMENTED_PROVIDERS.length] as string
    const n = String(i).padStart(4, '0')
    const userId = userIdType === 'user_id'
      ? `6229ffaa0b1c2d3e4f5a${n}`
      : userIdType === 'email'
        ? `user.${n}+hr@example.com`
        : userIdType === 'username'
          ? `user${n}`
          : `dept/${i % 50}:emp-${n}`
    mix.push({ provider, userId, userIdType })
  }
  return mix
}

/** The inbound route for one mix entry (what callers of the service send). */
export function routePath (entry: MixEntry): string {
  const query = entry.userIdType === 'user_id' ? '' : `?userIdType=${entry.userIdType}`
  return `/users/${encodeURIComponent(entry.userId)}/sync-relations/${entry.provider}${query}`
}

/** Authing's success answer, as the stub sends it. */
export function stubAnswer (requestId: string): string {
  return `{"statusCode":200,"message":"ok","requestId":"${requestId}","data":{"success":true}}`
}
