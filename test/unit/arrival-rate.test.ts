import { describe, expect, it } from 'vitest'
import { ArrivalRate } from '../../src/capture/arrival-rate.ts'

/** Feeds `perSecond` arrivals in steps of `stepMs` for `forMs`; returns the time reached. */
function feed(rate: ArrivalRate, from: number, perSecond: number, stepMs: number, forMs: number) {
  let now = from
  for (; now < from + forMs; ) {
    now += stepMs
    rate.observe((perSecond * stepMs) / 1000, now)
  }
  return now
}

describe('ArrivalRate', () => {
  it('settles on a steady rate whatever the step size', () => {
    for (const stepMs of [1, 3, 20]) {
      const rate = new ArrivalRate(250, 0)
      feed(rate, 0, 2000, stepMs, 2000)
      expect(rate.perSecond).toBeCloseTo(2000, -1)
    }
  })

  it("moves by a burst over the window, not by the burst's own rate", () => {
    const rate = new ArrivalRate(250, 0)
    const now = feed(rate, 0, 1000, 5, 2000)
    // A hundred rows within a millisecond, after a steady 1,000 a second.
    rate.observe(100, now + 1)
    expect(rate.perSecond).toBeGreaterThan(1300)
    expect(rate.perSecond).toBeLessThan(1500)
  })

  it('decays when nothing comes', () => {
    const rate = new ArrivalRate(250, 0)
    const now = feed(rate, 0, 5000, 2, 3000)
    rate.observe(0, now + 250)
    expect(rate.perSecond).toBeCloseTo(5000 / Math.E, -1)
    rate.observe(0, now + 2000)
    expect(rate.perSecond).toBeLessThan(50)
  })

  it('takes an observation at the instant it started from', () => {
    const rate = new ArrivalRate(250, 0)
    rate.observe(5, 0)
    expect(Number.isFinite(rate.perSecond)).toBe(true)
  })
})
