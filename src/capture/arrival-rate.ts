/**
 * A rate of arrivals a second, smoothed exponentially over about `windowMs`: what came
 * in the last `windowMs` weighs most, and a short burst moves it by its size over the
 * window, not by its own rate.
 */
export class ArrivalRate {
  #perSecond = 0
  #at: number

  constructor(
    private readonly windowMs: number,
    now: number,
  ) {
    this.#at = now
  }

  get perSecond(): number {
    return this.#perSecond
  }

  /** `count` arrivals since the last observation; `now` in milliseconds. */
  observe(count: number, now: number): void {
    const elapsed = Math.max(now - this.#at, 0.001)
    this.#at = now
    const weight = 1 - Math.exp(-elapsed / this.windowMs)
    this.#perSecond += weight * ((count * 1000) / elapsed - this.#perSecond)
  }
}
