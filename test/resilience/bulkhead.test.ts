// The bulkhead bounds calls to Authing in progress and the line waiting for a slot; past the line, and
// past a waiter's deadline, callers get 503 UPSTREAM_OVERLOADED with Retry-After instead of piling up.
import { mock } from 'node:test'
import t from 'tap'
import { ServiceError } from '../../src/errors.ts'
import { Bulkhead } from '../../src/resilience/bulkhead.ts'

const FAR = (): number => Date.now() + 60_000

/** Settles to 'pending' if the promise has not settled after the current microtasks. */
async function state (promise: Promise<unknown>): Promise<'pending' | 'resolved' | 'rejected'> {
  const pending = new Promise<'pending'>((resolve) => setImmediate(() => resolve('pending')))
  return Promise.race([promise.then(() => 'resolved' as const, () => 'rejected' as const), pending])
}

function overloaded (t: { match: (found: unknown, pattern: unknown, message: string) => boolean, ok: (value: unknown, message: string) => boolean }, error: unknown): void {
  t.ok(error instanceof ServiceError, 'a ServiceError')
  t.match(error, { code: 'UPSTREAM_OVERLOADED', statusCode: 503 }, '503 UPSTREAM_OVERLOADED')
  t.ok((error as ServiceError).retryAfter !== undefined && (error as ServiceError).retryAfter as number >= 1, 'with a Retry-After of at least 1 s')
}

t.test('admits up to maxConcurrent calls at once and queues the next', async (t) => {
  const bulkhead = new Bulkhead(2, 10)
  const releaseFirst = await bulkhead.acquire(FAR())
  await bulkhead.acquire(FAR())
  t.equal(bulkhead.active, 2)
  const third = bulkhead.acquire(FAR())
  t.equal(await state(third), 'pending', 'the third call waits')
  t.equal(bulkhead.active, 2)
  t.equal(bulkhead.queued, 1)
  releaseFirst()
  t.equal(await state(third), 'resolved', 'and runs once a slot is free')
})

t.test('turns a caller away at once with 503 UPSTREAM_OVERLOADED when the queue is full', async (t) => {
  const bulkhead = new Bulkhead(1, 1)
  const release = await bulkhead.acquire(FAR())
  const queued = bulkhead.acquire(FAR())
  const error = await bulkhead.acquire(FAR()).then(() => undefined, (e: unknown) => e)
  overloaded(t, error)
  t.equal(bulkhead.queued, 1, 'the queued caller keeps its place')
  release()
  await queued
})

t.test('with a queue of 0, every call beyond the limit is refused at once', async (t) => {
  const bulkhead = new Bulkhead(1, 0)
  await bulkhead.acquire(FAR())
  overloaded(t, await bulkhead.acquire(FAR()).then(() => undefined, (e: unknown) => e))
  t.equal(bulkhead.queued, 0)
})

t.test('a waiter gives up exactly at its deadline and leaves the queue', async (t) => {
  mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000_000 })
  t.teardown(() => mock.timers.reset())
  const bulkhead = new Bulkhead(1, 5)
  const release = await bulkhead.acquire(Date.now() + 60_000)
  const waiter = bulkhead.acquire(Date.now() + 1000)
  const outcome = waiter.then(() => undefined, (e: unknown) => e)
  mock.timers.tick(999)
  t.equal(await state(waiter), 'pending', 'still waiting 1 ms before the deadline')
  mock.timers.tick(1)
  overloaded(t, await outcome)
  t.equal(bulkhead.queued, 0, 'the timed-out waiter is gone from the queue')
  release()
  t.equal(bulkhead.active, 0, 'the freed slot is not handed to the timed-out waiter')
})

t.test('a waiter whose deadline has already passed gives up on the next tick', async (t) => {
  mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000_000 })
  t.teardown(() => mock.timers.reset())
  const bulkhead = new Bulkhead(1, 5)
  await bulkhead.acquire(Date.now() + 60_000)
  const late = bulkhead.acquire(Date.now() - 5).then(() => undefined, (e: unknown) => e)
  mock.timers.tick(0)
  overloaded(t, await late)
})

t.test('a free slot is granted even when the deadline has passed', async (t) => {
  const bulkhead = new Bulkhead(1, 0)
  const release = await bulkhead.acquire(Date.now() - 1000)
  t.type(release, 'function')
  t.equal(bulkhead.active, 1)
})

t.test('release hands the slot to the next waiter, first come first served', async (t) => {
  const bulkhead = new Bulkhead(1, 5)
  const order: string[] = []
  const releaseFirst = await bulkhead.acquire(FAR())
  const second = bulkhead.acquire(FAR()).then((release) => { order.push('second'); return release })
  const third = bulkhead.acquire(FAR()).then((release) => { order.push('third'); return release })
  t.equal(bulkhead.queued, 2)

  releaseFirst()
  const releaseSecond = await second
  t.same(order, ['second'], 'the earliest waiter gets the slot')
  t.equal(bulkhead.active, 1, 'the slot passed on without ever becoming free')
  t.equal(bulkhead.queued, 1)
  t.equal(await state(third), 'pending')

  releaseSecond()
  const releaseThird = await third
  t.same(order, ['second', 'third'])
  releaseThird()
  t.equal(bulkhead.active, 0)
  t.equal(bulkhead.queued, 0)
})

t.test('releasing twice frees one slot only', async (t) => {
  const bulkhead = new Bulkhead(1, 5)
  const release = await bulkhead.acquire(FAR())
  const waiter = bulkhead.acquire(FAR())
  const other = bulkhead.acquire(FAR())
  release()
  release()
  await waiter
  t.equal(await state(other), 'pending', 'the second release did not admit another waiter')
  t.equal(bulkhead.active, 1)
  const releaseWaiter = await waiter
  releaseWaiter()
  releaseWaiter()
  const releaseOther = await other
  releaseOther()
  releaseOther()
  t.equal(bulkhead.active, 0, 'the count never goes below zero')
  const releaseAgain = await bulkhead.acquire(FAR())
  const queued = bulkhead.acquire(FAR())
  t.equal(await state(queued), 'pending', 'still exactly one slot')
  releaseAgain()
  ;(await queued)()
})
