import { NonRetriableError, RetryAfterError } from '../errors.ts'
import { DELIVERY_STATES as D } from '../storage/states.ts'
import type { AttemptResult, DeliveryJob } from '../storage/types.ts'
import type { SendResult } from './http-sender.ts'
import { nextAttemptAt } from './retry-schedule.ts'

/** The receiver is gone (`410`) or asked to be disabled: stop, and act on the subscription. */
export class SubscriptionRefusedError extends NonRetriableError {
  constructor(
    message: string,
    readonly action: 'removed' | 'disabled',
  ) {
    super(message)
    this.name = 'SubscriptionRefusedError'
  }
}

export interface OutcomePolicy {
  readonly schedule: readonly number[]
  /** A `Retry-After` longer than this is cut to it. */
  readonly retryAfterMaxMs: number
  readonly random?: () => number
}

function header(res: SendResult, name: keyof SendResult['headers']): string | undefined {
  const v = res.headers[name]
  return Array.isArray(v) ? v[0] : v
}

/** `Retry-After` in seconds or as an HTTP date, in ms from `now`; undefined when absent or bad. */
export function parseRetryAfter(value: string | undefined, now: number): number | undefined {
  if (!value) return undefined
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000
  const at = Date.parse(value)
  return Number.isNaN(at) ? undefined : Math.max(0, at - now)
}

/**
 * What a response means, as a typed error (or null for success). The only place that
 * reads status codes and receiver control headers.
 */
export function interpretResponse(res: SendResult, now: number): Error | null {
  if (res.statusCode === null)
    return res.refused
      ? new NonRetriableError(res.error ?? 'target refused')
      : new Error(res.error ?? 'no response')
  const control = header(res, 'webhook-delivery')?.trim().toLowerCase()
  if (res.statusCode === 410)
    return new SubscriptionRefusedError('receiver answered 410 Gone', 'removed')
  if (control === 'disable')
    return new SubscriptionRefusedError('receiver sent webhook-delivery: disable', 'removed')
  if (res.statusCode >= 200 && res.statusCode < 300) return null
  if (control === 'abort-message')
    return new NonRetriableError('receiver sent webhook-delivery: abort-message')
  if (res.statusCode === 429 || res.statusCode === 503) {
    const ms = parseRetryAfter(header(res, 'retry-after'), now)
    if (ms !== undefined) return new RetryAfterError(`HTTP ${res.statusCode} with Retry-After`, ms)
  }
  if (res.statusCode >= 300 && res.statusCode < 400)
    return new Error(`HTTP ${res.statusCode}: redirects are not followed`)
  return new Error(`HTTP ${res.statusCode}`)
}

/** Turns one attempt into the record the store writes: success, a retry, or the end. */
export function decideOutcome(
  job: DeliveryJob,
  res: SendResult,
  attemptedAt: number,
  policy: OutcomePolicy,
): AttemptResult {
  const base = {
    deliveryId: job.id,
    subscriptionId: job.subscriptionId,
    event: job.event,
    attemptedAt,
    durationMs: res.durationMs,
    statusCode: res.statusCode,
    responseBody: res.body,
  }
  const failure = interpretResponse(res, attemptedAt)
  if (failure === null)
    return {
      ...base,
      error: null,
      status: D.succeeded,
      nextAttemptAt: null,
      subscriptionAction: null,
    }

  const attemptsMade = job.attempts + 1
  if (failure instanceof SubscriptionRefusedError) {
    return {
      ...base,
      error: failure.message,
      status: D.dead,
      nextAttemptAt: null,
      subscriptionAction: { status: failure.action, reason: failure.message },
    }
  }
  if (failure instanceof NonRetriableError)
    return {
      ...base,
      error: failure.message,
      status: D.dead,
      nextAttemptAt: null,
      subscriptionAction: null,
    }

  let next = nextAttemptAt(attemptsMade, attemptedAt, policy.schedule, policy.random)
  if (next !== null && failure instanceof RetryAfterError) {
    next = Math.max(next, attemptedAt + Math.min(failure.retryAfterMs, policy.retryAfterMaxMs))
  }
  if (next !== null)
    return {
      ...base,
      error: failure.message,
      status: D.failed,
      nextAttemptAt: next,
      subscriptionAction: null,
    }

  // The schedule is spent. A target that still answers 404 is gone (n8n answers 404 for removed hooks).
  const gone = res.statusCode === 404
  return {
    ...base,
    error: failure.message,
    status: D.dead,
    nextAttemptAt: null,
    subscriptionAction: gone
      ? {
          status: 'disabled',
          reason: 'target answered 404 Not Found through the whole retry schedule',
        }
      : null,
  }
}
