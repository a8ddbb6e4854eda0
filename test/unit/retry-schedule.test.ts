import { describe, expect, it } from 'vitest'
import { DEFAULT_RETRY_SCHEDULE, nextAttemptAt } from '../../src/delivery/retry-schedule.ts'

describe('nextAttemptAt', () => {
  const now = 1_000_000
  it('follows the default schedule without jitter at the midpoint', () => {
    const delays = DEFAULT_RETRY_SCHEDULE.slice(1).map(
      (_, i) => nextAttemptAt(i + 1, now, undefined, () => 0.5)! - now,
    )
    expect(delays).toEqual([
      5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000,
    ])
  })
  it('spreads each delay by at most ±20 %', () => {
    expect(nextAttemptAt(1, now, undefined, () => 0)! - now).toBe(4_000)
    expect(nextAttemptAt(1, now, undefined, () => 1)! - now).toBe(6_000)
  })
  it('ends after the eighth attempt', () => {
    expect(nextAttemptAt(8, now)).toBeNull()
    expect(nextAttemptAt(2, now, [0, 10])).toBeNull()
  })
})
