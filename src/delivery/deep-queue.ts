import type { DeliveryJob } from '../storage/types.ts'

/** One subscription's deliveries, oldest first; `head` is the next (shift is O(1)). */
interface Line {
  readonly jobs: DeliveryJob[]
  /** Until when each may be sent from here (`DeepQueue.push`), by the same index. */
  readonly until: number[]
  head: number
}

/**
 * Deliveries leased to this process beyond its queues, up to `capacity` in all, per
 * subscription in the order they came (`DispatcherOptions.deep`). Each is kept with the
 * time after which it is no longer to be sent from here, but handed back while its lease
 * is still this process's.
 */
export class DeepQueue {
  readonly #lines = new Map<string, Line>()
  #size = 0

  constructor(readonly capacity: number) {}

  get size(): number {
    return this.#size
  }

  get room(): number {
    return this.capacity - this.#size
  }

  /** Subscriptions with deliveries here. */
  subscriptions(): string[] {
    return [...this.#lines.keys()]
  }

  /** Keeps a delivery, sendable until `until`; false when full. */
  push(job: DeliveryJob, until: number): boolean {
    if (this.#size >= this.capacity) return false
    let line = this.#lines.get(job.subscriptionId)
    if (!line) {
      line = { jobs: [], until: [], head: 0 }
      this.#lines.set(job.subscriptionId, line)
    }
    line.jobs.push(job)
    line.until.push(until)
    this.#size++
    return true
  }

  /**
   * Takes up to `n` of a subscription's oldest deliveries still sendable at `now`, and
   * the ids of the stale ones met on the way.
   */
  take(subscriptionId: string, n: number, now: number): { jobs: DeliveryJob[]; stale: string[] } {
    const jobs: DeliveryJob[] = []
    const stale: string[] = []
    const line = this.#lines.get(subscriptionId)
    while (line && line.head < line.jobs.length && jobs.length < n) {
      const job = this.#shift(line)
      if (line.until[line.head - 1]! > now) jobs.push(job)
      else stale.push(job.id)
    }
    this.#tidy(subscriptionId)
    return { jobs, stale }
  }

  /** Removes a subscription's stale deliveries at the head of its line; returns their ids. */
  expire(subscriptionId: string, now: number): string[] {
    const stale: string[] = []
    const line = this.#lines.get(subscriptionId)
    while (line && line.head < line.jobs.length && line.until[line.head]! <= now)
      stale.push(this.#shift(line).id)
    this.#tidy(subscriptionId)
    return stale
  }

  /** Removes all of a subscription's deliveries; returns their ids. */
  drop(subscriptionId: string): string[] {
    const line = this.#lines.get(subscriptionId)
    if (!line) return []
    this.#lines.delete(subscriptionId)
    const ids = line.jobs.slice(line.head).map((job) => job.id)
    this.#size -= ids.length
    return ids
  }

  #shift(line: Line): DeliveryJob {
    const job = line.jobs[line.head]!
    // Let the job go now, not when the whole line does.
    line.jobs[line.head] = undefined as unknown as DeliveryJob
    line.head++
    this.#size--
    return job
  }

  /** Forgets an empty line, and drops the taken half of a long one that never empties. */
  #tidy(subscriptionId: string): void {
    const line = this.#lines.get(subscriptionId)
    if (!line) return
    if (line.head >= line.jobs.length) this.#lines.delete(subscriptionId)
    else if (line.head >= 1024 && line.head * 2 >= line.jobs.length) {
      line.jobs.splice(0, line.head)
      line.until.splice(0, line.head)
      line.head = 0
    }
  }
}
