// The circuit breaker: after N consecutive upstream faults it fails fast for openMs, then lets exactly one
// probe through; the probe's outcome closes or re-opens it. Time is injected, never slept.
import t from 'tap'
import { ServiceError } from '../../src/errors.ts'
import { CircuitBreaker, type CircuitState } from '../../src/resilience/breaker.ts'

const OPEN_MS = 10_000

function setup (failureThreshold = 3): { breaker: CircuitBreaker, clock: { now: number }, states: CircuitState[] } {
  const clock = { now: 1_000_000 }
  const states: CircuitState[] = []
  const breaker = new CircuitBreaker({ failureThreshold, openMs: OPEN_MS, now: () => clock.now, onStateChange: (state) => states.push(state) })
  return { breaker, clock, states }
}

function fail (breaker: CircuitBreaker, times: number): void {
  for (let i = 0; i < times; i += 1) breaker.failure(breaker.admit())
}

/** The error admit() throws, or undefined if it admitted the call. */
function refusal (breaker: CircuitBreaker): ServiceError | undefined {
  try {
    breaker.admit()
    return undefined
  } catch (error) {
    if (error instanceof ServiceError) return error
    throw error
  }
}

t.test('stays closed below the failure threshold', async (t) => {
  const { breaker, states } = setup(3)
  fail(breaker, 2)
  t.equal(breaker.state, 'closed')
  t.same(breaker.admit(), { probe: false }, 'calls still go through')
  t.same(states, [])
})

t.test('opens after N consecutive failures and fails fast with 503 UPSTREAM_CIRCUIT_OPEN', async (t) => {
  const { breaker, states } = setup(3)
  fail(breaker, 3)
  t.equal(breaker.state, 'open')
  t.same(states, ['open'])
  const error = refusal(breaker)
  t.match(error, { code: 'UPSTREAM_CIRCUIT_OPEN', statusCode: 503 })
  t.equal(error?.retryAfter, 10, 'Retry-After is the whole open time just after opening')
})

t.test('Retry-After counts down the remaining open time, rounded up to whole seconds', async (t) => {
  const { breaker, clock } = setup(1)
  fail(breaker, 1)
  clock.now += 2500
  t.equal(refusal(breaker)?.retryAfter, 8, '7.5 s left → 8')
  clock.now += 7000
  t.equal(refusal(breaker)?.retryAfter, 1, '0.5 s left → 1')
  clock.now += 499
  t.equal(refusal(breaker)?.retryAfter, 1, '1 ms left → 1')
})

t.test('a success resets the count of consecutive failures', async (t) => {
  const { breaker } = setup(3)
  fail(breaker, 2)
  breaker.success(breaker.admit())
  fail(breaker, 2)
  t.equal(breaker.state, 'closed', 'two failures after a success do not open it')
  fail(breaker, 1)
  t.equal(breaker.state, 'open', 'the third in a row does')
})

t.test('goes half-open after openMs and lets exactly one probe through', async (t) => {
  const { breaker, clock, states } = setup(2)
  fail(breaker, 2)
  clock.now += OPEN_MS - 1
  t.equal(breaker.state, 'open', 'still open 1 ms before openMs')
  t.ok(refusal(breaker))
  clock.now += 1
  t.equal(breaker.state, 'half-open')
  t.same(breaker.admit(), { probe: true }, 'the first call is the probe')
  const second = refusal(breaker)
  t.match(second, { code: 'UPSTREAM_CIRCUIT_OPEN' }, 'a second call while the probe is out fails fast')
  t.equal(second?.retryAfter, 1)
  t.ok(refusal(breaker), 'and so does a third')
  t.same(states, ['open', 'half-open'])
})

t.test('closes when the probe succeeds', async (t) => {
  const { breaker, clock, states } = setup(2)
  fail(breaker, 2)
  clock.now += OPEN_MS
  const probe = breaker.admit()
  breaker.success(probe)
  t.equal(breaker.state, 'closed')
  t.same(breaker.admit(), { probe: false })
  t.same(breaker.admit(), { probe: false }, 'calls flow freely again')
  t.same(states, ['open', 'half-open', 'closed'])
  fail(breaker, 1)
  t.equal(breaker.state, 'closed', 'the failure count started again from zero')
})

t.test('re-opens for a full openMs when the probe fails', async (t) => {
  const { breaker, clock, states } = setup(5)
  fail(breaker, 5)
  clock.now += OPEN_MS + 3000
  const probe = breaker.admit()
  t.equal(probe.probe, true)
  breaker.failure(probe)
  t.equal(breaker.state, 'open', 'a single failed probe re-opens it, whatever the threshold')
  t.equal(refusal(breaker)?.retryAfter, 10, 'the open time starts again from the probe failure')
  clock.now += OPEN_MS
  t.same(breaker.admit(), { probe: true }, 'and after it, one new probe')
  t.same(states, ['open', 'half-open', 'open', 'half-open'])
})

t.test('a released probe (cancelled call) frees the probe slot without deciding anything', async (t) => {
  const { breaker, clock } = setup(1)
  fail(breaker, 1)
  clock.now += OPEN_MS
  breaker.release(breaker.admit())
  t.equal(breaker.state, 'half-open')
  t.same(breaker.admit(), { probe: true }, 'the next call becomes the probe')
})

t.test('releasing an ordinary ticket changes nothing', async (t) => {
  const { breaker } = setup(2)
  breaker.failure(breaker.admit())
  breaker.release(breaker.admit())
  breaker.failure(breaker.admit())
  t.equal(breaker.state, 'open', 'the release neither counted nor reset the failures')
})
