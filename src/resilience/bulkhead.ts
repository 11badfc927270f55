// A bound on concurrent calls to Authing with a bounded waiting line. Past the line, callers are
// turned away at once (503 with Retry-After) rather than piling up behind a slow upstream.
import { ServiceError } from '../errors.ts'

interface Waiter {
  resolve: (release: () => void) => void
  reject: (error: Error) => void
  timer: NodeJS.Timeout
}

export class Bulkhead {
  readonly maxConcurrent: number
  readonly maxQueue: number
  #active = 0
  readonly #queue: Waiter[] = []

  constructor (maxConcurrent: number, maxQueue: number) {
    this.maxConcurrent = maxConcurrent
    this.maxQueue = maxQueue
  }

  get active (): number { return this.#active }
  get queued (): number { return this.#queue.length }

  /** Throws UPSTREAM_OVERLOADED if a call would be turned away now. */
  refuseIfFull (): void {
    if (this.#active >= this.maxConcurrent && this.#queue.length >= this.maxQueue) {
      throw new ServiceError('UPSTREAM_OVERLOADED', { retryAfter: 1 })
    }
  }

  /** Resolves with a release function once a slot is free; rejects when the queue is full or the deadline passes. */
  acquire (deadline: number, shutdown?: AbortSignal): Promise<() => void> {
    if (this.#active < this.maxConcurrent) {
      this.#active += 1
      return Promise.resolve(this.#releaser())
    }
    if (this.#queue.length >= this.maxQueue) {
      return Promise.reject(new ServiceError('UPSTREAM_OVERLOADED', { retryAfter: 1 }))
    }
    return new Promise((resolve, reject) => {
      const leave = (error: ServiceError): void => {
        const at = this.#queue.indexOf(waiter)
        if (at === -1) return
        this.#queue.splice(at, 1)
        clearTimeout(waiter.timer)
        shutdown?.removeEventListener('abort', onShutdown)
        reject(error)
      }
      const onShutdown = (): void => { leave(new ServiceError('SHUTTING_DOWN', { retryAfter: 1 })) }
      const waiter: Waiter = {
        resolve: (release) => {
          shutdown?.removeEventListener('abort', onShutdown)
          resolve(release)
        },
        reject,
        timer: setTimeout(() => { leave(new ServiceError('UPSTREAM_OVERLOADED', { retryAfter: 1 })) }, Math.max(0, deadline - Date.now()))
      }
      this.#queue.push(waiter)
      shutdown?.addEventListener('abort', onShutdown, { once: true })
    })
  }

  #releaser (): () => void {
    let released = false
    return () => {
      if (released) return
      released = true
      const next = this.#queue.shift()
      if (next === undefined) {
        this.#active -= 1
        return
      }
      clearTimeout(next.timer)
      next.resolve(this.#releaser())
    }
  }
}
