import { DELIVERY_STATES } from './states.ts'
import type { AttemptResult } from './types.ts'

/** One subscription's attempts in a batch, reduced to what its run of failures needs. */
export interface FailureRun {
  readonly subscriptionId: string
  /** The last success in the batch, if any. */
  readonly lastSuccessAt: number | null
  /** Failures after that success (or in the whole batch when none succeeded). */
  readonly failures: number
  /** The first of those failures. */
  readonly firstFailureAt: number | null
}

/** Groups a batch of attempts by subscription, in order; both stores apply the result alike. */
export function failureRuns(results: readonly AttemptResult[]): FailureRun[] {
  const runs = new Map<
    string,
    { lastSuccessAt: number | null; failures: number; firstFailureAt: number | null }
  >()
  for (const r of results) {
    const run = runs.get(r.subscriptionId) ?? {
      lastSuccessAt: null,
      failures: 0,
      firstFailureAt: null,
    }
    if (r.status === DELIVERY_STATES.succeeded) {
      run.lastSuccessAt = r.attemptedAt
      run.failures = 0
      run.firstFailureAt = null
    } else {
      run.failures++
      run.firstFailureAt ??= r.attemptedAt
    }
    runs.set(r.subscriptionId, run)
  }
  return [...runs].map(([subscriptionId, run]) => ({ subscriptionId, ...run }))
}
