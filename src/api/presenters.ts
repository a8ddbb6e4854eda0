import type { Attempt, Delivery, Subscription } from '../storage/types.ts'

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString())

/** A subscription as the API shows it (DESIGN §3). */
export function presentSubscription(s: Subscription) {
  return {
    id: s.id,
    event: s.event,
    target_url: s.targetUrl,
    status: s.status,
    secret: s.secret,
    headers: s.headers,
    created_at: iso(s.createdAt),
    updated_at: iso(s.updatedAt),
    ordering: s.ordering,
    max_concurrency: s.maxConcurrency,
    ...(s.disabledReason ? { disabled_reason: s.disabledReason } : {}),
  }
}

export function presentDelivery(d: Delivery) {
  return {
    id: d.id,
    message_id: d.messageId,
    subscription_id: d.subscriptionId,
    event: d.event,
    status: d.status,
    attempts: d.attempts,
    next_attempt_at: iso(d.nextAttemptAt),
    last_status_code: d.lastStatusCode,
    last_error: d.lastError,
    created_at: iso(d.createdAt),
    updated_at: iso(d.updatedAt),
  }
}

export function presentAttempt(a: Attempt) {
  return {
    id: a.id,
    attempted_at: iso(a.attemptedAt),
    duration_ms: a.durationMs,
    status_code: a.statusCode,
    response_body: a.responseBody,
    error: a.error,
  }
}
