const SECOND = 1000
const MINUTE = 60 * SECOND
const HOUR = 60 * MINUTE

/**
 * The default delays before each attempt: immediately, then 5 s, 5 min, 30 min, 2 h, 5 h,
 * 10 h and 10 h — 8 attempts over about 27.6 hours.
 *
 * | attempt | delay after the previous one | total since the event |
 * |--------:|-----------------------------:|----------------------:|
 * | 1 | 0 | 0 |
 * | 2 | 5 s | 5 s |
 * | 3 | 5 min | ≈ 5 min |
 * | 4 | 30 min | ≈ 35 min |
 * | 5 | 2 h | ≈ 2 h 35 min |
 * | 6 | 5 h | ≈ 7 h 35 min |
 * | 7 | 10 h | ≈ 17 h 35 min |
 * | 8 | 10 h | ≈ 27 h 35 min |
 */
export const DEFAULT_RETRY_SCHEDULE: readonly number[] = Object.freeze([
  0,
  5 * SECOND,
  5 * MINUTE,
  30 * MINUTE,
  2 * HOUR,
  5 * HOUR,
  10 * HOUR,
  10 * HOUR,
])

/** Each delay is spread by up to ±20 %, so that retries of many deliveries do not come in waves. */
export const RETRY_JITTER = 0.2

/**
 * When the next attempt falls due after `attemptsMade` failed attempts, or `null` when
 * the schedule is spent. Pure: the clock and randomness are arguments.
 *
 * @example nextAttemptAt(1, now, DEFAULT_RETRY_SCHEDULE, () => 0.5) // now + 5000
 */
export function nextAttemptAt(
  attemptsMade: number,
  now: number,
  schedule: readonly number[] = DEFAULT_RETRY_SCHEDULE,
  random: () => number = Math.random,
): number | null {
  const delay = schedule[attemptsMade]
  if (delay === undefined) return null
  const jitter = 1 + RETRY_JITTER * (2 * random() - 1)
  return now + Math.round(delay * jitter)
}
