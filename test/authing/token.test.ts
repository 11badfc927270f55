// The management-token cache (authing-contract.md §1b): one fetch at a time, reuse until shortly before
// expiry, drop a token only if it is the one Authing refused, and never cache a failure.
import t from 'tap'
import { TokenCache, userPoolIdFromJwt, type ManagementToken } from '../../src/authing/token.ts'

const HOUR_2 = 7200 * 1000

interface Deferred<T> { promise: Promise<T>, resolve: (value: T) => void, reject: (error: Error) => void }
function deferred<T> (): Deferred<T> {
  let resolve!: (value: T) => void
  let reject!: (error: Error) => void
  const promise = new Promise<T>((res, rej) => { resolve = res; reject = rej })
  return { promise, resolve, reject }
}

/** A fetcher that hands out token-1, token-2, … and counts its calls. */
function counter (now: () => number, lifetimeMs = HOUR_2): { fetch: () => Promise<ManagementToken>, calls: () => number } {
  let calls = 0
  return {
    fetch: async () => {
      calls += 1
      return { token: `token-${calls}`, userPoolId: 'pool', expiresAt: now() + lifetimeMs }
    },
    calls: () => calls
  }
}

function jwt (claims: Record<string, unknown>): string {
  const part = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url')
  return `${part({ alg: 'HS256', typ: 'JWT' })}.${part(claims)}.signature`
}

t.test('TokenCache', async (t) => {
  t.test('serves concurrent get() calls from a single fetch', async (t) => {
    let calls = 0
    const pending = deferred<ManagementToken>()
    const cache = new TokenCache(() => { calls += 1; return pending.promise })
    const waiting = [cache.get(), cache.get(), cache.get()]
    t.equal(calls, 1, 'one fetch while three callers wait')
    pending.resolve({ token: 'shared', userPoolId: 'pool', expiresAt: Date.now() + HOUR_2 })
    const tokens = await Promise.all(waiting)
    t.same(tokens.map((token) => token.token), ['shared', 'shared', 'shared'])
    t.equal((await cache.get()).token, 'shared', 'and later callers reuse it')
    t.equal(calls, 1)
  })

  t.test('reuses a two-hour token until one minute before it expires', async (t) => {
    let now = 1_000_000
    const source = counter(() => now)
    const cache = new TokenCache(source.fetch, () => now)
    t.equal((await cache.get()).token, 'token-1')
    now += HOUR_2 - 60_001
    t.equal((await cache.get()).token, 'token-1', 'still cached 60.001 s before expiry')
    now += 1
    t.equal((await cache.get()).token, 'token-2', 'refreshed 60 s before expiry')
    t.equal(source.calls(), 2)
  })

  t.test('refreshes a short-lived token a tenth of its lifetime early', async (t) => {
    let now = 0
    const source = counter(() => now, 100_000)
    const cache = new TokenCache(source.fetch, () => now)
    await cache.get()
    now = 89_999
    t.equal((await cache.get()).token, 'token-1', 'cached at 90% of its life')
    now = 90_000
    t.equal((await cache.get()).token, 'token-2', 'refreshed from 90% on')
  })

  t.test('never serves a token past its expiry', async (t) => {
    let now = 0
    const source = counter(() => now, 1000)
    const cache = new TokenCache(source.fetch, () => now)
    const first = await cache.get()
    now = first.expiresAt
    t.not((await cache.get()).token, first.token)
  })

  t.test('invalidate(token) drops only the matching cached token', async (t) => {
    const now = (): number => 0
    const source = counter(now)
    const cache = new TokenCache(source.fetch, now)
    await cache.get()
    cache.invalidate('some-older-token')
    t.equal((await cache.get()).token, 'token-1', 'another token\'s refusal leaves the cached one alone')
    t.equal(source.calls(), 1)
    cache.invalidate('token-1')
    t.equal((await cache.get()).token, 'token-2', 'the refused token is fetched anew')
    t.equal(source.calls(), 2)
    cache.invalidate('token-1')
    t.equal((await cache.get()).token, 'token-2', 'a late second refusal of token-1 does not drop token-2')
    t.equal(source.calls(), 2)
  })

  t.test('a failed fetch rejects every waiter, and the next get() tries again', async (t) => {
    let calls = 0
    const first = deferred<ManagementToken>()
    const cache = new TokenCache(async () => {
      calls += 1
      if (calls === 1) return first.promise
      return { token: 'second', userPoolId: 'pool', expiresAt: Date.now() + HOUR_2 }
    })
    const waiting = [cache.get(), cache.get()]
    first.reject(new Error('token endpoint down'))
    const results = await Promise.allSettled(waiting)
    t.same(results.map((result) => result.status), ['rejected', 'rejected'])
    t.same(results.map((result) => result.status === 'rejected' ? (result.reason as Error).message : ''), ['token endpoint down', 'token endpoint down'])
    t.equal(calls, 1, 'both waited on the same fetch')
    t.equal((await cache.get()).token, 'second', 'the failure is not cached')
    t.equal(calls, 2)
  })
})

t.test('userPoolIdFromJwt', async (t) => {
  t.test('reads the scoped_userpool_id claim', async (t) => {
    t.equal(userPoolIdFromJwt(jwt({ scoped_userpool_id: '65a0c0ffee0000000000a001', exp: 1 })), '65a0c0ffee0000000000a001')
  })

  t.test('reads a UTF-8 payload encoded as base64url', async (t) => {
    t.equal(userPoolIdFromJwt(jwt({ scoped_userpool_id: 'pool-ü?>', name: '张三' })), 'pool-ü?>')
  })

  t.test('is undefined when the claim is missing or not a string', async (t) => {
    t.equal(userPoolIdFromJwt(jwt({ sub: 'x' })), undefined)
    t.equal(userPoolIdFromJwt(jwt({ scoped_userpool_id: 42 })), undefined)
    t.equal(userPoolIdFromJwt(jwt({ scoped_userpool_id: null })), undefined)
  })

  t.test('is undefined for something that is not a JWT', async (t) => {
    t.equal(userPoolIdFromJwt('opaque-token'), undefined, 'no dots')
    t.equal(userPoolIdFromJwt('a.!!!not-base64-json!!!.c'), undefined, 'a payload that is not JSON')
    t.equal(userPoolIdFromJwt(`a.${Buffer.from('"just a string"').toString('base64url')}.c`), undefined, 'a payload that is not an object')
    t.equal(userPoolIdFromJwt(''), undefined, 'empty')
  })
})
