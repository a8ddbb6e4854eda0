import type { DeliveryState, SubscriptionState } from './states.ts'
import type {
  Attempt,
  Change,
  Delivery,
  Message,
  RowId,
  Subscription,
  SubscriptionPatch,
} from './types.ts'

/** Rows as both stores return them (snake_case). They never leave `storage/`. */
export interface SubscriptionRow {
  id: string
  event: string
  target_url: string
  status: string
  secret: string
  previous_secret: string | null
  previous_secret_expires_at: number | string | null
  headers: string | Record<string, string>
  created_at: number | string
  updated_at: number | string
  disabled_reason: string | null
  ordering: string
  max_concurrency: number | null
  consecutive_failures: number
  failing_since: number | string | null
}

export interface ChangeRow {
  id: number | string
  table_name: string
  action: string
  row_id: RowId
  old_row: string | Record<string, unknown> | null
  new_row: string | Record<string, unknown> | null
  created_at: number | string
}

export function toFailedChange(r: ChangeRow & { error: string }) {
  return { ...toChange(r), error: r.error }
}

export interface DeliveryRow {
  id: string
  message_id: string
  subscription_id: string
  event: string
  status: string
  attempts: number
  next_attempt_at: number | string | null
  last_status_code: number | null
  last_error: string | null
  created_at: number | string
  updated_at: number | string
}

export interface AttemptRow {
  id: number | string
  delivery_id: string
  attempted_at: number | string
  duration_ms: number
  status_code: number | null
  response_body: string | null
  error: string | null
}

export interface MessageRow {
  id: string
  event: string
  row_id: RowId | null
  body: string
  created_at: number | string
}

export interface JobRow {
  id: string
  message_id: string
  subscription_id: string
  event: string
  attempts: number
  body: string
  target_url: string
  secret: string
  previous_secret: string | null
  previous_secret_expires_at: number | string | null
  headers: string | Record<string, string>
  max_concurrency: number | null
  /** Where the query selects it (leased jobs are always concurrent). */
  ordering?: string
}

/** PostgreSQL returns bigint as string; both stores keep times as unix ms. */
export const toMs = (v: number | string): number => (typeof v === 'string' ? Number(v) : v)
const toMsOrNull = (v: number | string | null): number | null => (v === null ? null : toMs(v))
const parseJson = <T>(v: string | T): T => (typeof v === 'string' ? (JSON.parse(v) as T) : v)

export function toSubscription(r: SubscriptionRow): Subscription {
  return {
    id: r.id,
    event: r.event,
    targetUrl: r.target_url,
    status: r.status as SubscriptionState,
    secret: r.secret,
    previousSecret: r.previous_secret,
    previousSecretExpiresAt: toMsOrNull(r.previous_secret_expires_at),
    headers: parseJson(r.headers),
    createdAt: toMs(r.created_at),
    updatedAt: toMs(r.updated_at),
    disabledReason: r.disabled_reason,
    ordering: r.ordering === 'strict' ? 'strict' : 'concurrent',
    maxConcurrency: r.max_concurrency,
    consecutiveFailures: r.consecutive_failures,
    failingSince: toMsOrNull(r.failing_since),
  }
}

export function toChange(r: ChangeRow): Change {
  return {
    id: toMs(r.id),
    table: r.table_name,
    action: r.action as Change['action'],
    rowId: r.row_id,
    before: r.old_row === null ? null : parseJson(r.old_row),
    after: r.new_row === null ? null : parseJson(r.new_row),
    createdAt: toMs(r.created_at),
  }
}

export function toDelivery(r: DeliveryRow): Delivery {
  return {
    id: r.id,
    messageId: r.message_id,
    subscriptionId: r.subscription_id,
    event: r.event,
    status: r.status as DeliveryState,
    attempts: r.attempts,
    nextAttemptAt: toMsOrNull(r.next_attempt_at),
    lastStatusCode: r.last_status_code,
    lastError: r.last_error,
    createdAt: toMs(r.created_at),
    updatedAt: toMs(r.updated_at),
  }
}

export function toAttempt(r: AttemptRow): Attempt {
  return {
    id: toMs(r.id),
    deliveryId: r.delivery_id,
    attemptedAt: toMs(r.attempted_at),
    durationMs: r.duration_ms,
    statusCode: r.status_code,
    responseBody: r.response_body,
    error: r.error,
  }
}

export function toMessage(r: MessageRow): Message {
  return { id: r.id, event: r.event, rowId: r.row_id, body: r.body, createdAt: toMs(r.created_at) }
}

/** A subscription row with a patch applied, as both stores write it back. */
export function applyPatch(row: SubscriptionRow, patch: SubscriptionPatch) {
  const status = patch.status ?? (row.status as SubscriptionState)
  return {
    status,
    targetUrl: patch.targetUrl ?? row.target_url,
    headers: JSON.stringify(patch.headers ?? parseJson(row.headers)),
    // An explicit reason wins; re-enabling clears it; otherwise it stays.
    disabledReason:
      patch.disabledReason !== undefined
        ? patch.disabledReason
        : status === 'active'
          ? null
          : row.disabled_reason,
    ordering: patch.ordering ?? row.ordering,
    maxConcurrency: patch.maxConcurrency !== undefined ? patch.maxConcurrency : row.max_concurrency,
    /** Re-enabled: its run of failures starts afresh. */
    reenabled: status === 'active' && row.status !== 'active',
  }
}

/** The secrets that sign a delivery now: the current one, plus the previous one in its grace period. */
export function signingSecrets(r: JobRow, now: number): string[] {
  const expires = toMsOrNull(r.previous_secret_expires_at)
  return r.previous_secret && expires !== null && expires > now
    ? [r.secret, r.previous_secret]
    : [r.secret]
}

export function toJob(r: JobRow, now: number) {
  return {
    id: r.id,
    messageId: r.message_id,
    subscriptionId: r.subscription_id,
    event: r.event,
    body: r.body,
    targetUrl: r.target_url,
    secrets: signingSecrets(r, now),
    headers: parseJson<Record<string, string>>(r.headers),
    attempts: r.attempts,
    maxConcurrency: r.max_concurrency,
    strict: r.ordering === 'strict',
  }
}
