// A circuit breaker: after sustained upstream faults it fails fast for a while instead of sending more
// calls into a broken Authing, then lets one probe through and closes again if the probe succeeds.
import { ServiceError } from '../errors.ts'

export type CircuitState = 'closed' | 'open' | 'half-open'

export interface BreakerOptions {
  failureThreshold: number
  openMs: number
  now?: () => number
  onStateChange?: (state: CircuitState) => void
}

export class CircuitBreaker {
  #state: CircuitState = 'closed'
  #failures = 0
  #openedAt = 0
  #probeInFlight = false
  readonly #options: Required<Omit<BreakerOptions, 'onStateChange'>> & Pick<BreakerOptions, 'onStateChange'>

  constructor (options: BreakerOptions) {
    this.#options = { now: Date.now, ...options }
  }

  get state (): CircuitState {
    if (this.#state === 'open' && this.#options.now() - this.#openedAt >= this.#options.openMs) this.#set('half-open')
    return this.#state
  }

  /** Throws UPSTREAM_CIRCUIT_OPEN if a call would be refused now, without taking the probe slot. */
  refuseIfOpen (): void {
    const state = this.state
    if (state === 'closed' || (state === 'half-open' && !this.#probeInFlight)) return
    throw this.#openError()
  }

  /**
   * Asks to send one call. Throws UPSTREAM_CIRCUIT_OPEN when the circuit is open, or half-open with its
   * probe already out. The returned token must be settled with `success` or `failure`.
   */
  admit (): { probe: boolean } {
    const state = this.state
    if (state === 'closed') return { probe: false }
    if (state === 'half-open' && !this.#probeInFlight) {
      this.#probeInFlight = true
      return { probe: true }
    }
    throw this.#openError()
  }

  #openError (): ServiceError {
    const remaining = this.#state === 'open' ? this.#options.openMs - (this.#options.now() - this.#openedAt) : 1000
    return new ServiceError('UPSTREAM_CIRCUIT_OPEN', { retryAfter: Math.max(1, Math.ceil(remaining / 1000)) })
  }

  /** Authing answered (even with a business error): the upstream works. */
  success (ticket: { probe: boolean }): void {
    if (ticket.probe) this.#probeInFlight = false
    this.#failures = 0
    if (this.#state !== 'closed') this.#set('closed')
  }

  /** A transport fault, a timeout, a 5xx or an unreadable answer. */
  failure (ticket: { probe: boolean }): void {
    if (ticket.probe) {
      this.#probeInFlight = false
      this.#open()
      return
    }
    this.#failures += 1
    if (this.#state === 'closed' && this.#failures >= this.#options.failureThreshold) this.#open()
  }

  /** A call that ended without telling us anything about the upstream (e.g. cancelled). */
  release (ticket: { probe: boolean }): void {
    if (ticket.probe) this.#probeInFlight = false
  }

  #open (): void {
    this.#openedAt = this.#options.now()
    this.#set('open')
  }

  #set (state: CircuitState): void {
    if (this.#state === state) return
    this.#state = state
    this.#options.onStateChange?.(state)
  }
}
