import type { Logger } from 'pino'
import { WakeSignal } from '../capture/wake-signal.ts'
import type { Clock } from '../clock.ts'
import type { HooklineEmitter } from '../hookline-events.ts'
import type { Store } from '../storage/store.ts'
import type { AttemptResult, DeliveryJob } from '../storage/types.ts'
import type { HttpSender } from './http-sender.ts'
import { decideOutcome, type OutcomePolicy } from './outcome.ts'

export interface DispatcherOptions {
  readonly store: Store
  readonly sender: Pick<HttpSender, 'send'>
  readonly clock: Clock
  readonly logger: Logger
  readonly emitter: HooklineEmitter
  readonly policy: OutcomePolicy
  /** Attempts in flight at once, over all subscriptions. */
  readonly concurrency: number
  /** Attempts in flight at once to one subscription. */
  readonly perSubscriptionConcurrency: number
  /** How long a claimed delivery stays reserved for this process. */
  readonly leaseMs: number
  /** Longest sleep when nothing is due (other processes may add work). */
  readonly pollIntervalMs: number
}

/**
 * Claims due deliveries in batches, sends them concurrently within the global and
 * per-subscription limits, and writes the attempts back in batches.
 */
export class Dispatcher {
  #inFlight = 0
  readonly #perSubscription = new Map<string, number>()
  readonly #waiting = new Map<string, DeliveryJob[]>()
  #waitingCount = 0
  #results: AttemptResult[] = []
  #flushing: Promise<void> | null = null
  readonly #signal = new WakeSignal()
  #idle: (() => void)[] = []
  #running = false
  #loop: Promise<void> | null = null

  constructor(private readonly o: DispatcherOptions) {}

  start(): void {
    if (this.#running) return
    this.#running = true
    this.#loop = this.#run()
  }

  /** Stops claiming, waits for the attempts in flight, and records them. */
  async stop(): Promise<void> {
    if (!this.#running) return
    this.#running = false
    this.#signal.wake()
    await this.#loop
    await this.#whenIdle()
    await this.flush()
  }

  /** New deliveries may be due: look now rather than at the next poll. */
  nudge(): void {
    this.#signal.wake()
  }

  /** Delivers everything due now and records it (tests, `hookline trigger`, shutdown). */
  async drain(): Promise<void> {
    for (;;) {
      const claimed = await this.fill()
      await this.#whenIdle()
      await this.flush()
      if (claimed === 0) return
    }
  }

  /** Claims as many due deliveries as there are free slots and starts them. */
  async fill(): Promise<number> {
    const free = this.o.concurrency - this.#inFlight - this.#waitingCount
    if (free <= 0) return 0
    const saturated = [...this.#perSubscription]
      .filter(([, n]) => n >= this.o.perSubscriptionConcurrency)
      .map(([id]) => id)
    const jobs = await this.o.store.claimDeliveries(
      this.o.clock.now(),
      free,
      this.o.leaseMs,
      saturated,
    )
    for (const job of jobs) this.#startOrQueue(job)
    return jobs.length
  }

  /** Writes the recorded attempts. Safe to call at any time. */
  async flush(): Promise<void> {
    while (this.#flushing || this.#results.length > 0) {
      if (this.#flushing) await this.#flushing
      else this.#scheduleFlush()
    }
  }

  async #run(): Promise<void> {
    while (this.#running) {
      try {
        if ((await this.fill()) > 0) continue
        const due = await this.o.store.nextDueAt()
        const now = this.o.clock.now()
        // Due work that could not be claimed waits for a free slot (a wake), not a busy loop.
        const wait =
          due === null || due <= now
            ? this.o.pollIntervalMs
            : Math.min(due - now, this.o.pollIntervalMs)
        await this.#signal.wait(wait)
      } catch (error) {
        this.o.logger.error({ err: error }, 'delivery:error')
        this.o.emitter.emit('delivery:error', error as Error)
        await this.#signal.wait(this.o.pollIntervalMs)
      }
    }
  }

  #startOrQueue(job: DeliveryJob): void {
    const busy = this.#perSubscription.get(job.subscriptionId) ?? 0
    if (busy >= this.o.perSubscriptionConcurrency) {
      const queue = this.#waiting.get(job.subscriptionId) ?? []
      queue.push(job)
      this.#waiting.set(job.subscriptionId, queue)
      this.#waitingCount++
      return
    }
    this.#inFlight++
    this.#perSubscription.set(job.subscriptionId, busy + 1)
    void this.#attempt(job).finally(() => this.#release(job.subscriptionId))
  }

  #release(subscriptionId: string): void {
    this.#inFlight--
    const left = (this.#perSubscription.get(subscriptionId) ?? 1) - 1
    if (left === 0) this.#perSubscription.delete(subscriptionId)
    else this.#perSubscription.set(subscriptionId, left)
    const next = this.#waiting.get(subscriptionId)?.shift()
    if (next) {
      this.#waitingCount--
      if (this.#waiting.get(subscriptionId)?.length === 0) this.#waiting.delete(subscriptionId)
      this.#startOrQueue(next)
    }
    this.#signal.wake()
    if (this.#inFlight === 0 && this.#waitingCount === 0)
      for (const resolve of this.#idle.splice(0)) resolve()
  }

  async #attempt(job: DeliveryJob): Promise<void> {
    const attemptedAt = this.o.clock.now()
    const res = await this.o.sender.send(job, attemptedAt)
    const result = decideOutcome(job, res, attemptedAt, this.o.policy)
    this.#results.push(result)
    this.#scheduleFlush()
  }

  #whenIdle(): Promise<void> {
    if (this.#inFlight === 0 && this.#waitingCount === 0) return Promise.resolve()
    return new Promise((resolve) => this.#idle.push(resolve))
  }

  #scheduleFlush(): void {
    if (this.#flushing) return
    this.#flushing = new Promise<void>((resolve) => setImmediate(resolve)).then(async () => {
      const batch = this.#results
      this.#results = []
      try {
        await this.o.store.recordAttempts(batch)
        for (const result of batch) this.o.emitter.emit('delivery:attempted', result)
      } catch (error) {
        // Keep them: the leases stop anyone else from sending these until we retry the write.
        this.#results.unshift(...batch)
        this.o.logger.error({ err: error, attempts: batch.length }, 'delivery:error')
        await new Promise((resolve) => setTimeout(resolve, 500))
      } finally {
        this.#flushing = null
        if (this.#results.length > 0) this.#scheduleFlush()
      }
    })
  }
}
